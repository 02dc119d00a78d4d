// Bounds CRIU's restore: on a timeout or an abort (SIGTERM/SIGINT in the CLI) it kills cryo's CRIU
// children and every task under them (the half-restored tree), by pid, again and again until CRIU's
// call has ended, then once more with the restored root, so a restore that hangs (a restorer spinning
// on a short pages file) or is cancelled leaves nothing running.
import { listTree, readProcess, signalTree } from '../kernel/process.js';
import { childPids } from '../kernel/run.js';

export interface RestoreWatchdog {
  /** why CRIU was killed, undefined while it was not */
  readonly fired: 'timeout' | 'aborted' | undefined;
  /** CRIU's call ended: stops the timer; after a firing, kills what is left (with `rootPid`, the tree CRIU reported) */
  finish(rootPid?: number): Promise<void>;
}

/** CRIU processes this process started (`criuPid`, and any named criu), with their descendants, CRIU first. */
function listCriuTrees(criuPid?: number): number[] {
  // a provisioned CRIU runs under its loader's name (ld-linux-x86-64): known by pid, not by name
  const kids = childPids(process.pid).filter((c) => c === criuPid || readProcess(c)?.comm === 'criu');
  return kids.flatMap((c) => listTree(c));
}

function isLive(pid: number): boolean {
  const s = readProcess(pid)?.state;
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** Starts the watchdog for one CRIU restore (by `criuPid`, when known). */
export function watchRestore(timeoutMs: number, signal?: AbortSignal, criuPid?: number): RestoreWatchdog {
  let fired: RestoreWatchdog['fired'];
  let finished = false;
  const killed = new Set<number>();
  const sweep = (extra: number[] = []) => {
    for (const p of [...listCriuTrees(criuPid), ...extra]) killed.add(p);
    signalTree([...killed].filter(isLive), 'SIGKILL');
  };
  let sweeper: NodeJS.Timeout | undefined;
  const fire = (why: 'timeout' | 'aborted') => {
    if (finished || fired) return;
    fired = why;
    sweep();
    // CRIU may fork more tasks until it is dead: keep sweeping while its call runs
    sweeper = setInterval(() => sweep(), 20);
  };
  const timer = setTimeout(() => fire('timeout'), timeoutMs);
  const onAbort = () => fire('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  return {
    get fired() {
      return fired;
    },
    async finish(rootPid) {
      finished = true;
      clearTimeout(timer);
      clearInterval(sweeper);
      signal?.removeEventListener('abort', onAbort);
      if (!fired) return;
      const root = rootPid && rootPid > 0 ? listTree(rootPid) : [];
      for (let i = 0; i < 100; i++) {
        sweep(root);
        if (![...killed].some(isLive)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
