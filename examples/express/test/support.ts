import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** One HTTP call to the example, as the signed-in user `userId` (none: signed out). */
export async function call(baseUrl: string, method: 'GET' | 'POST', path: string, userId?: string): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers: userId === undefined ? {} : { 'X-User-Id': userId } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

export type Child = ChildProcessByStdio<null, Readable, Readable>;

/** Runs `node args...` and waits for the first stdout line matching `ready`; returns its match. */
export async function startProcess(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: Child; match: RegExpMatchArray; output: string[] }> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
  const lines = createInterface({ input: child.stdout });
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    lines.on('line', (line) => {
      output.push(line);
      const found = ready.exec(line);
      if (found) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before it was ready:\n${output.join('\n')}`)));
  });
  return { child, match, output };
}

/** SIGTERM, then the exit code. */
export async function stopProcess(child: Child): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}
