// Namespace rules: the pid namespace's init, the tree's own namespaces, nested ones, mounts outside a
// process's mount namespace, SysV IPC (saved only with the tree's own IPC namespace).
import { readMountinfo, readProcFile, type MapEntry, type ProcFd } from '../kernel/proc.js';
import type { RuleContext } from './issues.js';
import type { ProcessSnapshot } from './snapshot.js';

/** The root's pid namespace is not the caller's: the session rules depend on it. */
export function hasOwnPidNs(ctx: RuleContext): boolean {
  const { root, selfNs } = ctx.tree;
  return root.ns.pid !== undefined && selfNs.pid !== undefined && root.ns.pid !== selfNs.pid;
}

/** Blocks a root inside a pid namespace it is not the init of; true when it did. */
export function checkPidnsInit(ctx: RuleContext): boolean {
  const { root, partOf } = ctx.tree;
  const nsPid = root.nsPid[root.nsPid.length - 1];
  if (!hasOwnPidNs(ctx) || nsPid === 1 || partOf) return false;
  // verified: "Can't dump a pid namespace without the process init"
  ctx.issues.blocker(root.pid, 'pidns-not-init', `pid ${root.pid} is inside a pid namespace (as pid ${nsPid}) but is not its init: CRIU dumps a pid namespace only from its init; check that init's pid instead`);
  return true;
}

/** The namespaces the tree has of its own (CRIU dumps them with it). */
export function checkTreeNamespaces(ctx: RuleContext): void {
  const { root, selfNs } = ctx.tree;
  for (const kind of ['ipc', 'mnt', 'net', 'pid', 'uts', 'cgroup', 'time'] as const) {
    if (!root.ns[kind] || !selfNs[kind] || root.ns[kind] === selfNs[kind]) continue;
    if (kind === 'mnt') {
      // verified: "mnt: 69:./run/netns/NAME doesn't have a proper root mount" (an ip-netns bind mount in the copy)
      for (const [left] of readMountinfo(root.pid).map((l) => l.split(' - ')).filter(([, right]) => right?.startsWith('nsfs '))) {
        ctx.issues.blocker(root.pid, 'nsfs-mount', `its own mount namespace holds ${left.split(' ')[4]}, a bind mount of a namespace file (ip netns), which CRIU cannot dump: unmount it inside the tree (\`cryo run --own-proc\` does), or start the tree without its own mount namespace`);
      }
      const tmpfs = readMountinfo(root.pid)
        .map((l) => l.split(' - '))
        .filter(([, right]) => right?.startsWith('tmpfs '))
        .map(([left]) => left.split(' ')[4]);
      ctx.issues.finding(root.pid, 'namespace', `the tree has its own mount namespace (${root.ns.mnt}): CRIU dumps all its mounts${tmpfs.length ? `, copying the content of its tmpfs mounts (${tmpfs.join(', ')}): slow, and it fails if they change meanwhile` : ''}`);
    } else {
      ctx.issues.finding(root.pid, 'namespace', `the tree has its own ${kind} namespace (${root.ns[kind]}); CRIU dumps it with the tree`);
    }
  }
}

/** Namespaces a process below the root has of its own: CRIU 4.2 cannot checkpoint any of them. */
export function checkNestedNamespaces(ctx: RuleContext, p: ProcessSnapshot): void {
  const { root } = ctx.tree;
  if (p === root) return;
  for (const kind of ['ipc', 'uts', 'pid', 'cgroup', 'time', 'mnt', 'net'] as const) {
    if (!p.ns[kind] || !root.ns[kind] || p.ns[kind] === root.ns[kind]) continue;
    // verified (test/integration/preflight-namespaces.test.ts): ipc, uts, pid, cgroup, time: "Can't dump nested
    // KIND namespace"; mnt, net: the dump succeeds, the restore fails ("Can't restore sub-task in NS")
    const why = kind === 'mnt' || kind === 'net'
      ? "CRIU dumps it, but cannot restore a process below the root in a namespace of its own (\"Can't restore sub-task in NS\")"
      : `CRIU cannot dump a nested ${kind} namespace`;
    ctx.issues.blocker(p.pid, 'nested-namespace', `runs in a ${kind} namespace of its own (${p.ns[kind]}), nested below the root's: ${why}; start the whole tree in it instead (${wholeTreeIn(kind)})`);
  }
}

