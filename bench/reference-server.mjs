// The references the server is measured against: a bare Koa 3 + @koa/router route answering fixed
// JSON, and the same route building one chat+RTC AccessToken2 per request (no database, no bearer).
import { createServer } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { AccessToken2, ServiceChat, ServiceRtc } from 'agora-token/src/AccessToken2.js';

const [mode, port] = process.argv.slice(2);
const APP_ID = '0123456789abcdef0123456789abcdef';
const APP_CERT = 'fedcba9876543210fedcba9876543210';

const app = new Koa();
const router = new Router();
router.get('/fixed', (ctx) => {
  ctx.body = { code: 200, accessToken: 'x'.repeat(200), expireTimestamp: 1, chatUserName: 'jack', agoraUid: '1' };
});
router.get('/token', (ctx) => {
  const now = Math.floor(Date.now() / 1000);
  const token = new AccessToken2(APP_ID, APP_CERT, now, 86400);
  const chat = new ServiceChat('jack');
  chat.add_privilege(ServiceChat.kPrivilegeUser, 86400);
  token.add_service(chat);
  const rtc = new ServiceRtc(String(ctx.query.channelName ?? 'room'), 12345);
  for (const p of [1, 2, 3, 4]) rtc.add_privilege(p, 86400);
  token.add_service(rtc);
  ctx.body = { code: 200, accessToken: token.build(), expireTimestamp: (now + 86400) * 1000, chatUserName: 'jack', agoraUid: '12345' };
});
app.use(router.routes());
createServer(app.callback()).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
