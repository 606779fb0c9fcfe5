// One load run in its own process, so that two loads measured at once do not share (and distort) one
// event loop. The parent sends a plain description; functions are built here.
// Both load generators resend as soon as an answer arrives, whatever it is: right for /token and for
// the login flood (a retry storm); login and register runs use accounts-load.mjs, whose clients
// honour Retry-After.
// The generator: wrk (C, a few times cheaper per request than autocannon, so on a small machine more
// of the CPU is left to the server measured) when it is on the PATH, else autocannon; BENCH_LOADER=wrk
// or autocannon chooses. Loads with request bodies (the flood) always use autocannon, which counts
// answers by status.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export function loaderName() {
  const chosen = process.env.BENCH_LOADER;
  if (chosen && chosen !== 'wrk' && chosen !== 'autocannon') throw new Error(`BENCH_LOADER must be wrk or autocannon, got "${chosen}"`);
  if (chosen) return chosen;
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return 'wrk';
  } catch (err) {
    // wrk prints its version and usage, and exits with 1: found.
    return err.code === 'ENOENT' ? 'autocannon' : 'wrk';
  }
}

// Run as the parent's child (not imported for loaderName).
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', async (spec) => {
    process.send(spec.accounts || loaderName() === 'autocannon' ? await withAutocannon(spec) : await withWrk(spec));
  });
}

async function withAutocannon(spec) {
  // `timeout` (seconds): a request unanswered this long counts as a timeout (and its connection is renewed).
  const options = { url: spec.url, connections: spec.connections, duration: spec.duration, timeout: spec.timeout ?? 10 };
  if (spec.bearers) {
    let next = 0;
    // Each connection is one user holding one bearer token, as a real client would.
    options.setupClient = (client) => client.setHeaders({ authorization: `Bearer ${spec.bearers[next++ % spec.bearers.length]}` });
  }
  if (spec.channels) {
    let n = 0;
    // Every request a channel of its own among `channels`: each (channel, user) pair is a new mapper entry once.
    options.requests = [{ setupRequest: (req) => ({ ...req, path: spec.path.replace('{channel}', `${spec.channelPrefix}${n++ % spec.channels}`) }) }];
  }
  if (spec.accounts) {
    let n = 0;
    const { prefix, count, password } = spec.accounts;
    options.method = 'POST';
    options.headers = { 'content-type': 'application/json' };
    options.requests = [{
      setupRequest: (req) => ({
        ...req,
        body: JSON.stringify({ userAccount: `${prefix}${count ? n++ % count : n++}`, userPassword: password }),
      }),
    }];
  }
  const r = await autocannon(options);
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]));
  return {
    rps: r.requests.average,
    total: r.requests.total,
    ok2xx: r['2xx'] / r.duration,
    statusCodes,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
  };
}

// wrk with one thread; a Lua script rotates the bearers (one request each, in turn) and the channels.
async function withWrk(spec) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(dir, 'load.lua');
  const url = new URL(spec.url);
  const lua = (value) => JSON.stringify(value); // a JSON string is a Lua string literal for these characters
  writeFileSync(script, `
local bearers = { ${(spec.bearers ?? []).map(lua).join(', ')} }
local channels = ${spec.channels ?? 0}
local template = ${lua(spec.path ?? '')}
local prefix = ${lua(spec.channelPrefix ?? '')}
local fixed = {}
local n = 0
init = function()
  for i, bearer in ipairs(bearers) do fixed[i] = wrk.format(nil, nil, { Authorization = "Bearer " .. bearer }) end
end
if #bearers > 0 or channels > 0 then
  request = function()
    n = n + 1
    if channels == 0 then return fixed[(n % #bearers) + 1] end
    local path = string.gsub(template, "{channel}", prefix .. (n % channels))
    local headers = nil
    if #bearers > 0 then headers = { Authorization = "Bearer " .. bearers[(n % #bearers) + 1] } end
    return wrk.format(nil, path, headers)
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`);
  try {
    const stdout = await new Promise((resolve, reject) => {
      execFile('wrk', ['-t1', `-c${spec.connections}`, `-d${spec.duration}s`, `--timeout`, `${spec.timeout ?? 10}s`, '-s', script, url.href], (err, out) => (err ? reject(err) : resolve(out)));
    });
    const w = JSON.parse(stdout.trim().split('\n').at(-1));
    const seconds = w.durationUs / 1e6;
    const ok = w.requests - w.status;
    const ms = (us) => Math.round(us / 1000);
    return {
      rps: w.requests / seconds,
      total: w.requests,
      ok2xx: ok / seconds,
      // wrk tells answers below 400 from the others, not each status.
      statusCodes: { '<400': ok, ...(w.status ? { '>=400': w.status } : {}) },
      non2xx: w.status,
      errors: w.connect + w.read + w.write + w.timeout,
      timeouts: w.timeout,
      p50: ms(w.p50),
      p99: ms(w.p99),
      max: ms(w.max),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
