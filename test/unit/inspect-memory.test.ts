// The memory reader on a synthetic checkpoint written with the codec: present, lazy and parent
// pages, a parent directory, shared memory, and matches across page, run and chunk boundaries.
import assert from 'node:assert/strict';
import { testMeta } from '../helpers/archive.js';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
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
  plant(own, 0x14000 - 2 * PAGE, 0x15800, 'KEY\x1b[2J!'); // a match that would drive a terminal
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

describe('dumpMemory writes its file safely', () => {
  it('0600 whatever the umask, replacing a file or a symlink (never following it), no partial left', () => {
    const out = join(root, 'safe.bin');
    writeFileSync(out, 'old contents, longer than the range');
    const old = process.umask(0);
    try {
      dumpMemory(new ImageDir(dir), PID, 0x10000, 16, out);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.ok(readFileSync(out).equals(Buffer.alloc(16, 'a')));
    const victim = join(root, 'victim');
    writeFileSync(victim, 'keep me');
    const link = join(root, 'link.bin');
    symlinkSync(victim, link);
    dumpMemory(new ImageDir(dir), PID, 0x10000, 16, link);
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.ok(lstatSync(link).isFile());
    assert.throws(() => dumpMemory(new ImageDir(dir), PID, 0x10000, 16, join(root, 'no-dir', 'x.bin')), (e: unknown) => e instanceof CryoError && /cannot write/.test(e.message));
    assert.deepEqual(readdirSync(root).filter((n) => n.endsWith('.partial')), []);
  });
});

describe('cryo mem (the built CLI on this checkpoint)', () => {
  const main = join(import.meta.dirname, '../../src/cli/main.js');
  const cryo = (args: string[]) => spawnSync(process.execPath, [main, ...args], { timeout: 60_000 });

  it('prints the matched text, escaped, on each match head line (as grep)', () => {
    const r = cryo(['mem', dir, '--search', 'NEEDLE-ONE']);
    assert.equal(r.status, 0, r.stderr.toString());
    const head = r.stdout.toString().split('\n')[0]!;
    assert.match(head, /^100  0x10ffc  \S.* rw- \+0xffc  "NEEDLE-ONE"$/);
    const re = cryo(['mem', dir, '--regex', 'KEY.{4}']);
    assert.equal(re.status, 0, re.stderr.toString());
    const out = re.stdout.toString();
    assert.match(out.split('\n')[0]!, /  "KEY\\x1b\[2J"$/);
    assert.doesNotMatch(out, /\x1b/, 'no raw escape reaches the terminal');
    const none = cryo(['mem', dir, '--search', 'NOT-THERE']);
    assert.equal(none.status, 1);
  });

  it('--dump ADDR+LEN -o - writes the raw bytes to stdout, the report to stderr', () => {
    const r = cryo(['mem', dir, '--pid', String(PID), '--dump', '0x10000+0x2000', '-o', '-']);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(own.subarray(0, 2 * PAGE)));
    assert.match(r.stderr.toString(), /^wrote 8192 bytes of process 100 from 0x10000 to stdout\n$/);
    const j = cryo(['mem', dir, '--pid', String(PID), '--dump', '0x11ff0+32', '-o', '-', '--json']);
    assert.equal(j.stdout.length, 32);
    assert.deepEqual(JSON.parse(j.stderr.toString()).notDumped, [{ start: '0x12000', end: '0x12010' }]);
  });

  it('--dump -o - refuses a terminal, with a command that redirects', (t) => {
    if (spawnSync('script', ['--version']).error) return t.skip('script(1) is not installed: no pty to test with');
    const cmd = [process.execPath, main, 'mem', dir, '--pid', String(PID), '--dump', '0x10000+16', '-o', '-'].map((w) => `'${w}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stdout, /cryo: error: refusing to write raw memory to a terminal\r?\nhint: redirect it: cryo mem .* -o - > mem\.bin/);
  });

  it('--pid accepts the host pid `cryo run` printed (cryo.json)', async () => {
    {
      const copy = join(root, 'with-meta');
      if (!existsSync(copy)) cpSync(dir, copy, { recursive: true, verbatimSymlinks: true });
      const base = await testMeta(copy, { files: [] });
      const meta = { ...base, tree: { pid: 4242, rootPid: 4241, pidns: true, nsPid: PID, netns: false, processes: [] } };
      writeFileSync(join(copy, 'cryo.json'), JSON.stringify(meta));
      const r = cryo(['mem', copy, '--pid', '4242', '--search', 'NEEDLE-ONE']);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.match(r.stdout.toString(), /^100  0x10ffc/);
      const bad = cryo(['mem', copy, '--pid', '4243', '--search', 'NEEDLE-ONE']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr.toString(), /process 4243 is not in the checkpoint/);
    }
  });
});

function readPage(b: Buffer, i: number): Buffer {
  return b.subarray(i * PAGE, (i + 1) * PAGE);
}
