// Runs `cryo job` as a job system does: in the foreground, output captured, signalled by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cliPath } from '../helpers/trees.js';

export interface JobRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** settles with the exit status (128+n when cryo itself was killed by a signal) */
  done: Promise<number>;
}

export function startJobCli(args: string[]): JobRun {
  const child = spawn(process.execPath, [cliPath, 'job', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<number>((resolve) => {
    child.once('close', (code, sig) => resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : 0)));
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

/** The complete checkpoints (archives under their final names) in a job's directory, oldest first. */
export function checkpointsIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => /^job-.*\.ckpt$/.test(n)).sort();
}

/** Files an unfinished write leaves (temp archives, temp job files). */
export function partialsIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('.'));
}

/** The pid of the tree's command, from the job's "started CMD (pid N)" / "restored X (pid N)" line. */
export function treePidOf(stderr: string): number | undefined {
  const m = /(?:started|restored) .* \(pid (\d+)\)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}
