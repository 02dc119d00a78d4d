// inspectCheckpoint: one data model of a checkpoint (processes, files, memory, mounts), plain data
// that the CLI renders as a tree or as JSON.
import { readContainerInfo, type ContainerInfo } from '../checkpoint/container-info.js';
import { AddressSpace } from './address-space.js';
import { taskId } from './explore.js';
import { FD_TYPES, FileTable, type SocketInfo } from './files.js';
import { ImageDir, type Entry } from './images.js';
import { mappingName } from './mapping-name.js';
import { PageFiles, VMA_ANON_SHARED, VMA_FILE_SHARED } from './memory.js';

export interface InspectOptions {
  /** read each process's environment from its memory (default false) */
  env?: boolean;
  /** only this process (its ancestors are kept for the tree) */
  pid?: number;
}

export interface CheckpointModel {
  dir: string;
  /** the inventory's image version and whether it is an incremental dump */
  imageVersion?: number;
  parent?: string;
  processes: ProcessModel[];
  mounts?: MountModel[];
  /** a container checkpoint's container (config.dump, spec.dump) */
  container?: ContainerInfo;
}

export interface Credentials {
  uid: number; gid: number; euid: number; egid: number; suid: number; sgid: number; fsuid: number; fsgid: number;
  groups: number[];
  /** capability sets as hex bit masks */
  capEff?: string; capPrm?: string; capInh?: string; capBnd?: string;
  noNewPrivs?: boolean;
}

export interface ThreadModel { tid: number; comm?: string }

export interface FdModel {
  fd: number;
  type: string;
  /** the object's id in files.img (equal ids: the same open file) */
  fileId: number;
  description: string;
  path?: string;
  pipe?: number;
  socket?: SocketInfo;
  /** fd flags (O_RDONLY 0, O_WRONLY 1, O_RDWR 2, ...) */
  flags: number;
  /** for pipes and connected unix sockets: the other ends inside the checkpoint */
  peers?: Array<{ pid: number; fd: number }>;
}

export interface MappingModel {
  start: string;
  end: string;
  size: number;
  prot: string;
  shared: boolean;
  name: string;
  /** offset into the mapped file */
  fileOffset?: number;
  /** pages whose contents are in the checkpoint (here or in a parent) */
  dumpedPages: number;
}

export interface ProcessModel {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  comm: string;
  state: string;
  exe?: string;
  cmdline?: string[];
  environ?: string[];
  cwd?: string;
  root?: string;
  umask?: number;
  creds?: Credentials;
  /** thread count (the naming table's `threads`) */
  threads: number;
  /** the threads themselves, main thread first */
  tasks: ThreadModel[];
  namespaces: Record<string, number>;
  fds: FdModel[];
  mappings: MappingModel[];
  memory: { mappedBytes: number; dumpedPages: number; dumpedBytes: number };
  children: number[];
}

export interface MountModel {
  id: number;
  parent: number;
  mountpoint: string;
  source?: string;
  fstype?: string;
  root?: string;
  options?: string;
}

// CRIU's TASK_*: a dead task in a dump is a zombie (exited, not yet reaped)
const TASK_STATES: Record<number, string> = { 1: 'alive', 2: 'zombie', 3: 'stopped', 4: 'helper', 5: 'thread' };
const NS_KEYS = ['pid', 'net', 'ipc', 'uts', 'mnt', 'user', 'cgroup', 'time'];

function capMask(words: unknown): string | undefined {
  const w = (words as number[] | undefined) ?? [];
  if (!w.length) return undefined;
  let v = 0n;
  w.forEach((x, i) => (v |= BigInt(Number(x) >>> 0) << BigInt(32 * i)));
  return `0x${v.toString(16).padStart(16, '0')}`;
}

function creds(c: Entry | undefined): Credentials | undefined {
  if (!c) return undefined;
  return {
    uid: c.uid, gid: c.gid, euid: c.euid, egid: c.egid, suid: c.suid, sgid: c.sgid, fsuid: c.fsuid, fsgid: c.fsgid,
    groups: (c.groups ?? []).map(Number), capEff: capMask(c.cap_eff), capPrm: capMask(c.cap_prm), capInh: capMask(c.cap_inh), capBnd: capMask(c.cap_bnd),
    noNewPrivs: c.no_new_privs === undefined ? undefined : Boolean(c.no_new_privs),
  };
}

