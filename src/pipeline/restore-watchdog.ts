// Bounds CRIU's restore: on a timeout or an abort (SIGTERM/SIGINT in the CLI) it kills cryo's CRIU
// children and every task under them (the half-restored tree), by pid, until none is left, so a
// restore that hangs (a restorer spinning on a short pages file) leaves nothing running.
import { readProcess, listTree, signalTree } from '../kernel/process.js';
import { childPids } from '../kernel/run.js';

export interface RestoreWatchdog {
  /** why CRIU was killed, undefined while it was not */
  readonly fired: 'timeout' | 'aborted' | undefined;
  /** resolves once everything the watchdog killed is gone (at once when it did not fire) */
  readonly killed: Promise<void>;
  /** CRIU answered: nothing to kill any more */
  stop(): void;
}

/** CRIU processes this process started, with their descendants, CRIU first. */
function listCriuTrees(): number[] {
  return childPids(process.pid).filter((c) => readProcess(c)?.comm === 'criu').flatMap((c) => listTree(c));
}

/** Kills CRIU and the tasks it was restoring; repeats while new ones show up (forks in flight). */
async function killCriuTrees(): Promise<void> {
  const seen = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const now = listCriuTrees();
    const fresh = now.filter((p) => !seen.has(p));
    for (const p of now) seen.add(p);
    signalTree([...seen], 'SIGKILL');
    if (now.length === 0 && i > 0) return;
    await new Promise((r) => setTimeout(r, 25));
    if (fresh.length === 0 && i > 2) return;
  }
}

/** Starts the watchdog for one CRIU restore. */
export function watchRestore(timeoutMs: number, signal?: AbortSignal): RestoreWatchdog {
  let fired: RestoreWatchdog['fired'];
  let stopped = false;
  let killed = Promise.resolve();
  const fire = (why: 'timeout' | 'aborted') => {
    if (stopped || fired) return;
    fired = why;
    killed = killCriuTrees();
  };
  const timer = setTimeout(() => fire('timeout'), timeoutMs);
  const onAbort = () => fire('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  return {
    get fired() {
      return fired;
    },
    get killed() {
      return killed;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
