// The archive side of `cryo dump -o` and `cryo restore -i`: the command files call these so that
// their own edits stay a few lines. SIGINT/SIGTERM/SIGHUP abort the write (the tree is resumed,
// the partial file removed) instead of killing cryo.
import type { DumpToArchiveOptions } from './dump.js';
import type { RestoreFromArchiveOptions } from './restore.js';

/** Runs `fn` with an AbortSignal that fires on SIGINT, SIGTERM or SIGHUP. */
export async function withTerminationSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (s: NodeJS.Signals) => ac.abort(s);
  for (const s of signals) process.on(s, onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

function toStderrOrStdout(toStdout: boolean, value: unknown): void {
  const text = `${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
  (toStdout ? process.stdout : process.stderr).write(text);
}

/** `cryo dump PID -o FILE|-`. With `-o -` the archive owns stdout, so --json goes to stderr. */
export async function dumpArchiveCommand(pid: number, output: string, opts: DumpToArchiveOptions, json?: boolean): Promise<void> {
  const { dumpToArchive } = await import('./dump.js');
  const { humanBytes } = await import('./progress.js');
  const r = await withTerminationSignals((signal) => dumpToArchive(pid, output, { ...opts, signal }));
  if (json) {
    toStderrOrStdout(output !== '-', {
      pid: r.pid, rootPid: r.rootPid, archive: r.archive, bytes: r.bytes, rawBytes: r.rawBytes, frozenMs: r.frozenMs ?? null,
      dumpMs: r.dumpMs, writeMs: r.writeMs, tree: r.tree, pids: r.pids, stats: r.stats ?? null,
    });
  } else {
    const frozen = r.frozenMs === undefined ? '' : `, frozen ${r.frozenMs.toFixed(1)} ms`;
    process.stderr.write(`dumped ${r.pid} into ${r.archive === '-' ? 'stdout' : r.archive}: ${humanBytes(r.rawBytes)} of images in ${humanBytes(r.bytes)}${frozen}; ${r.tree === 'running' ? 'the tree still runs' : 'the tree ended'}\n`);
  }
}

/** `cryo restore -i FILE|-`: prints the restored pid (or JSON). */
export async function restoreArchiveCommand(input: string, opts: RestoreFromArchiveOptions, json?: boolean): Promise<void> {
  const { restoreFromArchive } = await import('./restore.js');
  const r = await withTerminationSignals((signal) => restoreFromArchive(input, { ...opts, signal }));
  if (json) {
    toStderrOrStdout(true, {
      pid: r.pid, rootPid: r.rootPid, archive: input, pidns: r.pidns, wallMs: r.wallMs, extractMs: r.extractMs, restoreMs: r.restoreMs,
      bytes: r.bytes, rawBytes: r.manifest.totalBytes, stats: r.stats ?? null,
    });
  } else process.stdout.write(`${r.pid}\n`);
}
