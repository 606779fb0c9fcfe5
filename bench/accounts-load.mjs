// Login and register runs: `connections` clients, each on its own keep-alive connection, sending one
// request at a time (a new account per request for register, the seeded accounts with their correct
// passwords for login) and, like the sample apps' retry logic should, waiting out the Retry-After of a
// 503 or 429 before the next one. Autocannon would resend at once and turn a 4-client run into a flood
// of shed answers (the flood is measured on its own, with autocannon). Runs in its own process.
import { Agent, request } from 'node:http';

process.once('message', async (spec) => {
  const { url, connections, duration, accounts: { prefix, count, password } } = spec;
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const started = performance.now();
  const end = started + duration * 1000;
  const latencies = [];
  const statusCodes = {};
  let ok = 0;
  let errors = 0;
  let n = 0;

  const post = (body) => new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'POST', agent, timeout: 10_000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });

  const client = async () => {
    while (performance.now() < end) {
      const body = JSON.stringify({ userAccount: `${prefix}${count ? n++ % count : n++}`, userPassword: password });
      const sent = performance.now();
      let res;
      try {
        res = await post(body);
      } catch {
        errors++;
        continue;
      }
      const answered = performance.now();
      // Answered after the run ended: waited for (the next run must start on a quiet server), not counted.
      if (answered > end) break;
      latencies.push(answered - sent);
      statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1;
      if (res.statusCode >= 200 && res.statusCode < 300) ok++;
      const retryAfter = Number(res.headers['retry-after']);
      if ((res.statusCode === 503 || res.statusCode === 429) && retryAfter > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter * 1000, Math.max(0, end - performance.now()))));
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]) : 0);
  const seconds = duration;
  const answers = latencies.length;
  process.send({
    rps: answers / seconds,
    total: answers,
    ok2xx: ok / seconds,
    statusCodes,
    non2xx: answers - ok,
    errors,
    timeouts: 0,
    p50: at(0.5),
    p99: at(0.99),
    max: Math.round(latencies.at(-1) ?? 0),
  });
});
