import 'reflect-metadata';
import {
  ChannelMemberStore, ChatProvisioner, ChatServiceMisconfiguredError, ChatUsernamePolicy, Clock, createCore, DefaultChatUsernamePolicy,
  LoginThrottle, Logger, PasswordHasher, ScryptPasswordHasher, SystemClock, TokenIssuer, UserRepository, registrationLeaseProblem,
  type CachedPrincipal, type Core, type Observer,
} from '@chat-app-server/core';
import { AgoraChatProvisioner, AgoraTokenIssuer } from '@chat-app-server/adapter-agora';
import { KnexChannelMemberStore, KnexLoginThrottle, KnexUserRepository, type createDatabase } from '@chat-app-server/adapter-knex';
import { Container } from 'inversify';
import { LRUCache } from 'lru-cache';
import type Koa from 'koa';
import type { Logger as PinoLogger } from 'pino';
import { createApp } from '../http/app.js';
import { ChatServiceCheck } from './chat-service-check.js';
import { ConfigError, MAX_WINDOW_SECONDS, type ServerConfig } from './config.js';
import type { PrometheusMetrics } from './metrics.js';

type Knex = ReturnType<typeof createDatabase>;

/** Injection ids of the standalone server's own parts (core's ports have theirs in core). */
export const TYPES = {
  Config: Symbol.for('chat-app-server.standalone.Config'),
  Knex: Symbol.for('chat-app-server.standalone.Knex'),
  AgoraSettings: Symbol.for('chat-app-server.standalone.AgoraSettings'),
  Pino: Symbol.for('chat-app-server.standalone.Pino'),
  AgoraChatProvisioner: Symbol.for('chat-app-server.standalone.AgoraChatProvisioner'),
  ChatServiceCheck: Symbol.for('chat-app-server.standalone.ChatServiceCheck'),
  Core: Symbol.for('chat-app-server.standalone.Core'),
  App: Symbol.for('chat-app-server.standalone.App'),
} as const;

/** Where Agora is, after the emulator (if any) has started. */
export interface AgoraSettings {
  readonly appId: string;
  readonly appCertificate: string;
  readonly appKey: string;
  readonly restApiUrl: string;
}

/** Tuning of the Agora REST client (tests shorten it to exercise faults quickly). */
export interface ProvisionerTuning {
  readonly timeoutMs?: number;
  readonly deadlineMs?: number;
  readonly retries?: number;
  readonly retryBaseDelayMs?: number;
}

/** What the composition root is given: built resources and optional replacements. */
export interface ContainerInputs {
  readonly config: ServerConfig;
  readonly knex: Knex;
  readonly agora: AgoraSettings;
  readonly logger: PinoLogger;
  /** Replaces the default OWASP-grade scrypt hasher (tests pass cheap parameters). */
  readonly passwordHasher?: PasswordHasher;
  readonly clock?: Clock;
  readonly provisioner?: ProvisionerTuning;
  /** Receives core's and the adapters' events and the HTTP requests (when metrics are on). */
  readonly metrics?: PrometheusMetrics;
}

/**
 * The composition root: binds core's port ids to the Knex and Agora adapters, then the core and the
 * Koa app. Resolved once at start-up by {@link resolveComposition}; nothing calls the container later.
 */
