// diffCheckpoints: what changed between two checkpoints of one tree: processes and threads,
// open files and sockets, mappings, and memory pages per mapping (compared byte for byte).
import { AddressSpace } from './address-space.js';
import { ImageDir } from './images.js';
import { inspectCheckpoint, type FdModel, type MappingModel, type ProcessModel } from './model.js';
import { PageFiles, PAGE_SIZE, readPieces } from './memory.js';

export interface FdChange { fd: number; type: string; description: string; socket: boolean }

interface MappingRef { start: string; end: string; prot: string; name: string }

export interface MemoryChange {
  mapping: MappingRef;
  /** pages whose bytes differ (or that are dumped in only one checkpoint) */
  changedPages: number;
  changedBytes: number;
  /** the changed pages' addresses (hex); capped at `maxPageList` */
  pages: string[];
}

export interface ProcessDiff {
  pid: number;
  comm: string;
  /** thread ids only in B, and only in A */
  tidsAdded: number[];
  tidsGone: number[];
  filesOpened: FdChange[];
  filesClosed: FdChange[];
  mappingsAdded: MappingRef[];
  mappingsGone: MappingRef[];
  /** same start, different end, protection or backing */
  mappingsChanged: Array<{ before: MappingRef; after: MappingRef }>;
  memory: MemoryChange[];
  changedPages: number;
  changedBytes: number;
}

export interface CheckpointDiff {
  a: string;
  b: string;
  processesAdded: Array<{ pid: number; comm: string }>;
  processesGone: Array<{ pid: number; comm: string }>;
  processes: ProcessDiff[];
  /** nothing differs (what `cryo diff` exits 0 for, as diff(1)) */
  same: boolean;
}

export interface DiffOptions {
  /** compare memory page contents (default true) */
  memory?: boolean;
  /** longest list of page addresses per mapping (default 1000) */
  maxPageList?: number;
}

const ref = (m: MappingModel): MappingRef => ({ start: m.start, end: m.end, prot: m.prot, name: m.name });
const fdKey = (f: FdModel) => `${f.fd}\0${f.type}\0${f.description}`;
const fdChange = (f: FdModel): FdChange => ({ fd: f.fd, type: f.type, description: f.description, socket: f.socket !== undefined });

export function diffCheckpoints(a: string | ImageDir, b: string | ImageDir, opts: DiffOptions = {}): CheckpointDiff {
  const ia = typeof a === 'string' ? new ImageDir(a) : a;
  const ib = typeof b === 'string' ? new ImageDir(b) : b;
  const ma = inspectCheckpoint(ia);
  const mb = inspectCheckpoint(ib);
  const pa = new Map(ma.processes.map((p) => [p.pid, p]));
  const pb = new Map(mb.processes.map((p) => [p.pid, p]));
  const out: CheckpointDiff = {
    a: ia.dir, b: ib.dir,
    processesAdded: mb.processes.filter((p) => !pa.has(p.pid)).map((p) => ({ pid: p.pid, comm: p.comm })),
    processesGone: ma.processes.filter((p) => !pb.has(p.pid)).map((p) => ({ pid: p.pid, comm: p.comm })),
    processes: [],
    same: true,
  };
  const filesA = new PageFiles();
  const filesB = new PageFiles();
  try {
    for (const q of mb.processes) {
      const p = pa.get(q.pid);
      if (p) out.processes.push(diffProcess(ia, ib, p, q, filesA, filesB, opts));
    }
  } finally {
    filesA.close();
    filesB.close();
  }
  out.same = out.processesAdded.length === 0 && out.processesGone.length === 0 && out.processes.every(isUnchanged);
  return out;
}

