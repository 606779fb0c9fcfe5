export { AgoraChatProvisioner, MAX_BATCH_SIZE } from './agora-chat-provisioner.js';
export type { AgoraChatProvisionerOptions } from './agora-chat-provisioner.js';
export { AgoraTokenIssuer } from './agora-token-issuer.js';
export type { AgoraTokenIssuerOptions } from './agora-token-issuer.js';
export { AgoraNetworkError, AgoraResponseError } from './agora-errors.js';
export { parseAppKey } from './app-key.js';
export type { AppKeyParts } from './app-key.js';
export {
  createAgoraAdapters, readAgoraSettings, startDevelopmentEmulator, AgoraConfigError, DEVELOPMENT_AGORA,
  type AgoraAdapters, type AgoraConfig, type AgoraOptions, type AgoraEnvSettings, type AgoraEnvReading, type CreateAgoraAdaptersOptions,
} from './config.js';