function strings(b: Buffer): string[] {
  const s = b.toString('utf8');
  const parts = s.split('\0');
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export function inspectCheckpoint(dirOrImages: string | ImageDir, opts: InspectOptions = {}): CheckpointModel {
  const img = typeof dirOrImages === 'string' ? new ImageDir(dirOrImages) : dirOrImages;
  const files = new FileTable(img);
  const inv = img.optional('inventory.img')?.[0];
  const tree = img.entries('pstree.img');
  const pages = new PageFiles();
  const processes: ProcessModel[] = [];
  try {
    for (const p of tree) {
      const pid = taskId(p, 'pid');
      processes.push(inspectProcess(img, files, pages, p, pid, opts));
    }
  } finally {
    pages.close();
  }
  for (const pr of processes) {
    const parent = processes.find((q) => q.pid === pr.ppid);
    parent?.children.push(pr.pid);
  }
  linkPeers(processes);
  let shown = processes;
  if (opts.pid !== undefined) {
    const keep = new Set<number>();
    let at = processes.find((q) => q.pid === opts.pid);
    while (at) {
      keep.add(at.pid);
      at = processes.find((q) => q.pid === at!.ppid);
    }
    shown = processes.filter((q) => keep.has(q.pid)).map((q) => ({ ...q, children: q.children.filter((c) => keep.has(c)) }));
  }
  const model: CheckpointModel = { dir: img.dir, imageVersion: inv?.img_version, processes: shown };
  if (img.has('parent')) model.parent = img.parent()?.dir;
  const mounts = readMounts(img);
  if (mounts.length) model.mounts = mounts;
  const container = readContainerInfo(img.dir);
  if (container) model.container = container;
  return model;
}

function inspectProcess(img: ImageDir, files: FileTable, pages: PageFiles, p: Entry, pid: number, opts: InspectOptions): ProcessModel {
  const core = img.first(`core-${pid}.img`);
  const tc = core.tc ?? {};
  const ids = img.optional(`ids-${pid}.img`)?.[0] ?? core.ids ?? {};
  const fs = img.optional(`fs-${pid}.img`)?.[0];
  const pr: ProcessModel = {
    pid, ppid: Number(p.ppid), pgid: taskId(p, 'pgid'), sid: taskId(p, 'sid'), comm: tc.comm ?? '',
    state: TASK_STATES[Number(tc.task_state)] ?? String(tc.task_state),
    creds: creds(core.thread_core?.creds),
    threads: 0, tasks: [], namespaces: {}, fds: [], mappings: [], memory: { mappedBytes: 0, dumpedPages: 0, dumpedBytes: 0 }, children: [],
  };
  if (fs) {
    pr.cwd = files.info('REG', Number(fs.cwd_id)).text;
    pr.root = files.info('REG', Number(fs.root_id)).text;
    if (fs.umask !== undefined) pr.umask = Number(fs.umask);
  }
  for (const k of NS_KEYS) if (ids[`${k}_ns_id`] !== undefined) pr.namespaces[k] = Number(ids[`${k}_ns_id`]);
  // a zombie's thread list is not meaningful (CRIU leaves it unset)
  for (const t of (pr.state === 'zombie' ? [pid] : (p.threads ?? [pid])) as number[]) {
    const tid = Number(t);
    const tcore = tid === pid ? core : img.optional(`core-${tid}.img`)?.[0];
    pr.tasks.push({ tid, comm: tcore?.thread_core?.comm ?? (tid === pid ? tc.comm : undefined) });
  }
  pr.threads = pr.tasks.length;
  if (ids.files_id !== undefined && img.has(`fdinfo-${ids.files_id}.img`)) {
    for (const fd of img.entries(`fdinfo-${ids.files_id}.img`)) {
      const type = FD_TYPES[Number(fd.type)] ?? String(fd.type);
      const fi = files.info(type, Number(fd.id));
      pr.fds.push({ fd: Number(fd.fd), type, fileId: Number(fd.id), description: FileTable.label(fi), path: fi.path, pipe: fi.pipe, socket: fi.socket, flags: Number(fd.flags) });
    }
  }
  // a zombie has no memory images; every other task must have them
  if (pr.state !== 'zombie' || img.has(`mm-${pid}.img`)) {
    const space = new AddressSpace(img, pid);
    const mm = space.mm;
    pr.exe = files.info('REG', Number(mm.exe_file_id)).text;
    for (const v of space.vmas) {
      const e = v.entry;
      const st = Number(e.status);
      let dumped = 0;
      if (v.end <= Number.MAX_SAFE_INTEGER) for (const pc of space.pieces(v.start, v.end)) if (pc.file !== null) dumped += pc.len / 4096;
      const size = Number(v.endBig - v.startBig);
      const prot = Number(e.prot);
      const m: MappingModel = {
        start: `0x${v.startBig.toString(16)}`, end: `0x${v.endBig.toString(16)}`, size,
        prot: `${prot & 1 ? 'r' : '-'}${prot & 2 ? 'w' : '-'}${prot & 4 ? 'x' : '-'}`,
        shared: Boolean(st & (VMA_FILE_SHARED | VMA_ANON_SHARED)), name: mappingName(e, mm, files), dumpedPages: dumped,
      };
      if (BigInt(e.pgoff ?? 0) !== 0n) m.fileOffset = Number(e.pgoff);
      pr.mappings.push(m);
      pr.memory.mappedBytes += size;
      pr.memory.dumpedPages += dumped;
    }
    pr.memory.dumpedBytes = pr.memory.dumpedPages * 4096;
    pr.cmdline = readStrings(space, pages, mm.mm_arg_start, mm.mm_arg_end);
    if (opts.env) pr.environ = readStrings(space, pages, mm.mm_env_start, mm.mm_env_end);
  }
  return pr;
}

/** NUL-separated strings (argv, environment) of [start, end) in dumped memory; undefined when not dumped. */
function readStrings(space: AddressSpace, pages: PageFiles, start: unknown, end: unknown): string[] | undefined {
  const s = Number(start ?? 0);
  const len = Number(end ?? 0) - s;
  if (!s || len <= 0 || len > 16 << 20) return undefined;
  const r = space.read(s, len, pages);
  return r.missing.length === 1 && r.missing[0]!.end - r.missing[0]!.start === len ? undefined : strings(r.data);
}

/** One process's argv from its dumped memory (undefined for a zombie or when the pages are not dumped). */
export function readProcessCmdline(img: ImageDir, pid: number): string[] | undefined {
  if (!img.has(`mm-${pid}.img`)) return undefined;
  const space = new AddressSpace(img, pid);
  const pages = new PageFiles();
  try {
    return readStrings(space, pages, space.mm.mm_arg_start, space.mm.mm_arg_end);
  } finally {
    pages.close();
  }
}

/** Pipes: every other holder of the same pipe; unix sockets: the holders of the peer socket. */
function linkPeers(processes: ProcessModel[]): void {
  const pipes = new Map<number, Array<{ pid: number; fd: number; fileId: number }>>();
  const unix = new Map<number, Array<{ pid: number; fd: number }>>();
  for (const p of processes) {
    for (const f of p.fds) {
      if (f.pipe !== undefined) {
        const l = pipes.get(f.pipe) ?? [];
        l.push({ pid: p.pid, fd: f.fd, fileId: f.fileId });
        pipes.set(f.pipe, l);
      }
      if (f.socket?.family === 'unix' && f.socket.ino !== undefined) {
        const l = unix.get(f.socket.ino) ?? [];
        l.push({ pid: p.pid, fd: f.fd });
        unix.set(f.socket.ino, l);
      }
    }
  }
  for (const p of processes) {
    for (const f of p.fds) {
      if (f.pipe !== undefined) {
        // the other end: holders of the same pipe through a different open file (read vs write end)
        const others = (pipes.get(f.pipe) ?? []).filter((o) => o.fileId !== f.fileId).map(({ pid, fd }) => ({ pid, fd }));
        if (others.length) f.peers = others;
      } else if (f.socket?.family === 'unix' && f.socket.peer) {
        const others = unix.get(f.socket.peer) ?? [];
        if (others.length) f.peers = others;
      }
    }
  }
}

function readMounts(img: ImageDir): MountModel[] {
  const names = new Set<string>();
  for (const p of img.entries('pstree.img')) {
    const pid = taskId(p, 'pid');
    const ids = img.optional(`ids-${pid}.img`)?.[0];
    if (ids?.mnt_ns_id !== undefined) names.add(`mountpoints-${ids.mnt_ns_id}.img`);
  }
  const out: MountModel[] = [];
  for (const n of names) {
    for (const m of img.optional(n) ?? []) {
      out.push({
        id: Number(m.mnt_id), parent: Number(m.parent_mnt_id), mountpoint: m.mountpoint, source: m.source, fstype: m.fsname ?? String(m.fstype),
        root: m.root, options: m.options,
      });
    }
  }
  return out;
}