export function createContainer(inputs: ContainerInputs): Container {
  const { config } = inputs;
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<ServerConfig>(TYPES.Config).toConstantValue(config);
  container.bind<Knex>(TYPES.Knex).toConstantValue(inputs.knex);
  container.bind<AgoraSettings>(TYPES.AgoraSettings).toConstantValue(inputs.agora);
  container.bind<PinoLogger>(TYPES.Pino).toConstantValue(inputs.logger);
  container.bind<Logger>(Logger).toConstantValue(inputs.logger);
  container.bind<Clock>(Clock).toConstantValue(inputs.clock ?? new SystemClock());
  const { metrics } = inputs;
  const observed: { observer?: Observer } = metrics ? { observer: metrics } : {};
  container.bind<PasswordHasher>(PasswordHasher).toConstantValue(inputs.passwordHasher ?? new ScryptPasswordHasher({ ...observed, logger: inputs.logger }));
  container.bind<ChatUsernamePolicy>(ChatUsernamePolicy).toConstantValue(new DefaultChatUsernamePolicy());

  container.bind<UserRepository>(UserRepository).toResolvedValue((knex: Knex) => new KnexUserRepository(knex), [TYPES.Knex]);
  container.bind<ChannelMemberStore>(ChannelMemberStore).toResolvedValue((knex: Knex) => new KnexChannelMemberStore(knex), [TYPES.Knex]);
  container
    .bind<LoginThrottle>(LoginThrottle)
    .toResolvedValue(
      (knex: Knex) => new KnexLoginThrottle(knex, { longestWindowSeconds: MAX_WINDOW_SECONDS }),
      [TYPES.Knex],
    );
  container
    .bind<AgoraChatProvisioner>(TYPES.AgoraChatProvisioner)
    .toResolvedValue(
      (agora: AgoraSettings, logger: Logger, clock: Clock) =>
        new AgoraChatProvisioner({ ...agora, ...inputs.provisioner, logger, clock, ...observed }),
      [TYPES.AgoraSettings, Logger, Clock],
    );
  container.bind<ChatProvisioner>(ChatProvisioner).toService(TYPES.AgoraChatProvisioner);
  container
    .bind<ChatServiceCheck>(TYPES.ChatServiceCheck)
    .toResolvedValue(
      (provisioner: AgoraChatProvisioner, logger: PinoLogger, cfg: ServerConfig) =>
        new ChatServiceCheck({
          check: () => provisioner.checkCredentials(),
          logger,
          intervalMs: cfg.agoraCheckIntervalSeconds * 1000,
          ...(metrics ? { onState: (state) => metrics.setChatServiceState(state) } : {}),
        }),
      [TYPES.AgoraChatProvisioner, TYPES.Pino, TYPES.Config],
    );
  container
    .bind<TokenIssuer>(TokenIssuer)
    .toResolvedValue(
      (agora: AgoraSettings, cfg: ServerConfig, clock: Clock) =>
        new AgoraTokenIssuer({
          appId: agora.appId,
          appCertificate: agora.appCertificate,
          lifetimeSeconds: cfg.tokenExpireSeconds,
          subjectKind: cfg.chatTokenSubject,
          verifiedCacheSize: cfg.verifiedTokenCacheSize,
          clock,
        }),
      [TYPES.AgoraSettings, TYPES.Config, Clock],
    );
  container
    .bind<Core>(TYPES.Core)
    .toResolvedValue(
      (
        users: UserRepository, chatProvisioner: ChatProvisioner, tokens: TokenIssuer, passwordHasher: PasswordHasher,
        clock: Clock, loginThrottle: LoginThrottle, chatUsernamePolicy: ChatUsernamePolicy, logger: Logger, cfg: ServerConfig,
        channelMembers: ChannelMemberStore,
      ) => {
        // Refused at start-up: a lease that ends while Agora may still be creating the chat user lets a
        // second attempt take the registration over needlessly. Unset, core derives it from the deadline.
        const leaseProblem = cfg.registrationLeaseSeconds === undefined
          ? undefined : registrationLeaseProblem(cfg.registrationLeaseSeconds, chatProvisioner.deadlineMs);
        if (leaseProblem) throw new ConfigError([`REGISTRATION_LEASE_SECONDS ${leaseProblem}.`]);
        return createCore({
          users, chatProvisioner, tokens, passwordHasher, clock, loginThrottle, chatUsernamePolicy, logger, channelMembers,
          passwordMinLength: cfg.passwordMinLength, ...observed,
          ...(cfg.registrationLeaseSeconds === undefined ? {} : { registrationLeaseSeconds: cfg.registrationLeaseSeconds }),
          loginLimits: {
            maxFailures: cfg.loginMaxFailures,
            maxFailuresPerAccount: cfg.loginMaxFailuresPerAccount,
            windowSeconds: cfg.loginFailureWindowSeconds,
          },
          registrationLimits: { maxPerAddress: cfg.registerMaxPerAddress, windowSeconds: cfg.registerWindowSeconds },
          ...(cfg.principalCacheSize > 0
            ? { principalCache: new LRUCache<string, CachedPrincipal>({ max: cfg.principalCacheSize }), principalCacheTtlSeconds: cfg.principalCacheTtlSeconds }
            : {}),
        });
      },
      [UserRepository, ChatProvisioner, TokenIssuer, PasswordHasher, Clock, LoginThrottle, ChatUsernamePolicy, Logger, TYPES.Config, ChannelMemberStore],
    );
  container
    .bind<Koa>(TYPES.App)
    .toResolvedValue(
      (core: Core, knex: Knex, logger: PinoLogger, cfg: ServerConfig, check: ChatServiceCheck) =>
        createApp(core, {
          tokenAuth: cfg.tokenAuth,
          corsOrigins: cfg.corsOrigins,
          proxy: cfg.trustProxy,
          logger,
          readiness: async () => {
            await knex.raw('select 1');
            if (check.state === 'misconfigured') {
              throw new ChatServiceMisconfiguredError('The chat service refused this server\'s credentials; see the server log.');
            }
            return { database: 'ok', chatService: check.state };
          },
          ...(metrics ? { observeRequest: metrics.observeRequest } : {}),
        }),
      [TYPES.Core, TYPES.Knex, TYPES.Pino, TYPES.Config, TYPES.ChatServiceCheck],
    );
  return container;
}

/** The parts the server runs with, resolved once. */
export interface Composition {
  readonly core: Core;
  readonly app: Koa;
  readonly users: UserRepository;
  readonly passwordHasher: PasswordHasher;
  readonly tokens: TokenIssuer;
  readonly chatProvisioner: ChatProvisioner;
  readonly loginThrottle: LoginThrottle;
  readonly chatServiceCheck: ChatServiceCheck;
}

export function resolveComposition(container: Container): Composition {
  return {
    core: container.get<Core>(TYPES.Core),
    app: container.get<Koa>(TYPES.App),
    users: container.get<UserRepository>(UserRepository),
    passwordHasher: container.get<PasswordHasher>(PasswordHasher),
    tokens: container.get<TokenIssuer>(TokenIssuer),
    chatProvisioner: container.get<ChatProvisioner>(ChatProvisioner),
    loginThrottle: container.get<LoginThrottle>(LoginThrottle),
    chatServiceCheck: container.get<ChatServiceCheck>(TYPES.ChatServiceCheck),
  };
}