const UNSHARE_FLAG: Record<string, string> = { pid: 'pid --fork', cgroup: 'cgroup', time: 'time --fork', mnt: 'mount', net: 'net' };

/** How to start a whole tree in a namespace of `kind`, so that CRIU dumps it as the tree's own. */
function wholeTreeIn(kind: string): string {
  return kind === 'ipc' || kind === 'uts' ? `\`cryo run --${kind} -- CMD\`` : `e.g. \`setsid unshare --${UNSHARE_FLAG[kind]} CMD\`, then dump that pid`;
}

/** Blocks fds open on a mount outside the process's own mount namespace (tree with its own mount namespace only). */
export function createMountRule(ctx: RuleContext): (p: ProcessSnapshot, f: ProcFd) => void {
  const { root, selfNs } = ctx.tree;
  const ownMntNs = root.ns.mnt !== undefined && selfNs.mnt !== undefined && root.ns.mnt !== selfNs.mnt;
  // mount ids visible in each mount namespace, read once per namespace
  const mountIds = new Map<string, Set<number>>();
  const mountsOf = (p: ProcessSnapshot): Set<number> => {
    const key = p.ns.mnt ?? String(p.pid);
    let ids = mountIds.get(key);
    if (!ids) {
      ids = new Set(readMountinfo(p.pid).map((l) => Number(l.split(' ')[0])));
      mountIds.set(key, ids);
    }
    return ids;
  };
  return (p, f) => {
    const t = f.target;
    if (ownMntNs && f.info && t.startsWith('/') && !t.startsWith('/memfd:') && !mountsOf(p).has(f.info.mntId)) {
      // verified: "Can't lookup mount=N for fd=F path=P" (an fd opened before entering the namespace)
      ctx.issues.blocker(p.pid, 'foreign-mount', `${t} is open on a mount (id ${f.info.mntId}) outside the process's mount namespace (opened before it entered the namespace); reopen it inside`, f.fd);
    }
  };
}

export function isSysvMap(m: MapEntry): boolean {
  return m.path.startsWith('/SYSV');
}

/** A SysV shared memory attachment: saved only with the tree's own IPC namespace. */
export function checkSysvMap(ctx: RuleContext, p: ProcessSnapshot, m: MapEntry): void {
  if (p.ns.ipc && p.ns.ipc === ctx.tree.selfNs.ipc) {
    ctx.issues.blocker(p.pid, 'sysv-shm', `SysV shared memory attached at 0x${m.start.toString(16)} while the tree shares the host IPC namespace: CRIU saves SysV IPC only with the tree's own IPC namespace: start the tree with \`cryo run --ipc -- CMD\``);
  } else {
    ctx.issues.finding(p.pid, 'sysv-shm', `SysV shared memory attached at 0x${m.start.toString(16)}; saved with the tree's IPC namespace`);
  }
}

/** SysV IPC objects created or used by the tree. */
export function checkSysvObjects(ctx: RuleContext): void {
  const { procs, pids, selfNs } = ctx.tree;
  const hostNs = procs[0].ns.ipc !== undefined && procs[0].ns.ipc === selfNs.ipc;
  const fate = hostNs ? 'not saved: the tree shares the host IPC namespace' : "saved with the tree's IPC namespace";
  // /proc/sysvipc shows the reader's IPC namespace: the tree's objects only when it shares ours
  const scan = (file: string, what: string, pidCols: number[]): void => {
    const text = hostNs ? readProcFile(`/proc/sysvipc/${file}`) : undefined;
    if (!text) return;
    for (const line of text.split('\n').slice(1).filter(Boolean)) {
      const f = line.trim().split(/\s+/);
      const users = pidCols.map((c) => Number(f[c])).filter((x) => pids.has(x));
      if (users.length) ctx.issues.finding(users[0], 'sysv-ipc', `SysV ${what} id ${f[1]} (key ${f[0]}) used by the tree: ${fate}`);
    }
  };
  // shm: cpid lpid at 4,5; msg: lspid lrpid at 5,6; sem carries no pids
  scan('shm', 'shared memory segment', [4, 5]);
  scan('msg', 'message queue', [5, 6]);
}
