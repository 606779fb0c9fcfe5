/** The form of an Agora App ID and of an App Certificate: 32 hexadecimal characters. */
export const AGORA_CREDENTIAL_PATTERN = /^[0-9a-fA-F]{32}$/;

/**
 * agora-token silently returns '' for a malformed App ID or certificate, so check at construction
 * and name the setting, never its value (the certificate is a secret).
 */
export function assertAgoraCredentials(appId: unknown, appCertificate: unknown): void {
  if (typeof appId !== 'string' || !AGORA_CREDENTIAL_PATTERN.test(appId)) {
    throw new TypeError('The Agora App ID must be 32 hexadecimal characters.');
  }
  if (typeof appCertificate !== 'string' || !AGORA_CREDENTIAL_PATTERN.test(appCertificate)) {
    throw new TypeError('The Agora App Certificate must be 32 hexadecimal characters.');
  }
}
