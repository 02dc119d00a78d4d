// The data behind crit's explore views (`crit x DIR ps|fds|mems|rss`), same content and order.
import { CryoError } from '../errors.js';
import { FileTable } from './files.js';
import { FD_TYPES } from './files.js';
import { ImageDir, type Entry } from './images.js';
import {
  VMA_ANON_SHARED, VMA_AREA_REGULAR, VMA_AREA_SOCKET, VMA_AREA_STACK, VMA_AREA_SYSVIPC, VMA_AREA_VDSO, VMA_AREA_VSYSCALL,
  VMA_FILE_PRIVATE, VMA_FILE_SHARED,
} from './memory.js';

export interface PsRow { pid: number; pgid: number; sid: number; comm: string; depth: number }
export interface FdsProcess { pid: number; fds: Array<{ fd: number | 'cwd' | 'root'; file: string }> }
/** start/end: numbers below 2^53, bigints above (the vsyscall page) */
export interface MemsProcess { pid: number; exe: string; vmas: Array<{ start: number | bigint; end: number | bigint; prot: string; name: string }> }
export interface RssRun { vaddr: bigint; pages: number; vmas: Array<{ start: bigint; pages: number; file?: string } | 'same'> }
export interface RssProcess { pid: number; runs: RssRun[] }

function pstreeEntries(img: ImageDir): Entry[] {
  return img.entries('pstree.img');
}

/** Tasks with their own images: a zombie has only a core (crit's views fail on it; ours leave it out). */
function liveEntries(img: ImageDir): Entry[] {
  return pstreeEntries(img).filter((p) => {
    const pid = taskId(p, 'pid');
    return img.has(`mm-${pid}.img`) || !img.has(`core-${pid}.img`) || Number(img.first(`core-${pid}.img`).tc?.task_state) !== 2;
  });
}

export function taskId(p: Entry, what: 'pid' | 'pgid' | 'sid'): number {
  if (p[what] !== undefined) return Number(p[what]);
  const ns = p[`ns_${what}`];
  return Number(Array.isArray(ns) ? ns[0] : 0);
}

export function explorePs(img: ImageDir): PsRow[] {
  const items = new Map<number, { p: Entry; comm: string; kids: number[] }>();
  for (const p of pstreeEntries(img)) {
    const pid = taskId(p, 'pid');
    const core = img.first(`core-${pid}.img`);
    items.set(pid, { p, comm: core.tc?.comm ?? '', kids: [] });
  }
  let root: number | undefined;
  for (const [pid, it] of items) {
    const ppid = Number(it.p.ppid);
    if (ppid === 0) root = pid;
    else items.get(ppid)?.kids.push(pid);
  }
  const rows: PsRow[] = [];
  const walk = (pid: number, depth: number) => {
    const it = items.get(pid)!;
    rows.push({ pid, pgid: taskId(it.p, 'pgid'), sid: taskId(it.p, 'sid'), comm: it.comm, depth });
    for (const k of it.kids) walk(k, depth + 1);
  };
  if (root !== undefined) walk(root, 0);
  return rows;
}

export function exploreFds(img: ImageDir): FdsProcess[] {
  const files = new FileTable(img);
  return liveEntries(img).map((p) => {
    const pid = taskId(p, 'pid');
    const ids = img.first(`ids-${pid}.img`);
    const fds: FdsProcess['fds'] = img.entries(`fdinfo-${ids.files_id}.img`).map((fd) => ({
      fd: Number(fd.fd), file: files.info(FD_TYPES[Number(fd.type)] ?? String(fd.type), Number(fd.id)).text,
    }));
    const fs = img.first(`fs-${pid}.img`);
    fds.push({ fd: 'cwd', file: files.info('REG', Number(fs.cwd_id)).text });
    fds.push({ fd: 'root', file: files.info('REG', Number(fs.root_id)).text });
    return { pid, fds };
  });
}

/** crit's numbering of shared objects in `mems`: 1, 2, ... in order of first appearance. */
class ObjectIds {
  private readonly ids = new Map<string, number>();
  get(key: unknown): number {
    const k = String(key);
    let v = this.ids.get(k);
    if (v === undefined) {
      v = this.ids.size + 1;
      this.ids.set(k, v);
    }
    return v;
  }
}

