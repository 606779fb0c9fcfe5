// agora-token ships typings for its root builders only; this covers the deep module we use to
// control issueTs (Clock port) and to combine Chat + RTC services in one token.
declare module 'agora-token/src/AccessToken2.js' {
  interface ParsedService {
    __type: number;
    __privileges: Record<number, number>;
    __user_id?: Buffer | string;
    __channel_name?: Buffer | string;
    __uid?: Buffer | string;
  }

  export class AccessToken2 {
    constructor(appId?: string, appCertificate?: string, issueTs?: number, expire?: number);
    appId: string | Buffer;
    issueTs: number;
    expire: number;
    salt: number;
    add_service(service: ServiceChat | ServiceRtc): void;
    getServices(type: number): ParsedService[];
    /** '' when the App ID / certificate is not 32 hex characters or no service was added. */
    build(): string;
    from_string(token: string): boolean;
    verifySignature(appCertificate: string): boolean;
  }

  export class ServiceChat {
    constructor(userId?: string);
    add_privilege(privilege: number, expire: number): void;
    static readonly kPrivilegeUser: 1;
    static readonly kPrivilegeApp: 2;
  }

  export class ServiceRtc {
    constructor(channelName: string, uid: number | string);
    add_privilege(privilege: number, expire: number): void;
    static readonly kPrivilegeJoinChannel: 1;
    static readonly kPrivilegePublishAudioStream: 2;
    static readonly kPrivilegePublishVideoStream: 3;
    static readonly kPrivilegePublishDataStream: 4;
  }

  export const kChatServiceType: 5;
  export const kRtcServiceType: 1;
}
