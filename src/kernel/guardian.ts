// A watcher outside cryo's process for the moments a tree is stopped: a tiny bash process in a
// session of its own, reading state lines from a pipe that only cryo holds. When the pipe closes
// without "done" (cryo died, even by SIGKILL) it acts on the last state: "resume" sends SIGCONT to
// every pid (once CRIU has let go of them: the CRIU named by pid has exited, and any process named
// criu started after the watcher), "end" sends SIGKILL. Pids travel with their start time
// (/proc/PID/stat field 22), so a reused pid is never signalled.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

// bash, not a second node: it starts in about a millisecond and holds a few hundred KiB
const SCRIPT = String.raw`
trap '' INT TERM HUP QUIT TSTP PIPE
state=idle pids= criu=
while read -r cmd rest; do
  case $cmd in
    resume|end) state=$cmd pids=$rest ;;
    criu) criu=$rest ;;
    done) exit 0 ;;
  esac
done
same() { local s want=$2; s=$(< "/proc/$1/stat") || return 1; s=\${s##*) }; set -- $s; [ "\${20}" = "$want" ]; }
live() { local s want=$2; s=$(< "/proc/$1/stat") || return 1; s=\${s##*) }; set -- $s; [ "\${20}" = "$want" ] && [ "$1" != Z ]; }
traced() { local k v; while read -r k v; do [ "$k" = TracerPid: ] && { [ "$v" != 0 ]; return; }; done < "/proc/$1/status"; return 1; }
me=$(< /proc/$$/stat); me=\${me##*) }; set -- $me; mystart=\${20}
criu_running() {
  local f s
  for f in /proc/[0-9]*/stat; do
    s=$(< "$f") 2>/dev/null || continue
    case $s in *'(criu) '*) ;; *) continue ;; esac
    s=\${s##*) }; set -- $s; [ "\${20}" -ge "$mystart" ] && return 0
  done
  return 1
}
case $state in
  end) for x in $pids; do same "\${x%%:*}" "\${x#*:}" && kill -KILL "\${x%%:*}"; done ;;
  resume)
    # a CRIU still at work resumes or stops the tree itself when it ends: wait for it (bounded)
    for i in $(seq 1200); do
      busy=0
      criu_running && busy=1
      for x in $criu; do live "\${x%%:*}" "\${x#*:}" && busy=1; done
      for x in $pids; do same "\${x%%:*}" "\${x#*:}" && traced "\${x%%:*}" && busy=1; done
      [ $busy = 0 ] && break
      sleep 0.1
    done 2>/dev/null
    for pass in 1 2; do
      for x in $pids; do same "\${x%%:*}" "\${x#*:}" && kill -CONT "\${x%%:*}"; done
      sleep 0.05
    done 2>/dev/null ;;
esac
`.replace(/\\\$/g, '$');

/** The start time of a process in clock ticks since boot, undefined when it is gone. */
function readStartTime(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export interface Guardian {
  /** pid of the watcher */
  readonly pid: number;
  /**
   * If cryo dies from now on: 'resume' continues these pids (after `criuPid`, the CRIU working on them,
   * has exited), 'end' kills them. Resolves once the watcher can read it.
   */
  watch(mode: 'resume' | 'end', pids: number[], criuPid?: number): Promise<void>;
  /** Nothing to do any more: the watcher exits without acting. */
  release(): Promise<void>;
}

function send(stdin: Writable, line: string): Promise<void> {
  return new Promise((res) => stdin.write(`${line}\n`, () => res()));
}

/** Starts a watcher in its own session (detached from cryo's terminal and process group). */
export function startGuardian(bash = 'bash'): Guardian {
  const child = spawn(bash, ['--norc', '--noprofile', '-c', SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  child.unref();
  (child.stdin as unknown as Socket).unref?.();
  let released = false;
  return {
    pid: child.pid ?? 0,
    async watch(mode, pids, criuPid) {
      if (released) return;
      const named = (list: number[]) => list.flatMap((p) => {
        const t = readStartTime(p);
        return t === undefined ? [] : [`${p}:${t}`];
      }).join(' ');
      // a provisioned CRIU runs under its loader's name (ld-linux-x86-64): the watcher knows it by pid
      if (criuPid !== undefined) await send(child.stdin!, `criu ${named([criuPid])}`);
      await send(child.stdin!, `${mode} ${named(pids)}`);
    },
    async release() {
      if (released) return;
      released = true;
      await send(child.stdin!, 'done');
      child.stdin!.end();
    },
  };
}
