// What Agora's sample apps (AgoraIO/Agora-Chat-API-Examples) send to their app server and what they
// check in the answer, re-stated in TypeScript from each app's code. Each function returns what the
// app ends up doing: the chat SDK login it performs, the message it shows, or the crash it meets.
import { request, type HttpResponse } from './http.js';

/** An app's outcome of logging in: the chat SDK login it would perform. */
export interface SdkLogin {
  /** The user name the app passes to the chat SDK. */
  readonly username: string;
  readonly token: string;
}

/** What a sign-up screen shows. */
export type SignUp = { readonly ok: true } | { readonly ok: false; readonly shown: string };

/** A runtime failure of the app itself (an exception in Java, an unrecognized selector in Objective-C). */
export class AppCrash extends Error {}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function post(base: string, path: string, body: Record<string, string>, headers: Record<string, string> = JSON_HEADERS): Promise<HttpResponse> {
  return request(base, 'POST', path, { headers, body: JSON.stringify(body) });
}

/** org.json's JSONObject.getString: a missing key throws; numbers and booleans are turned into strings. */
function jsonGetString(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  if (value === undefined || value === null) throw new AppCrash(`JSONException: No value for ${key}`);
  if (typeof value === 'object') throw new AppCrash(`JSONException: ${key} is not a string`);
  return String(value);
}

/** Objective-C: `[value isEqualToString:...]` on an NSNumber raises an unrecognized-selector exception. */
function objcString(value: unknown, selector: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AppCrash(`-[__NSCFNumber ${selector}]: unrecognized selector sent to instance`);
  return value;
}

/** Android quick start: Chat-Android/app/src/main/java/io/agora/agorachatquickstart/utils/AccountHelper.java */
export const android = {
  /** signUp(): HTTP 200 and `code` equal to "RES_OK", otherwise it shows `errorInfo` (or the raw answer on another status). */
  async signUp(base: string, username: string, pwd: string): Promise<SignUp> {
    const res = await post(base, '/app/chat/user/register', { userAccount: username, userPassword: pwd });
    if (res.status !== 200 || res.text.length === 0) return { ok: false, shown: res.text };
    const object = JSON.parse(res.text) as Record<string, unknown>;
    if (jsonGetString(object, 'code') === 'RES_OK') return { ok: true };
    return { ok: false, shown: jsonGetString(object, 'errorInfo') };
  },
  /** getTokenFromServer(NEW_LOGIN or RENEW_TOKEN): HTTP 200, `accessToken`; the SDK login uses the typed user name. */
  async signIn(base: string, username: string, pwd: string): Promise<SdkLogin | { failed: string }> {
    const res = await post(base, '/app/chat/user/login', { userAccount: username, userPassword: pwd });
    if (res.status !== 200 || res.text.length === 0) return { failed: `getTokenFromAppServer failed! code: ${res.status} error: ${res.text}` };
    const object = JSON.parse(res.text) as Record<string, unknown>;
    return { username, token: jsonGetString(object, 'accessToken') };
  },
};

/** iOS Objective-C API example: ApiExample/AgoraChatApiExampleViewController.m with AgoraChatHttpRequest.m */
export const iosObjc = {
  /** registerAction: name and password lower-cased; success only when `code` isEqualToString "RES_OK". */
  async register(base: string, name: string, pswd: string): Promise<SignUp> {
    const res = await post(base, '/app/chat/user/register', { userAccount: name.toLowerCase(), userPassword: pswd.toLowerCase() });
    let dict: Record<string, unknown> | undefined;
    try {
      dict = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      return { ok: false, shown: 'Sign up failure' };
    }
    return objcString(dict.code, 'isEqualToString:') === 'RES_OK' ? { ok: true } : { ok: false, shown: 'login.signup.fail' };
  },
  /** loginAction (and the token-renewal callback): the status is ignored; `accessToken` and `chatUserName` feed the SDK login. */
  async login(base: string, name: string, pswd: string): Promise<SdkLogin | { failed: string }> {
    const res = await post(base, '/app/chat/user/login', { userAccount: name.toLowerCase(), userPassword: pswd.toLowerCase() });
    if (res.text.length === 0) return { failed: 'login appserver fail !' };
    const dict = JSON.parse(res.text) as Record<string, unknown>;
    const token = objcString(dict.accessToken, 'length');
    const loginName = objcString(dict.chatUserName, 'length');
    if (!token || token.length === 0) return { failed: 'parseing token fail !' };
    return { username: loginName ?? '', token };
  },
};

