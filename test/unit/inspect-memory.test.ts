// The memory reader on a synthetic checkpoint written with the codec: present, lazy and parent
// pages, a parent directory, shared memory, and matches across page, run and chunk boundaries.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { readImage, readImageLean, writeImage } from '../../src/images/index.js';
import { ImageDir } from '../../src/inspect/images.js';
import { PE_LAZY, PE_PARENT, PE_PRESENT, VMA_ANON_PRIVATE, VMA_ANON_SHARED, VMA_AREA_REGULAR } from '../../src/inspect/memory.js';
import { dumpMemory, readMemory, searchMemory } from '../../src/inspect/search.js';

const PAGE = 4096;
const PID = 100;
let root: string;
let dir: string;

function vma(start: number, end: number, status: number, shmid = 0) {
  return { start: BigInt(start), end: BigInt(end), pgoff: 0n, shmid: BigInt(shmid), prot: 3, flags: status & VMA_ANON_SHARED ? 0x21 : 0x22, status, fd: -1n };
}

function mmEntry(vmas: ReturnType<typeof vma>[]) {
  const z = 0n;
  return {
    mm_start_code: z, mm_end_code: z, mm_start_data: z, mm_end_data: z, mm_start_stack: z, mm_start_brk: z, mm_brk: z,
    mm_arg_start: z, mm_arg_end: z, mm_env_start: z, mm_env_end: z, exe_file_id: 0, vmas,
  };
}

function page(fill: string | number): Buffer {
  return typeof fill === 'number' ? Buffer.alloc(PAGE, fill) : Buffer.alloc(PAGE, fill);
}

/** put `text` into `buf` so that it starts at `addr` (buf covers from `base`) */
function plant(buf: Buffer, base: number, addr: number, text: string): void {
  buf.write(text, addr - base, 'latin1');
}

// layout of process 100:
//   0x10000-0x12000 present (own pages-1: pages 0,1)
//   0x12000-0x13000 lazy, not present (not in the images)
//   0x13000-0x14000 in the parent (parent's pages-1)
//   0x14000-0x16000 present (own pages-1: pages 2,3)
//   0x20000-0x22000 anonymous shared memory 77 (pages-2 through pagemap-shmem-77)
const own = Buffer.concat([page('a'), page('b'), page('c'), page('d')]);
const parentPage = page('p');
const shm = Buffer.concat([page('s'), page('t')]);