const PROTS = ['---', 'r--', '-w-', 'rw-', '--x', 'r-x', '-wx', 'rwx'];

export function exploreMems(img: ImageDir): MemsProcess[] {
  const files = new FileTable(img);
  const oids = new ObjectIds();
  return liveEntries(img).map((p) => {
    const pid = taskId(p, 'pid');
    const mm = img.first(`mm-${pid}.img`);
    const vmas = ((mm.vmas ?? []) as Entry[]).map((v) => {
      const st = Number(v.status);
      let fn: string;
      if (st & VMA_AREA_SYSVIPC) fn = ` ips[${oids.get(v.shmid).toString(16)}]`;
      else if (st & VMA_ANON_SHARED) fn = ` shmem[${oids.get(v.shmid).toString(16)}]`;
      else if (st & VMA_AREA_SOCKET) fn = ` packet[${oids.get(v.shmid).toString(16)}]`;
      else if (st & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) {
        fn = ` ${files.info('REG', Number(v.shmid)).text}`;
        if (v.pgoff) fn += ` + 0x${v.pgoff.toString(16)}`;
        if (st & VMA_FILE_SHARED) fn += ' (s)';
      } else if (st & VMA_AREA_STACK) fn = ' [stack]';
      else if (st & VMA_AREA_VSYSCALL) fn = ' [vsyscall]';
      else if (st & VMA_AREA_VDSO) fn = ' [vdso]';
      else if (Number(v.flags) & 0x0100) fn = ' [stack?]';
      else fn = '';
      if (!(st & VMA_AREA_REGULAR)) fn += ' *';
      const prot = Number(v.prot);
      return { start: v.start, end: v.end, prot: PROTS[prot & 7]!, name: fn };
    });
    return { pid, exe: files.info('REG', Number(mm.exe_file_id)).text, vmas };
  });
}

export function exploreRss(img: ImageDir): RssProcess[] {
  const files = new FileTable(img);
  return liveEntries(img).map((p) => {
    const pid = taskId(p, 'pid');
    const vmas = (img.first(`mm-${pid}.img`).vmas ?? []) as Entry[];
    const pms = img.entries(`pagemap-${pid}.img`);
    const runs: RssRun[] = [];
    let vmi = 0;
    let pvmi = -1;
    for (const pm of pms.slice(1)) {
      const vaddr = BigInt(pm.vaddr ?? 0);
      const nr = Number(pm.nr_pages ?? pm.compat_nr_pages ?? 0);
      while (vmi < vmas.length && BigInt(vmas[vmi]!.end) <= vaddr) vmi++;
      const pme = vaddr + (BigInt(nr) << 12n);
      const run: RssRun = { vaddr, pages: nr, vmas: [] };
      const firstVma = vmi;
      while (vmi < vmas.length && BigInt(vmas[vmi]!.start) < pme) {
        const v = vmas[vmi]!;
        if (vmi === pvmi) run.vmas.push('same');
        else {
          const item: { start: bigint; pages: number; file?: string } = { start: BigInt(v.start), pages: Number((BigInt(v.end) - BigInt(v.start)) >> 12n) };
          if (Number(v.status) & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) item.file = files.info('REG', Number(v.shmid)).text;
          run.vmas.push(item);
          pvmi = vmi;
        }
        vmi++;
      }
      // CRIU dumps pages of mappings only: a run outside them is a damaged (or forged) pagemap
      if (vmi === firstVma || vaddr < BigInt(vmas[firstVma]!.start) || pme > BigInt(vmas[vmi - 1]!.end)) {
        throw new CryoError('BAD_IMAGE', `pagemap-${pid}.img in ${img.dir}: ${nr} pages at 0x${vaddr.toString(16)} lie outside the process's mappings`, {
          hint: 'the checkpoint is damaged; use a complete copy or dump again', details: { file: img.path(`pagemap-${pid}.img`) },
        });
      }
      // back to the last VMA this run touched (it may hold the next run too); never before the first
      vmi = Math.max(0, vmi - 1);
      runs.push(run);
    }
    return { pid, runs };
  });
}
