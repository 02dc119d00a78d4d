// File and fd rules: deleted files (ghosts within CRIU's limit, or --link-remap), file locks, io_uring,
// terminals and pty masters, pipes with an end outside, memfds, unusual anon inodes, open files shared (kcmp).
import { KcmpType, kcmp } from '../kernel/kcmp.js';
import { statFd, statMapFile, type MapEntry, type ProcFd } from '../kernel/proc.js';
import type { RuleContext } from './issues.js';
import { fdInode, holdersByInode, type ProcessSnapshot } from './snapshot.js';

const MiB = 1 << 20;

/** Holders of a lock line "1: FLOCK  ADVISORY  WRITE 6778 fe:00:2155648 0 EOF": the pid field (-1 for OFD locks). */
function lockPid(line: string): number {
  const f = line.trim().split(/\s+/);
  // "1:" id, type, ADVISORY/MANDATORY, READ/WRITE, pid (the "->" marker of blocked waiters shifts fields)
  const i = f[1] === '->' ? 5 : 4;
  return Number(f[i]);
}

function isTerminalPath(target: string): boolean {
  return /^\/dev\/(pts\/\d+|tty\d*|ttyS\d+|console)$/.test(target);
}

export interface FileRules {
  /** a file-backed mapping (SysV ones are the namespace rules') */
  checkMap(p: ProcessSnapshot, m: MapEntry): void;
  /** blocks an io_uring fd; true when it was one (nothing else applies to it) */
  checkIoUring(p: ProcessSnapshot, f: ProcFd): boolean;
  checkLocks(p: ProcessSnapshot, f: ProcFd): void;
  /** any other fd that is not a socket */
  checkFd(p: ProcessSnapshot, f: ProcFd): void;
  /** adds what the whole tree needs (the ghost limit); call once after every process */
  finish(): void;
}

