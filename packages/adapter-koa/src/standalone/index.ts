/**
 * The standalone chat-app-server: configuration, the inversify composition root, and the server
 * lifecycle. Loads knex and the Agora adapters; embedders who only need HTTP routes import the root
 * entry point instead.
 */
export { SETTINGS, readSettings, type Settings } from './settings.js';
export { loadConfig, readEnvironment, ConfigError, type ServerConfig, type AgoraConfig, type Env, type LogLevel } from './config.js';
export {
  createContainer, resolveComposition,
  type AgoraSettings, type Composition, type ContainerInputs, type ProvisionerTuning,
} from './container.js';
export { PrometheusMetrics, startMetricsServer } from './metrics.js';
export { ChatServiceCheck, type ChatServiceState } from './chat-service-check.js';
export { buildServer, startServer, type ChatAppServer, type ServerOverrides } from './server.js';
