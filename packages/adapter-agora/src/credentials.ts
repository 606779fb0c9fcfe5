const HEX32 = /^[0-9a-fA-F]{32}$/;

/**
 * agora-token silently returns '' for a malformed App ID or certificate, so check at construction
 * and name the setting, never its value (the certificate is a secret).
 */
export function assertAgoraCredentials(appId: unknown, appCertificate: unknown): void {
  if (typeof appId !== 'string' || !HEX32.test(appId)) {
    throw new TypeError('The Agora App ID must be 32 hexadecimal characters.');
  }
  if (typeof appCertificate !== 'string' || !HEX32.test(appCertificate)) {
    throw new TypeError('The Agora App Certificate must be 32 hexadecimal characters.');
  }
}