/** iOS Swift API example: Controllers/AgoraChatLoginViewController.swift with Utils/AgoraChatRequest.swift */
export const iosSwift = {
  /**
   * registerAction: registers (user name lower-cased), then, whatever the answer, logs in with the same
   * credentials; loginHandler sees that login's answer: 200 with String `accessToken` and `chatUserName`,
   * else `code == "RES_USER_ALREADY_EXISTS"` (a String) logs in again, else `errorInfo` is shown.
   */
  async register(base: string, userName: string, passWord: string): Promise<SdkLogin | { shown: string }> {
    await post(base, '/app/chat/user/register', { userAccount: userName.toLowerCase(), userPassword: passWord });
    const res = await post(base, '/app/chat/user/login', { userAccount: userName.toLowerCase(), userPassword: passWord });
    const dic = toDictionary(res.text);
    if (res.status === 200) {
      if (typeof dic.accessToken === 'string' && typeof dic.chatUserName === 'string' && dic.accessToken.length > 0) {
        return { username: dic.chatUserName, token: dic.accessToken };
      }
      return { shown: '' };
    }
    if (typeof dic.code === 'string' && dic.code === 'RES_USER_ALREADY_EXISTS') return iosSwift.login(base, userName, passWord);
    return { shown: String(dic.errorInfo ?? '') };
  },
  /** loginAction: the SDK login needs String `accessToken` and `chatUserName`. */
  async login(base: string, userName: string, passWord: string): Promise<SdkLogin | { shown: string }> {
    const res = await post(base, '/app/chat/user/login', { userAccount: userName.toLowerCase(), userPassword: passWord });
    const dic = toDictionary(res.text);
    if (typeof dic.accessToken === 'string' && typeof dic.chatUserName === 'string' && dic.accessToken.length > 0) {
      return { username: dic.chatUserName, token: dic.accessToken };
    }
    return { shown: '' };
  },
};

// ZSwiftBaseLib's Data.toDictionary(): an empty dictionary for anything that is not a JSON object.
function toDictionary(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** React Native demo: Chat-RN/message_demo_ts/app/AppServerClient.tsx, URLs set through its setters. */
export const reactNative = {
  /** req2('registerAccount' | 'getAccountToken'): success only when `code === "RES_OK"` (or the typo "RES_0K"). */
  async registerAccount(base: string, userId: string, userPassword: string): Promise<{ data: object } | { error: { code: unknown } }> {
    const value = await rnFetchJson(base, '/app/chat/user/register', 'POST', { userAccount: userId, userPassword });
    return value.code === 'RES_0K' || value.code === 'RES_OK' ? { data: {} } : { error: { code: value.code } };
  },
  async getAccountToken(base: string, userId: string, userPassword: string): Promise<{ data: { token: unknown } } | { error: { code: unknown } }> {
    const value = await rnFetchJson(base, '/app/chat/user/login', 'POST', { userAccount: userId, userPassword });
    return value.code === 'RES_0K' || value.code === 'RES_OK' ? { data: { token: value.accessToken } } : { error: { code: value.code } };
  },
  /**
   * getRtcToken (type "agora"): `${rtcTokenUrl}/${channelId}/agorauid/${userChannelId}` plus the query
   * `appkey`, `channelName`, `userAccount`, with the chat SDK's token as bearer.
   */
  async getRtcToken(base: string, p: { rtcTokenUrl: string; accessToken: string; userAccount: string; channelId: string; appKey: string; userChannelId: number }) {
    const path = `${p.rtcTokenUrl}/${p.channelId}/agorauid/${p.userChannelId}?${rnQuery(p.appKey, p.channelId, p.userAccount)}`;
    const value = await rnFetchJson(base, path, 'GET', undefined, p.accessToken);
    return value.code === 'RES_0K' || value.code === 'RES_OK'
      ? { data: { token: value.accessToken, uid: value.agoraUserId ?? p.userChannelId } }
      : { error: { code: value.code } };
  },
  /** getRtcMap: `${mapUrl}?appkey=&channelName=&userAccount=`, bearer; reads `result`. */
  async getRtcMap(base: string, p: { mapUrl: string; accessToken: string; userAccount: string; channelId: string; appKey: string }) {
    const value = await rnFetchJson(base, `${p.mapUrl}?${rnQuery(p.appKey, p.channelId, p.userAccount)}`, 'GET', undefined, p.accessToken);
    return value.code === 'RES_0K' || value.code === 'RES_OK' ? { data: { result: value.result } } : { error: { code: value.code } };
  },
};

function rnQuery(appkey: string, channelName: string, userAccount: string): string {
  return `appkey=${encodeURIComponent(appkey)}&channelName=${encodeURIComponent(channelName)}&userAccount=${encodeURIComponent(userAccount)}`;
}

// fetch(...).json(): a body that is not JSON rejects, which the demo reports as an error.
async function rnFetchJson(base: string, path: string, method: 'GET' | 'POST', body?: object, bearer?: string): Promise<Record<string, any>> {
  const headers: Record<string, string> = { Accept: 'application/json', 'Content-Type': 'application/json' };
  if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
  const res = await request(base, method, path, { headers, ...(body ? { body: JSON.stringify(body) } : {}) });
  return JSON.parse(res.text) as Record<string, any>;
}