before(() => {
  root = mkdtempSync(join(tmpdir(), 'cryo-unit-inspect-'));
  dir = join(root, 'child');
  const pdir = join(root, 'parent');
  mkdirSync(dir);
  mkdirSync(pdir);
  // needles: across a page boundary, across own->parent->own runs, across the shared pages
  plant(own, 0x10000, 0x10ffc, 'NEEDLE-ONE'); // page 0 -> page 1
  plant(parentPage, 0x13000, 0x13ffc, 'NEED'); // parent page end ...
  plant(own, 0x14000 - 2 * PAGE, 0x14000, 'LE-TWO'); // ... continues on own page 2 (file offset 2 pages)
  plant(shm, 0, 0xffd, 'NEEDLE-SHM');
  writeImage(join(dir, 'pstree.img'), { magic: 'PSTREE', entries: [{ pid: PID, ppid: 0, pgid: PID, sid: PID, threads: [PID] }] });
  writeImage(join(dir, 'mm-100.img'), {
    magic: 'MM',
    entries: [mmEntry([
      vma(0x10000, 0x16000, VMA_AREA_REGULAR | VMA_ANON_PRIVATE),
      vma(0x20000, 0x22000, VMA_AREA_REGULAR | VMA_ANON_SHARED, 77),
    ])],
  });
  writeImage(join(dir, 'pagemap-100.img'), {
    magic: 'PAGEMAP',
    entries: [
      { pages_id: 1 },
      { vaddr: 0x10000n, compat_nr_pages: 0, flags: PE_PRESENT, nr_pages: 2n },
      { vaddr: 0x12000n, compat_nr_pages: 0, flags: PE_LAZY, nr_pages: 1n },
      { vaddr: 0x13000n, compat_nr_pages: 0, flags: PE_PARENT, nr_pages: 1n },
      { vaddr: 0x14000n, compat_nr_pages: 0, flags: PE_PRESENT | PE_LAZY, nr_pages: 2n },
    ],
  });
  writeFileSync(join(dir, 'pages-1.img'), own);
  writeImage(join(dir, 'pagemap-shmem-77.img'), { magic: 'PAGEMAP', entries: [{ pages_id: 2 }, { vaddr: 0n, compat_nr_pages: 0, flags: PE_PRESENT, nr_pages: 2n }] });
  writeFileSync(join(dir, 'pages-2.img'), shm);
  writeImage(join(pdir, 'pagemap-100.img'), { magic: 'PAGEMAP', entries: [{ pages_id: 1 }, { vaddr: 0x13000n, compat_nr_pages: 0, flags: PE_PRESENT, nr_pages: 1n }] });
  writeFileSync(join(pdir, 'pages-1.img'), parentPage);
  symlinkSync('../parent', join(dir, 'parent'));
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('memory of a checkpoint', () => {
  it('reads present, lazy, parent and shared pages at their addresses', () => {
    const img = new ImageDir(dir);
    const r = readMemory(img, PID, 0x10000, 0x6000);
    assert.ok(r.data.subarray(0, PAGE).equals(readPage(own, 0)));
    assert.ok(r.data.subarray(PAGE, 2 * PAGE).equals(readPage(own, 1)));
    assert.ok(r.data.subarray(2 * PAGE, 3 * PAGE).equals(Buffer.alloc(PAGE)), 'a lazy page that is not present reads as zeros');
    assert.ok(r.data.subarray(3 * PAGE, 4 * PAGE).equals(parentPage), 'an in_parent page comes from the parent checkpoint');
    assert.ok(r.data.subarray(4 * PAGE, 6 * PAGE).equals(own.subarray(2 * PAGE)));
    assert.deepEqual(r.missing, [{ start: 0x12000, end: 0x13000 }]);
    const s = readMemory(img, PID, 0x20000, 2 * PAGE);
    assert.ok(s.data.equals(shm));
    assert.deepEqual(s.missing, []);
  });

  for (const chunkSize of [undefined, 1]) {
    it(`finds matches across page, run and file boundaries (chunk ${chunkSize ?? 'default'})`, () => {
      const img = new ImageDir(dir);
      const found = searchMemory(img, { text: 'NEEDLE', chunkSize }).map((m) => [m.address, m.mapping.start]);
      assert.deepEqual(found, [[0x10ffc, 0x10000], [0x13ffc, 0x10000], [0x20ffd, 0x20000]]);
      const two = searchMemory(img, { text: 'NEEDLE-TWO', chunkSize });
      assert.deepEqual(two.map((m) => m.address), [0x13ffc], 'the match spans the parent page and the own page');
      assert.equal(two[0]!.match.toString('latin1'), 'NEEDLE-TWO');
      const re = searchMemory(img, { regex: /NEEDLE-(ONE|TWO|SHM)/, chunkSize });
      assert.deepEqual(re.map((m) => [m.address, m.match.toString('latin1')]), [[0x10ffc, 'NEEDLE-ONE'], [0x13ffc, 'NEEDLE-TWO'], [0x20ffd, 'NEEDLE-SHM']]);
    });
  }

  it('gives each match its context, bounded by the mapping', () => {
    const [m] = searchMemory(new ImageDir(dir), { text: 'NEEDLE-ONE', context: 4 });
    assert.equal(m!.contextStart, 0x10ffc - 4);
    assert.equal(m!.context.toString('latin1'), 'aaaaNEEDLE-ONEbbbb');
    assert.equal(m!.offset, 0xffc);
  });

  it('finds nothing that is not there, and stops at maxMatches', () => {
    const img = new ImageDir(dir);
    assert.deepEqual(searchMemory(img, { text: 'NOT-THERE' }), []);
    assert.equal(searchMemory(img, { text: 'a' }).length, PAGE - 4);
    assert.equal(searchMemory(img, { text: 'a', maxMatches: 3 }).length, 3);
  });

  it('dumps a range with zeros where pages are not in the checkpoint', () => {
    const out = join(root, 'range.bin');
    const r = dumpMemory(new ImageDir(dir), PID, 0x11ff0, 0x20, out);
    assert.equal(r.written, 0x20);
    assert.deepEqual(r.missing, [{ start: 0x12000, end: 0x12010 }]);
    assert.ok(readFileSync(out).equals(Buffer.concat([Buffer.alloc(16, 'b'), Buffer.alloc(16)])));
  });

  it('names a missing image and a missing process', () => {
    const broken = join(root, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'pstree.img'), readFileSync(join(dir, 'pstree.img')));
    writeFileSync(join(broken, 'mm-100.img'), readFileSync(join(dir, 'mm-100.img')));
    assert.throws(() => searchMemory(new ImageDir(broken), { text: 'x' }), (e: unknown) => e instanceof CryoError && e.exitCode === 4 && /missing pagemap-100\.img/.test(e.message));
    assert.throws(() => readMemory(new ImageDir(dir), 7, 0, 1), (e: unknown) => e instanceof CryoError && e.code === 'NOT_FOUND' && /process 7/.test(e.message));
    assert.throws(() => new ImageDir(join(root, 'nope')), (e: unknown) => e instanceof CryoError && /no checkpoint directory/.test(e.message));
  });

  it('lean mm and pagemap decoders agree with the codec', () => {
    const big = join(root, 'mm-1.img');
    const vmas = [vma(0x400000, 0x401000, 1), { ...vma(0x7fff0000, 0x7fff1000, 3), fd: -5n, madv: 0x10n, fdflags: 2 }, vma(0xffffffffff600000, 0xffffffffff601000, 4)];
    writeImage(big, { magic: 'MM', entries: [{ ...mmEntry(vmas), mm_saved_auxv: [33n, 0x7ffff7fc1000n], dumpable: 1 }] });
    const ours = readImageLean(big).entries[0]!;
    const theirs = readImage(big).entries[0]!;
    const norm = (o: unknown): unknown => JSON.parse(JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? String(v) : typeof v === 'number' ? String(v) : v)));
    for (const k of ['mm_start_code', 'exe_file_id', 'mm_saved_auxv', 'dumpable']) assert.deepEqual(norm(ours[k]), norm(theirs[k]), k);
    assert.deepEqual(norm(ours.vmas), norm(theirs.vmas));
    assert.equal((ours.vmas as Array<{ start: unknown }>)[2]!.start, 0xffffffffff600000n, 'addresses beyond 2^53 stay exact');
    const pm = join(dir, 'pagemap-100.img');
    assert.deepEqual(norm(readImageLean(pm).entries), norm(readImage(pm).entries));
  });
});

function readPage(b: Buffer, i: number): Buffer {
  return b.subarray(i * PAGE, (i + 1) * PAGE);
}