function diffProcess(ia: ImageDir, ib: ImageDir, p: ProcessModel, q: ProcessModel, filesA: PageFiles, filesB: PageFiles, opts: DiffOptions): ProcessDiff {
  const ta = new Set(p.tasks.map((t) => t.tid));
  const tb = new Set(q.tasks.map((t) => t.tid));
  const fa = new Map(p.fds.map((f) => [fdKey(f), f]));
  const fb = new Map(q.fds.map((f) => [fdKey(f), f]));
  const mapsA = new Map(p.mappings.map((m) => [m.start, m]));
  const mapsB = new Map(q.mappings.map((m) => [m.start, m]));
  const d: ProcessDiff = {
    pid: q.pid, comm: q.comm,
    tidsAdded: [...tb].filter((t) => !ta.has(t)), tidsGone: [...ta].filter((t) => !tb.has(t)),
    filesOpened: q.fds.filter((f) => !fa.has(fdKey(f))).map(fdChange),
    filesClosed: p.fds.filter((f) => !fb.has(fdKey(f))).map(fdChange),
    mappingsAdded: q.mappings.filter((m) => !mapsA.has(m.start)).map(ref),
    mappingsGone: p.mappings.filter((m) => !mapsB.has(m.start)).map(ref),
    mappingsChanged: [],
    memory: [], changedPages: 0, changedBytes: 0,
  };
  for (const m of q.mappings) {
    const old = mapsA.get(m.start);
    if (old && (old.end !== m.end || old.prot !== m.prot || old.name !== m.name || old.shared !== m.shared)) d.mappingsChanged.push({ before: ref(old), after: ref(m) });
  }
  if (opts.memory === false || !ia.has(`mm-${p.pid}.img`) || !ib.has(`mm-${q.pid}.img`)) return d;
  const sa = new AddressSpace(ia, p.pid);
  const sb = new AddressSpace(ib, q.pid);
  const maxList = opts.maxPageList ?? 1000;
  const CHUNK = 4 << 20;
  for (const m of q.mappings) {
    const start = Number(BigInt(m.start));
    const end = Number(BigInt(m.end));
    if (!Number.isSafeInteger(end)) continue;
    const change: MemoryChange = { mapping: ref(m), changedPages: 0, changedBytes: 0, pages: [] };
    // what either side dumped, in address order: a huge mapping costs its runs, not its size
    const dumped = [...sa.pieces(start, end), ...sb.pieces(start, end)].filter((x) => x.file !== null).sort((x, y) => x.vaddr - y.vaddr);
    let di = 0;
    for (let at = start; at < end; at += CHUNK) {
      while (di < dumped.length && dumped[di]!.vaddr + dumped[di]!.len <= at) di++;
      if (di === dumped.length) break;
      if (dumped[di]!.vaddr >= at + CHUNK) at += Math.floor((dumped[di]!.vaddr - at) / CHUNK) * CHUNK;
      if (at >= end) break;
      const len = Math.min(CHUNK, end - at);
      const pcB = sb.pieces(at, at + len);
      const pcA = sa.pieces(at, at + len);
      // nothing dumped on either side: nothing to compare
      if (!pcB.some((x) => x.file !== null) && !pcA.some((x) => x.file !== null)) continue;
      const rb = readPieces(pcB, at, len, filesB);
      const ra = readPieces(pcA, at, len, filesA);
      const absentA = pageSet(ra.missing, at);
      const absentB = pageSet(rb.missing, at);
      for (let off = 0; off < len; off += PAGE_SIZE) {
        const inA = !absentA.has(off);
        const inB = !absentB.has(off);
        if (!inA && !inB) continue;
        const stop = Math.min(off + PAGE_SIZE, len);
        const same = inA === inB && ra.data.compare(rb.data, off, stop, off, stop) === 0;
        if (same) continue;
        change.changedPages++;
        if (change.pages.length < maxList) change.pages.push(`0x${(at + off).toString(16)}`);
      }
    }
    if (change.changedPages) {
      change.changedBytes = change.changedPages * PAGE_SIZE;
      d.memory.push(change);
      d.changedPages += change.changedPages;
    }
  }
  d.changedBytes = d.changedPages * PAGE_SIZE;
  return d;
}

function isUnchanged(p: ProcessDiff): boolean {
  return !p.tidsAdded.length && !p.tidsGone.length && !p.filesOpened.length && !p.filesClosed.length && !p.mappingsAdded.length
    && !p.mappingsGone.length && !p.mappingsChanged.length && !p.memory.length;
}

/** page offsets (relative to base) covered by the missing ranges */
function pageSet(missing: Array<{ start: number; end: number }>, base: number): Set<number> {
  const s = new Set<number>();
  for (const m of missing) for (let a = m.start; a < m.end; a += PAGE_SIZE) s.add(a - base);
  return s;
}
