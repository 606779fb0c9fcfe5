// Prints microseconds per token build and verification (run after a build: node bench/token-issuer.bench.mjs).
import { AgoraTokenIssuer } from '../dist/index.js';
const issuer = new AgoraTokenIssuer({ appId: '0123456789abcdef0123456789abcdef', appCertificate: 'fedcba9876543210fedcba9876543210' });
const s = { chatUsername: 'jack', chatUuid: null };
for (let i = 0; i < 2000; i++) await issuer.issueChatRtcToken(s, { channelName: 'room', agoraUid: 123, publisher: true });
let n = 20000, t = performance.now();
const toks = [];
for (let i = 0; i < n; i++) toks.push((await issuer.issueChatRtcToken(s, { channelName: 'room', agoraUid: 123, publisher: true })).token);
console.log('build chat+rtc us', ((performance.now() - t) * 1000 / n).toFixed(1));
t = performance.now();
for (let i = 0; i < n; i++) await issuer.verifyChatToken(toks[i]);
console.log('verify (cold, cache churn) us', ((performance.now() - t) * 1000 / n).toFixed(1));
t = performance.now();
for (let i = 0; i < n; i++) await issuer.verifyChatToken(toks[n - 1]);
console.log('verify (cached) us', ((performance.now() - t) * 1000 / n).toFixed(1));
