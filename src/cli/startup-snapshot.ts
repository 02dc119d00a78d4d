// The start-up snapshot of the bundled CLI (dist/snapshot/cryo.cjs -> cryo.blob) for the Node that
// runs this, and its stamp (dist/snapshot/node, carrying that Node binary's mtime): bin/cryo starts
// the snapshot only under the very Node that built it. Built by `npm run build` and `cryo setup`.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StartupSnapshot {
  /** built now; current: already built by this Node; unavailable: cryo starts from its modules */
  state: 'built' | 'current' | 'unavailable';
  blob?: string;
  reason?: string;
}

/** dist/snapshot (this file is dist/src/cli/startup-snapshot.js, or the bundle's equivalent). */
function snapshotDir(): string {
  return fileURLToPath(new URL('../../snapshot/', import.meta.url));
}

/** The stamp's text: the Node it was built by. */
function stampText(): string {
  return `${process.version} ${process.execPath}\n`;
}

/** Whether dir holds a snapshot built by the Node running now (what bin/cryo checks, and the version). */
function isCurrent(dir: string): boolean {
  try {
    const stamp = statSync(join(dir, 'node'));
    return existsSync(join(dir, 'cryo.blob')) && Math.floor(stamp.mtimeMs / 1000) === Math.floor(statSync(process.execPath).mtimeMs / 1000)
      && readFileSync(join(dir, 'node'), 'utf8') === stampText();
  } catch {
    return false;
  }
}

/** Builds the snapshot unless the one there is current; never fails (cryo then starts from its modules). */
export function ensureStartupSnapshot(opts: { force?: boolean } = {}): StartupSnapshot {
  const dir = snapshotDir();
  const blob = join(dir, 'cryo.blob');
  if (!existsSync(join(dir, 'cryo.cjs'))) return { state: 'unavailable', reason: `no bundle at ${join(dir, 'cryo.cjs')} (build with npm run build)` };
  if (!opts.force && isCurrent(dir)) return { state: 'current', blob };
  let tmp: string;
  try {
    tmp = mkdtempSync(join(dir, '.build-')); // 0700, a fresh name: nothing planted there is followed
  } catch (e) {
    return { state: 'unavailable', reason: `cannot write in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  try {
    const r = spawnSync(process.execPath, ['--snapshot-blob', join(tmp, 'cryo.blob'), '--build-snapshot', join(dir, 'cryo.cjs')], {
      cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 120_000,
    });
    if (r.status !== 0) {
      const text = (r.stderr || r.error?.message || `exit status ${r.status}`).trim().split('\n');
      const why = text.find((l) => /^\w*Error: /.test(l)) ?? text[0] ?? '';
      return { state: 'unavailable', reason: `node could not build it: ${why}` };
    }
    // a snapshot that cannot start a command is never put in place (it would break every command)
    const smoke = spawnSync(process.execPath, ['--snapshot-blob', join(tmp, 'cryo.blob'), '--', '--version'], {
      cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000,
    });
    if (smoke.status !== 0 || !/^cryo \S+\n/.test(smoke.stdout ?? '')) {
      const text = `${smoke.stderr ?? ''}`.trim().split('\n');
      return { state: 'unavailable', reason: `the snapshot built does not start cryo: ${text.find((l) => /^\w*Error: /.test(l)) ?? text[0] ?? `exit status ${smoke.status}`}` };
    }
    // code, not data: readable by every user who runs this cryo
    chmodSync(join(tmp, 'cryo.blob'), 0o644);
    writeFileSync(join(tmp, 'node'), stampText(), { flag: 'wx', mode: 0o600 });
    chmodSync(join(tmp, 'node'), 0o644);
    const node = statSync(process.execPath);
    utimesSync(join(tmp, 'node'), node.atime, node.mtime);
    // blob first: until the stamp follows, the old stamp does not match this Node and the launcher uses the modules
    renameSync(join(tmp, 'cryo.blob'), blob);
    renameSync(join(tmp, 'node'), join(dir, 'node'));
    return { state: 'built', blob };
  } catch (e) {
    return { state: 'unavailable', reason: `cannot write in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
