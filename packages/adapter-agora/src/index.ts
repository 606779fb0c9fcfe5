export { AgoraChatProvisioner, MAX_BATCH_SIZE, type AgoraChatProvisionerOptions } from './agora-chat-provisioner.js';
export { AgoraTokenIssuer, DEFAULT_VERIFIED_CACHE_SIZE, type AgoraTokenIssuerOptions } from './agora-token-issuer.js';
export { AgoraNetworkError, AgoraResponseError } from './agora-errors.js';
export { parseAppKey, type AppKeyParts } from './app-key.js';
export { AGORA_CREDENTIAL_PATTERN } from './credentials.js';
export { parseRestApiUrl } from './rest-api-url.js';
