// NOTIFY messages to the caller's hooks: CRIU's script names mapped to named hooks, bounded by the abort signal.
import type { CriuHook, CriuHooks, CriuNotifyInfo } from './types.js';

const NAMED_HOOKS: Record<string, keyof CriuHooks> = {
  'pre-dump': 'preDump',
  'post-dump': 'postDump',
  'pre-restore': 'preRestore',
  'post-restore': 'postRestore',
  'network-lock': 'networkLock',
  'network-unlock': 'networkUnlock',
  'setup-namespaces': 'setupNamespaces',
  'post-setup-namespaces': 'postSetupNamespaces',
  'pre-resume': 'preResume',
  'post-resume': 'postResume',
  'orphan-pts-master': 'orphanPtsMaster',
  'status-ready': 'statusReady',
};

export function hasHooks(h: CriuHooks | undefined): h is CriuHooks {
  return !!h && Object.values(h).some((v) => typeof v === 'function');
}

/** Runs onNotify, then the hook named after `script`. */
export async function runHooks(hooks: CriuHooks | undefined, script: string, info: CriuNotifyInfo): Promise<void> {
  if (!hooks) return;
  await hooks.onNotify?.(script, info);
  const name = NAMED_HOOKS[script];
  const hook = name ? (hooks[name] as CriuHook | undefined) : undefined;
  await hook?.(info);
}

/** Rejects as soon as `signal` aborts, so a hook that hangs cannot outlive a timeout. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