export function createFileRules(ctx: RuleContext): FileRules {
  const { pids, procs } = ctx.tree;
  const { addOption, blocker, finding } = ctx.issues;
  const treePipes = holdersByInode(procs, 'pipe');
  const ptyMasters = new Set<string>();
  for (const p of procs) {
    for (const f of p.fds) {
      const idx = f.info?.extra['tty-index'];
      if ((f.target === '/dev/ptmx' || f.target === '/dev/pts/ptmx') && idx !== undefined) ptyMasters.add(`/dev/pts/${idx}`);
    }
  }
  const seenGhosts = new Set<string>();
  let ghostNeed = 0;
  // verified: a file open under a removed name that still has another link fails with
  // "Can't create link remap for P. Use link-remap option."; --link-remap fixes it
  const needLinkRemap = (p: number, fd: number | undefined, path: string, how: 'open' | 'mapped'): void => {
    addOption('--link-remap');
    finding(p, 'linked-file', `${path}: ${how} under a removed name, but the file still has another link; needs --link-remap`, fd);
  };
  const noteGhost = (pid: number, fd: number | undefined, path: string, size: number, how: 'open' | 'mapped'): void => {
    if (size > ctx.ghostLimit) {
      const want = Math.ceil(size / MiB) * MiB;
      finding(pid, 'deleted-file', `${path}: deleted but ${how}, ${size} bytes, over CRIU's ghost-file limit (${ctx.ghostLimit}); needs --ghost-limit ${want}`, fd);
      ghostNeed = Math.max(ghostNeed, want);
      return;
    }
    finding(pid, 'deleted-file', `${path}: deleted but ${how}, ${size} bytes; CRIU saves its content in the images (ghost file)`, fd);
  };

  return {
    checkMap(p, m) {
      if (m.path === '[io_uring]' || m.path.includes('io_uring')) return;
      if (m.inode === 0 || !m.path.startsWith('/') || !m.path.endsWith(' (deleted)')) return;
      if (m.path.startsWith('/memfd:') || m.path.startsWith('/dev/zero') || m.path.startsWith('/anon_hugepage')) return;
      const key = `${m.dev}:${m.inode}`;
      if (seenGhosts.has(key)) return;
      seenGhosts.add(key);
      const st = statMapFile(p.pid, m.start, m.end);
      if (st && st.nlink > 0) needLinkRemap(p.pid, undefined, m.path.slice(0, -10), 'mapped');
      else noteGhost(p.pid, undefined, m.path.slice(0, -10), st?.size ?? 0, 'mapped');
    },

    checkIoUring(p, f) {
      if (f.target !== 'anon_inode:[io_uring]') return false;
      blocker(p.pid, 'io_uring', 'an io_uring instance: CRIU 4.2 cannot dump io_uring (the kernel refuses to pass it to CRIU)', f.fd);
      return true;
    },

    checkLocks(p, f) {
      if (!f.info) return;
      const held = f.info.locks.filter((l) => {
        const lp = lockPid(l);
        return lp === -1 || pids.has(lp);
      });
      if (!held.length) return;
      addOption('--file-locks');
      const kinds = [...new Set(held.map((l) => l.trim().split(/\s+/)[1]))].join('/');
      finding(p.pid, 'file-lock', `holds a ${kinds} lock on ${f.target}; needs --file-locks`, f.fd);
    },

    checkFd(p, f) {
      const t = f.target;
      if (isTerminalPath(t)) {
        if (!ptyMasters.has(t)) {
          addOption('--shell-job');
          finding(p.pid, 'terminal', `on terminal ${t}, whose master side is outside the tree; needs --shell-job (or stdio that is not a terminal)`, f.fd);
        } else finding(p.pid, 'terminal', `on terminal ${t}; its master is in the tree`, f.fd);
        return;
      }
      if (t === '/dev/ptmx' || t === '/dev/pts/ptmx') {
        finding(p.pid, 'pty-master', `the master of /dev/pts/${f.info?.extra['tty-index'] ?? '?'}`, f.fd);
        return;
      }
      const pino = fdInode(t, 'pipe');
      if (pino !== undefined) {
        const holders = treePipes.get(pino)!;
        if (holders.length === 1) {
          finding(p.pid, 'pipe', `${t}: no other end in the tree (outside or closed); its data is saved, restore may need --inherit-fd`, f.fd);
        }
        return;
      }
      if (t.startsWith('/') && t.endsWith(' (deleted)') && !t.startsWith('/memfd:')) {
        const path = t.slice(0, -10);
        const st = statFd(p.pid, f.fd);
        const key = st ? `${st.dev}:${st.ino}` : `${p.pid}:${f.fd}`;
        if (st && (st.mode & 0o170000) !== 0o100000) {
          finding(p.pid, 'deleted-file', `${path}: deleted, not a regular file`, f.fd);
          return;
        }
        if (seenGhosts.has(key)) return;
        seenGhosts.add(key);
        if (st && st.nlink > 0) needLinkRemap(p.pid, f.fd, path, 'open');
        else noteGhost(p.pid, f.fd, path, st?.size ?? 0, 'open');
        return;
      }
      if (t.startsWith('/memfd:')) {
        finding(p.pid, 'memfd', `memfd ${t.slice(7).replace(/ \(deleted\)$/, '')}: saved with its content`, f.fd);
        return;
      }
      if (t.startsWith('anon_inode:')) {
        const what = t.slice('anon_inode:'.length).replace(/^\[|\]$/g, '');
        if (/^(bpf|perf_event)/.test(what)) finding(p.pid, 'anon-inode', `${what}: CRIU 4.2 may not dump this kind of descriptor`, f.fd);
      }
    },

    finish() {
      if (ghostNeed > 0) addOption('--ghost-limit', String(ghostNeed));
    },
  };
}

/** Open files (one open() shared by fork or dup) held by several processes of the tree, found with kcmp. */
export function checkSharedFiles(ctx: RuleContext): void {
  const byTarget = new Map<string, { pid: number; fd: number }[]>();
  for (const p of ctx.tree.procs) {
    if (p.state === 'Z') continue;
    for (const f of p.fds) {
      if (!f.target.startsWith('/') || f.target === '/dev/null') continue;
      if (!byTarget.has(f.target)) byTarget.set(f.target, []);
      byTarget.get(f.target)!.push({ pid: p.pid, fd: f.fd });
    }
  }
  for (const [target, holders] of byTarget) {
    if (new Set(holders.map((h) => h.pid)).size < 2) continue;
    const first = holders[0];
    const sharing = holders.filter((h) => h.pid !== first.pid && kcmp(first.pid, h.pid, KcmpType.FILE, first.fd, h.fd) === 0);
    if (sharing.length) {
      ctx.issues.finding(first.pid, 'shared-file', `${target} (fd ${first.fd}) is one open file shared with ${sharing.map((h) => `pid ${h.pid} fd ${h.fd}`).join(', ')}`, first.fd);
    }
  }
}
