// Preloaded by profile-token.mjs (PROFILE_ELD=1) into the measured process: event-loop delay and GC
// pauses since the last report, sent to the parent on request. Not part of the server.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
let gc = { count: 0, totalMs: 0, maxMs: 0, scavenges: 0, marks: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    if (e.detail?.kind === 1) gc.scavenges++;
    else gc.marks++;
  }
}).observe({ entryTypes: ['gc'] });
// The largest memory figures seen since the last report (sampled), to tell heap from native growth.
let peak = {};
const sampleMemory = () => {
  for (const [k, v] of Object.entries(process.memoryUsage())) peak[k] = Math.max(peak[k] ?? 0, v);
};
setInterval(sampleMemory, 50).unref();
process.on('message', (m) => {
  if (m !== 'eld') return;
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.send?.({ eldP50: ms(eld.percentile(50)), eldP99: ms(eld.percentile(99)), eldMax: ms(eld.max), gcCount: gc.count, gcMs: Math.round(gc.totalMs), gcMaxMs: Math.round(gc.maxMs * 10) / 10, scav: gc.scavenges, marks: gc.marks, peakMb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 2 ** 20)])) });
  peak = {};
  eld.reset();
  gc = { count: 0, totalMs: 0, maxMs: 0, scavenges: 0, marks: 0 };
});
