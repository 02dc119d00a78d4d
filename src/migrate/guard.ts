// The destination's dead-man switch: a tiny shell that outlives `cryo receive` and, if receive dies
// before the migration is settled, ends the half-migrated copy (pages missing: it must not run) or,
// once the copy is complete but the source has not confirmed, stops it (never lost, never twice).
import { spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = [
  'd=$1; k=; s=',
  'while read -r w rest; do case $w in ok) exit 0;; kill) k="$k $rest";; stop) s=$rest;; esac; done',
  'if [ -n "$s" ]; then kill -STOP $s 2>/dev/null; else [ -n "$k" ] && kill -KILL $k 2>/dev/null; fi',
  'rm -rf -- "$d"',
].join('\n');

export class TreeGuard {
  #child: ChildProcess;

  /** Guards a migration whose files are in `workDir` (removed if this process dies first). */
  constructor(workDir: string) {
    this.#child = spawn('/bin/sh', ['-c', SCRIPT, 'cryo-migrate-guard', workDir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.#child.stdin?.on('error', () => undefined);
    this.#child.unref();
  }

  /** If this process dies from now on: kill these pids too (CRIU's daemons, the restored copy). */
  killOnDeath(pids: number[]): void {
    this.#child.stdin?.write(`kill ${pids.join(' ')}\n`);
  }

  /** If this process dies from now on: stop these pids instead (the copy is complete, the source unsure). */
  stopOnDeath(pids: number[]): void {
    this.#child.stdin?.write(`stop ${pids.join(' ')}\n`);
  }

  /** The migration is settled: the guard exits and does nothing. */
  release(): void {
    this.#child.stdin?.end('ok\n');
  }
}
