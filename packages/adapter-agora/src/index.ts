export { AgoraChatProvisioner, DEFAULT_AGORA_DEADLINE_MS, MAX_BATCH_SIZE, type AgoraChatProvisionerOptions } from './agora-chat-provisioner.js';
export { AgoraTokenIssuer, DEFAULT_VERIFIED_CACHE_SIZE, type AgoraTokenIssuerOptions } from './agora-token-issuer.js';
export { AgoraNetworkError, AgoraResponseError } from './agora-errors.js';
export { parseAppKey, type AppKeyParts } from './app-key.js';
export {
  createAgoraAdapters, readAgoraSettings, startDevelopmentEmulator, isDevelopmentEnv, AgoraConfigError,
  type AgoraAdapters, type AgoraConfig, type AgoraOptions, type AgoraEnvSettings, type AgoraEnvReading, type CreateAgoraAdaptersOptions,
} from './config.js';
