// buildReport: the facts `cryo report` shows, derived from the models `inspect --json`,
// `stats --json` and `diff --json` print (no second reading of the images), plus what only a
// picture needs: connections between processes, memory by kind, the files the tree depends on,
// and per changed mapping a strip of where its changed pages lie.
import { readContainerInfo, type ContainerInfo } from '../checkpoint/container-info.js';
import { readMeta } from '../checkpoint/meta-file.js';
import { readStats, type CheckpointStats } from '../checkpoint/stats.js';
import { diffCheckpoints, type CheckpointDiff } from './diff.js';
import type { ImageDir } from './images.js';
import { inspectCheckpoint, type CheckpointModel, type MappingModel, type ProcessModel } from './model.js';

type ConnectionKind = 'pipe' | 'unix' | 'tcp' | 'udp' | 'file' | 'shm';

/** One end of a connection: a process's fd (or mapping), or a peer outside the tree. */
interface ConnectionEnd {
  pid?: number;
  fd?: number;
  /** the id of an `external` peer */
  external?: string;
}

export interface Connection {
  id: string;
  kind: ConnectionKind;
  label: string;
  ends: ConnectionEnd[];
}

/** A peer outside the dumped tree (the other end of a TCP connection or a unix socket). */
interface ExternalPeer {
  id: string;
  kind: ConnectionKind;
  label: string;
}

export type MemoryKindName = 'heap' | 'stack' | 'anon' | 'file' | 'shared' | 'vdso';

interface MemoryKind {
  kind: MemoryKindName;
  mappings: number;
  mappedBytes: number;
  dumpedBytes: number;
}

interface FileUse {
  path: string;
  uses: Array<{ pid: number; as: 'exe' | 'cwd' | 'root' | 'fd' | 'map'; fd?: number; mappings?: number }>;
}

/** Where a mapping's changed pages lie: `cells` equal slices of the mapping, each its count of changed pages. */
export interface HeatStrip {
  pid: number;
  start: string;
  end: string;
  name: string;
  pages: number;
  changedPages: number;
  cells: number[];
}

export interface ReportModel {
  format: 'cryo-report';
  version: 1;
  checkpoint: string;
  /** the earlier checkpoint of `cryo report A B` (the report shows B, the diff from A) */
  against?: string;
  createdAt?: string;
  criu?: string;
  host?: string;
  container?: ContainerInfo;
  inspect: CheckpointModel;
  stats: CheckpointStats | null;
  connections: Connection[];
  external: ExternalPeer[];
  memory: Array<{ pid: number; kinds: MemoryKind[] }>;
  files: FileUse[];
  diff?: CheckpointDiff;
  heat?: HeatStrip[];
}

export interface ReportOptions {
  /** the earlier checkpoint to diff against */
  against?: ImageDir;
  /** cells per heat strip (default 64) */
  heatCells?: number;
  /** longest page list per mapping in `diff` (as diff --json: 1000) */
  maxPageList?: number;
}

const KIND_ORDER: MemoryKindName[] = ['heap', 'stack', 'anon', 'shared', 'file', 'vdso'];

/** The kind a mapping's bar is drawn in. */
export function mappingKind(m: Pick<MappingModel, 'name' | 'shared'>): MemoryKindName {
  if (m.name === '[heap]') return 'heap';
  if (m.name === '[stack]') return 'stack';
  if (m.name === '[vdso]' || m.name === '[vvar]' || m.name === '[vsyscall]' || m.name === '[vvar_vclock]') return 'vdso';
  if (m.shared) return 'shared';
  if (m.name.startsWith('/') || m.name.startsWith('memfd:')) return 'file';
  return 'anon';
}

