// One autocannon run in its own process, so that two loads measured at once do not share (and
// distort) one event loop. The parent sends a plain description; functions are built here.
// Autocannon resends as soon as an answer arrives, whatever it is: right for /token and for the login
// flood (a retry storm); login and register runs use accounts-load.mjs, whose clients honour Retry-After.
import autocannon from 'autocannon';

process.once('message', async (spec) => {
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
  process.send({
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
  });
});
