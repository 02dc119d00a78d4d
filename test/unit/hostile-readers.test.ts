// Hostile checkpoints at the library's readers (no CRIU needed): every count and address read from
// a file is bounded before it sizes a read or a loop; a parent loop, a FIFO, a device or a huge
// input is one CryoError BAD_IMAGE (exit 4), never a crash or a hang.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { decodeImage, encodeImage, readImage } from '../../src/images/index.js';
import { readInput } from '../../src/cli/image-io.js';
import { AddressSpace } from '../../src/inspect/address-space.js';
import { diffCheckpoints } from '../../src/inspect/diff.js';
import { exploreRss } from '../../src/inspect/explore.js';
import { ImageDir } from '../../src/inspect/images.js';
import { MemoryImage } from '../../src/inspect/memory.js';
import { searchMemory } from '../../src/inspect/search.js';
import { fixtureDir } from '../helpers/images-fixtures.js';
import { tempDir } from '../helpers/trees.js';

const PID = 28602;
const work = tempDir('cryo-hostile-unit-');
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function copy(): string {
  const d = join(work, `ck${n++}`);
  cpSync(fixtureDir, d, { recursive: true, filter: (s) => !s.endsWith('.json') });
  return d;
}

function edit(dir: string, name: string, f: (e: Array<Record<string, any>>) => void): void {
  const img = decodeImage(readFileSync(join(dir, name)), { name });
  f(img.entries as Array<Record<string, any>>);
  writeFileSync(join(dir, name), encodeImage(img));
}

function bad(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CryoError, `expected a CryoError, got ${(e as Error)?.stack ?? e}`);
    assert.equal(e.exitCode, 4, e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'));
    assert.ok(e.hint);
    return true;
  });
}

describe('hostile checkpoints at the readers', () => {
  it('a parent link to itself, or a cycle of two, is refused before it recurses', () => {
    const a = copy();
    const b = copy();
    for (const d of [a, b]) edit(d, `pagemap-${PID}.img`, (e) => { for (const x of e.slice(1)) x.flags = 1; });
    symlinkSync('.', join(a, 'parent'));
    bad(() => new MemoryImage(new ImageDir(a), `pagemap-${PID}.img`).pieces(0, 2 ** 47), /parent chain of .* loops back/);
    rmSync(join(a, 'parent'));
    symlinkSync(b, join(a, 'parent'));
    symlinkSync(a, join(b, 'parent'));
    bad(() => searchMemory(new ImageDir(a), { text: 'x' }), /parent chain of .* loops back/);
    // a parent that is a file, not a checkpoint
    rmSync(join(a, 'parent'));
    symlinkSync('pstree.img', join(a, 'parent'));
    bad(() => new ImageDir(a).parent(), /parent checkpoint of .* is missing/);
  });

  it('a chain of real parents is followed', () => {
    const a = copy();
    const b = copy();
    symlinkSync(b, join(a, 'parent'));
    assert.equal(new ImageDir(a).parent()?.dir, b);
    assert.equal(new ImageDir(a).parent()?.parent(), null);
  });

  it('a pagemap count or address past 2^53 is refused by the page map, not by a read', () => {
    for (const [field, value] of [['vaddr', 0xffffffffffff0000n], ['nr_pages', 0xffffffff]] as const) {
      const d = copy();
      edit(d, `pagemap-${PID}.img`, (e) => { for (const x of e.slice(1)) x.flags = 1; e[1]![field] = value; if (field === 'vaddr') e[1]!.nr_pages = 0xffffffff; });
      if (field === 'vaddr') bad(() => new MemoryImage(new ImageDir(d), `pagemap-${PID}.img`), /entry 1 has an impossible range/);
      // x rss: a run outside every mapping
      bad(() => exploreRss(new ImageDir(d)), /pages at 0x[0-9a-f]+ lie outside the process's mappings/);
    }
  });

  it('a pages file shorter than its pagemap promises is refused when the map is read', () => {
    const d = copy();
    writeFileSync(join(d, 'pages-3.img'), Buffer.alloc(4096));
    bad(() => new MemoryImage(new ImageDir(d), `pagemap-${PID}.img`), /pagemap-28602\.img in .* lists \d+ bytes of pages, but pages-3\.img has 4096/);
  });

  it('x rss of a run before the first mapping: refused, not a crash on vmas[-1]', () => {
    const d = copy();
    edit(d, `pagemap-${PID}.img`, (e) => { e[1]!.vaddr = 0; });
    bad(() => exploreRss(new ImageDir(d)), /1 pages at 0x0 lie outside/);
  });

  it('an unaligned, empty or unsorted VMA is refused before any lookup bisects it', () => {
    for (const [what, f] of [
      ['unaligned', (v: any[]) => { v[0].end = BigInt(v[0].end) ^ 0x10n; }],
      ['empty', (v: any[]) => { v[0].end = v[0].start; }],
      ['unsorted', (v: any[]) => { [v[0], v[1]] = [v[1], v[0]]; }],
    ] as const) {
      const d = copy();
      edit(d, `mm-${PID}.img`, (e) => f(e[0]!.vmas));
      bad(() => new AddressSpace(new ImageDir(d), PID), /VMA \d+ .* is empty, unaligned or overlaps/);
      bad(() => diffCheckpoints(d, fixtureDir), /VMA/);
      void what;
    }
  });

  it('a FIFO, a device or a directory in place of an image is refused at once', () => {
    const d = copy();
    rmSync(join(d, 'pstree.img'));
    assert.equal(spawnSync('mkfifo', ['-m', '600', join(d, 'pstree.img')]).status, 0);
    const t0 = Date.now();
    bad(() => readImage(join(d, 'pstree.img')), /pstree\.img is not a regular file/);
    bad(() => new ImageDir(d).raw('pstree.img'), /not a regular file/);
    assert.ok(Date.now() - t0 < 2000);
    rmSync(join(d, `mm-${PID}.img`));
    symlinkSync('/dev/zero', join(d, `mm-${PID}.img`));
    bad(() => readImage(join(d, `mm-${PID}.img`)), /is not a regular file/);
    bad(() => readImage(d), /is not a regular file/);
  });

  it('readInput refuses a file or a stream larger than its bound, before reading it whole', async () => {
    const f = join(work, 'big.json');
    writeFileSync(f, Buffer.alloc(5000, 0x20));
    await assert.rejects(readInput(f, 4096, '--max-input-size'), (e: unknown) => e instanceof CryoError && e.exitCode === 4 && /big\.json is larger than the 4096 bytes/.test(e.message) && /--max-input-size/.test(e.hint ?? ''));
    assert.equal((await readInput(f, 5000)).length, 5000);
    await assert.rejects(readInput(work), (e: unknown) => e instanceof CryoError && e.code === 'USAGE');
  });
});