export function buildReport(img: ImageDir, opts: ReportOptions = {}): ReportModel {
  const inspect = inspectCheckpoint(img);
  const stats = readStats(img.dir);
  const meta = readMeta(img.dir);
  const { connections, external } = findConnections(inspect.processes);
  const report: ReportModel = {
    format: 'cryo-report', version: 1, checkpoint: img.dir,
    inspect, stats: stats.dump || stats.restore ? stats : null, connections, external,
    memory: inspect.processes.map((p) => ({ pid: p.pid, kinds: memoryKinds(p) })),
    files: fileUses(inspect.processes),
  };
  if (meta) {
    report.createdAt = meta.createdAt;
    report.criu = meta.criu.version;
    report.host = meta.host.hostname;
  }
  const container = inspect.container ?? readContainerInfo(img.dir);
  if (container) report.container = container;
  if (opts.against) {
    const maxList = opts.maxPageList ?? 1000;
    const diff = diffCheckpoints(opts.against, img, { maxPageList: Number.MAX_SAFE_INTEGER });
    report.against = opts.against.dir;
    report.heat = heatStrips(diff, opts.heatCells ?? 64);
    for (const p of diff.processes) for (const m of p.memory) m.pages = m.pages.slice(0, maxList);
    report.diff = diff;
  }
  return report;
}

function memoryKinds(p: ProcessModel): MemoryKind[] {
  const by = new Map<MemoryKindName, MemoryKind>();
  for (const m of p.mappings) {
    const kind = mappingKind(m);
    let k = by.get(kind);
    if (!k) by.set(kind, (k = { kind, mappings: 0, mappedBytes: 0, dumpedBytes: 0 }));
    k.mappings++;
    k.mappedBytes += m.size;
    k.dumpedBytes += m.dumpedPages * 4096;
  }
  return KIND_ORDER.filter((k) => by.has(k)).map((k) => by.get(k)!);
}

function heatStrips(d: CheckpointDiff, cells: number): HeatStrip[] {
  const out: HeatStrip[] = [];
  for (const p of d.processes) {
    for (const m of p.memory) {
      const start = Number(BigInt(m.mapping.start));
      const pages = Math.max(1, Math.round((Number(BigInt(m.mapping.end)) - start) / 4096));
      const n = Math.min(cells, pages);
      const strip = new Array<number>(n).fill(0);
      for (const a of m.pages) strip[Math.min(n - 1, Math.floor(((Number(BigInt(a)) - start) / 4096) * n / pages))]!++;
      out.push({ pid: p.pid, start: m.mapping.start, end: m.mapping.end, name: m.mapping.name, pages, changedPages: m.changedPages, cells: strip });
    }
  }
  return out;
}

