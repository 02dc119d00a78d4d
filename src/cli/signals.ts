// The terminal's and the job system's signals during a dump or restore: SIGINT, SIGTERM and SIGHUP
// abort what is not committed yet (the library resumes the tree and removes partial files) instead
// of killing cryo half-way; cryo then exits 128+n.
import { CryoError, type ExitCode } from '../errors.js';

const CODES: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export async function withTerminationSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let got: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!got) process.stderr.write(`cryo: ${sig} received; stopping cleanly, nothing will be lost\n`);
    got ??= sig;
    ac.abort(sig);
  };
  const sigs = Object.keys(CODES) as NodeJS.Signals[];
  for (const s of sigs) process.on(s, onSignal);
  try {
    return await fn(ac.signal);
  } catch (e) {
    // an interrupted command exits as the signal says, with the library's words for what was kept
    if (got && e instanceof CryoError) throw new CryoError(e.code, e.message, { hint: e.hint, cause: e.cause, details: e.details, exitCode: (128 + (CODES[got] ?? 0)) as ExitCode });
    throw e;
  } finally {
    for (const s of sigs) process.off(s, onSignal);
    if (got) process.exitCode = 128 + (CODES[got] ?? 0);
  }
}
