import cliProgress from 'cli-progress';

/** Shows how far a long job is: a bar on a terminal, a line every few seconds anywhere else. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  readonly stream: NodeJS.WriteStream;
  /** Seconds between lines when the stream is not a terminal. @default 5 */
  readonly intervalSeconds?: number;
}

export function startProgress({ label, total, stream, intervalSeconds = 5 }: ProgressOptions): Progress {
  const started = Date.now();
  const rate = (done: number) => done / Math.max(0.001, (Date.now() - started) / 1000);
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream,
      format: `${label} {bar} {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}`,
      etaBuffer: 50,
      hideCursor: true,
      clearOnComplete: false,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { rate: '0' });
    return {
      update: (done) => bar.update(done, { rate: rate(done).toFixed(0) }),
      stop: () => bar.stop(),
    };
  }
  let done = 0;
  const line = () => {
    const perSecond = rate(done);
    const left = perSecond > 0 ? Math.ceil((total - done) / perSecond) : undefined;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    stream.write(`${label}: ${done}/${total} rows (${percent}%), ${perSecond.toFixed(0)} rows/s${left === undefined ? '' : `, about ${left} s left`}\n`);
  };
  const timer = setInterval(line, intervalSeconds * 1000);
  timer.unref();
  return {
    update: (n) => { done = n; },
    stop: () => {
      clearInterval(timer);
      line();
    },
  };
}
