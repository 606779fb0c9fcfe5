/**
 * The standalone chat-app-server: configuration, the inversify composition root, and the server
 * lifecycle. Loads knex and the Agora adapters; embedders who only need HTTP routes import the root
 * entry point instead.
 */
export {
  loadConfig, loadDatabaseConfig, readEnvironment, ConfigError, DEFAULT_DATABASE_URL,
  type ServerConfig, type AgoraConfig, type Env, type LogLevel,
} from './config.js';
export { createContainer, resolveComposition, TYPES, type AgoraSettings, type Composition, type ContainerInputs, type ProvisionerTuning } from './container.js';
export { PrometheusMetrics, startMetricsServer } from './metrics.js';
export { ChatServiceCheck, type ChatServiceState } from './chat-service-check.js';
export { buildServer, startServer, createLogger, DEVELOPMENT_AGORA, type ChatAppServer, type ServerOverrides } from './server.js';
