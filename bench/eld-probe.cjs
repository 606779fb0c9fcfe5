'use strict';
// Preloaded (node --require) into every server process the bench starts, references and cluster
// workers included: samples the process's event-loop delay with perf_hooks, so each run's delay can
// be printed next to its throughput without the server's metrics (a metrics-off run stays
// metrics-free, and every server pays the same small timer). On SIGUSR2 it writes what it saw since
// the previous SIGUSR2 to BENCH_ELD_DIR/<pid>.json and starts over.
const { isMainThread } = require('node:worker_threads');

const dir = process.env.BENCH_ELD_DIR;
if (dir && isMainThread) {
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const { renameSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  process.on('SIGUSR2', () => {
    const file = join(dir, `${process.pid}.json`);
    const stats = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), samples: histogram.count };
    histogram.reset();
    // Written whole, then renamed: the bench never reads half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify(stats));
    renameSync(`${file}.tmp`, file);
  });
}