/** Pipes, connected sockets, open files and shared memory held by more than one end. */
function findConnections(processes: ProcessModel[]): { connections: Connection[]; external: ExternalPeer[] } {
  const connections: Connection[] = [];
  const external: ExternalPeer[] = [];
  const pipes = new Map<number, ConnectionEnd[]>();
  const unixHolders = new Map<number, ConnectionEnd[]>();
  const unixPairs = new Map<string, { ino: number; peer: number }>();
  const inetByLocal = new Map<string, ConnectionEnd[]>();
  const inetPairs = new Map<string, { local: string; remote: string; protocol: string }>();
  const files = new Map<number, { path: string; ends: ConnectionEnd[] }>();
  const shm = new Map<string, ConnectionEnd[]>();
  const push = <K>(m: Map<K, ConnectionEnd[]>, k: K, e: ConnectionEnd) => {
    const l = m.get(k);
    if (l) l.push(e);
    else m.set(k, [e]);
  };
  for (const p of processes) {
    for (const f of p.fds) {
      const end = { pid: p.pid, fd: f.fd };
      const s = f.socket;
      if (f.pipe !== undefined) push(pipes, f.pipe, end);
      else if (s?.family === 'unix' && s.ino !== undefined) {
        push(unixHolders, s.ino, end);
        if (s.peer) unixPairs.set(`${Math.min(s.ino, s.peer)}-${Math.max(s.ino, s.peer)}`, { ino: s.ino, peer: s.peer });
      } else if ((s?.family === 'inet' || s?.family === 'inet6') && s.local) {
        if (s.state !== 'LISTEN') push(inetByLocal, `${s.protocol}|${s.local}|${s.remote ?? ''}`, end);
        if (s.remote && s.state !== 'LISTEN') {
          const [x, y] = [s.local, s.remote].sort();
          inetPairs.set(`${s.protocol}|${x}|${y}`, { local: s.local, remote: s.remote, protocol: s.protocol ?? 'tcp' });
        }
      } else if (f.type === 'REG' && f.path !== undefined) {
        const got = files.get(f.fileId) ?? { path: f.path, ends: [] };
        got.ends.push(end);
        files.set(f.fileId, got);
      }
    }
    for (const m of p.mappings) if (m.shared && mappingKind(m) === 'shared') push(shm, `${m.start}-${m.end} ${m.name}`, { pid: p.pid });
  }
  const addExternal = (kind: ConnectionKind, label: string): string => {
    const id = `ext${external.length + 1}`;
    external.push({ id, kind, label });
    return id;
  };
  for (const [ino, ends] of pipes) connections.push({ id: `pipe-${ino}`, kind: 'pipe', label: `pipe[${ino}]`, ends });
  for (const [key, { ino, peer }] of unixPairs) {
    const ends = [...(unixHolders.get(ino) ?? []), ...(unixHolders.get(peer) ?? [])];
    if (!unixHolders.has(peer)) ends.push({ external: addExternal('unix', `unix socket ${peer}`) });
    if (!unixHolders.has(ino)) ends.push({ external: addExternal('unix', `unix socket ${ino}`) });
    connections.push({ id: `unix-${key}`, kind: 'unix', label: `unix ${ino} \u2194 ${peer}`, ends });
  }
  for (const [key, c] of inetPairs) {
    const kind: ConnectionKind = c.protocol === 'udp' ? 'udp' : 'tcp';
    const ends = [...(inetByLocal.get(`${c.protocol}|${c.local}|${c.remote}`) ?? [])];
    const back = inetByLocal.get(`${c.protocol}|${c.remote}|${c.local}`);
    if (back) ends.push(...back);
    else ends.push({ external: addExternal(kind, `${c.protocol} ${c.remote}`) });
    connections.push({ id: `${kind}-${key.split('|').slice(1).join('-')}`, kind, label: `${c.protocol} ${c.local} \u2194 ${c.remote}`, ends });
  }
  for (const [id, f] of files) if (new Set(f.ends.map((e) => e.pid)).size > 1) connections.push({ id: `file-${id}`, kind: 'file', label: f.path, ends: f.ends });
  for (const [key, ends] of shm) if (ends.length > 1) connections.push({ id: `shm-${key.split(' ')[0]}`, kind: 'shm', label: key.slice(key.indexOf(' ') + 1), ends });
  return { connections, external };
}

function fileUses(processes: ProcessModel[]): FileUse[] {
  const by = new Map<string, FileUse>();
  const use = (path: string | undefined, u: FileUse['uses'][number]) => {
    if (!path || !path.startsWith('/')) return;
    let f = by.get(path);
    if (!f) by.set(path, (f = { path, uses: [] }));
    const same = u.as === 'map' ? f.uses.find((x) => x.pid === u.pid && x.as === 'map') : undefined;
    if (same) same.mappings = (same.mappings ?? 0) + 1;
    else f.uses.push(u);
  };
  for (const p of processes) {
    use(p.exe, { pid: p.pid, as: 'exe' });
    use(p.cwd, { pid: p.pid, as: 'cwd' });
    use(p.root, { pid: p.pid, as: 'root' });
    for (const f of p.fds) if (f.type === 'REG' || f.type === 'FIFO') use(f.path, { pid: p.pid, as: 'fd', fd: f.fd });
    for (const m of p.mappings) if (mappingKind(m) === 'file' || (m.shared && m.name.startsWith('/'))) use(m.name, { pid: p.pid, as: 'map', mappings: 1 });
  }
  return [...by.values()].sort((a, b) => a.path.localeCompare(b.path));
}
