// Lean decoding: on every fixture it gives the full decode with 64-bit values as numbers (bigints
// beyond 2^53); damage fails the same way in both modes; selections, magic checks, missing files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { decodeImage, encodeImage, iterateImage, readImageEntries, readImageLean, type Entry } from '../../src/images/index.js';
import { leanDecoderOf } from '../../src/images/lean.js';
import { messageType } from '../../src/images/schema.js';
import { imageFixtures, prng, toLean } from '../helpers/images-fixtures.js';


function outcome(fn: () => { magic: string; entries: Entry[] }): { ok: true; magic: string; entries: unknown } | { ok: false; code: string; message: string } {
  try {
    const img = fn();
    return { ok: true, magic: img.magic, entries: img.entries };
  } catch (e) {
    if (!(e instanceof CryoError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

const z = 0n;
const MM_HEAD = { mm_start_code: z, mm_end_code: z, mm_start_data: z, mm_end_data: z, mm_start_stack: z, mm_start_brk: z, mm_brk: z, mm_arg_start: z, mm_arg_end: z, mm_env_start: z, mm_env_end: z, exe_file_id: 7 };
const vma = (start: bigint, end: bigint, fd: bigint) => ({ start, end, pgoff: z, shmid: 3n, prot: 3, flags: 0x22, status: 0x201, fd });

describe('lean decoding', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cryo-lean-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('equals the full decode converted to numbers, on every fixture', () => {
    const fixtures = imageFixtures();
    assert.ok(fixtures.length > 20);
    for (const fx of fixtures) {
      const full = decodeImage(fx.bytes, { name: fx.name });
      const lean = decodeImage(fx.bytes, { name: fx.name, lean: true });
      assert.equal(lean.magic, full.magic, fx.name);
      assert.deepStrictEqual(lean.entries, toLean(full.entries), fx.name);
      assert.deepStrictEqual(lean.raw, full.raw, fx.name);
    }
  });

  it('streams the same lean entries as it decodes them', async () => {
    for (const fx of imageFixtures()) {
      const got: Entry[] = [];
      const src = Readable.from([fx.bytes.subarray(0, 5), fx.bytes.subarray(5)]);
      for await (const item of iterateImage(src, { name: fx.name, lean: true })) if ('entry' in item) got.push(item.entry);
      const whole = decodeImage(fx.bytes, { name: fx.name, lean: true });
      assert.deepStrictEqual(got, whole.magic === 'RAW' ? [{ extra: whole.raw }] : whole.entries, fx.name);
    }
  });

  it('gives numbers up to 2^53 - 1 and exact bigints beyond, signed and unsigned', () => {
    const edges = [0n, 1n, 127n, 128n, 2n ** 49n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
    const signed = [0n, -1n, -(2n ** 53n - 1n), -(2n ** 53n), -(2n ** 63n), 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n];
    const want = (v: bigint) => (v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v);
    const mm = join(tmp, 'mm-1.img');
    writeFileSync(mm, encodeImage({ magic: 'MM', entries: [{ ...MM_HEAD, mm_saved_auxv: edges, vmas: signed.map((fd, i) => vma(edges[i]!, edges[i]!, fd)) }] }));
    const e = readImageLean(mm).entries[0]!;
    assert.deepStrictEqual(e.mm_saved_auxv, edges.map(want));
    const vmas = e.vmas as Entry[];
    signed.forEach((fd, i) => {
      assert.strictEqual(vmas[i]!.fd, want(fd), `sint64 ${fd}`);
      assert.strictEqual(vmas[i]!.start, want(edges[i]!), `uint64 ${edges[i]}`);
    });
    const locks = join(tmp, 'filelocks.img');
    writeFileSync(locks, encodeImage({ magic: 'FILE_LOCKS', entries: signed.map((start) => ({ flag: 1, type: 2, pid: -5, fd: 3, start, len: BigInt.asIntN(64, -start) })) }));
    readImageLean(locks).entries.forEach((l, i) => {
      assert.strictEqual(l.start, want(signed[i]!), `int64 ${signed[i]}`);
      assert.strictEqual(l.len, want(BigInt.asIntN(64, -signed[i]!)), `int64 ${-signed[i]!}`);
      assert.strictEqual(l.pid, -5);
    });
    // fixed64, packed and unpacked
    const opts = messageType('sk_opts_entry');
    const body = Buffer.concat([
      Buffer.from([0x08, 1, 0x10, 2, 0x18, 0, 0x20, 0, 0x28, 0, 0x30, 0]),
      Buffer.from([0x81, 0x01]), Buffer.from('0100000000002000', 'hex'),
      Buffer.from([0x82, 0x01, 16]), Buffer.from('ffffffffffffffff' + '0500000000000000', 'hex'),
    ]);
    assert.deepStrictEqual(leanDecoderOf(opts)(body, 0, body.length).so_filter, [2n ** 53n + 1n, 2n ** 64n - 1n, 5]);
  });

  it('keeps only the selected fields, nested ones by path', () => {
    const fx = imageFixtures().find((f) => f.name.startsWith('mm-'))!;
    const full = decodeImage(fx.bytes, { name: fx.name, lean: true }).entries[0]!;
    const some = decodeImage(fx.bytes, { name: fx.name, lean: true, fields: ['vmas.start', 'vmas.end', 'exe_file_id'] }).entries[0]!;
    assert.deepStrictEqual(Object.keys(some).sort(), ['exe_file_id', 'vmas']);
    assert.deepStrictEqual(some.vmas, (full.vmas as Entry[]).map((v) => ({ start: v.start, end: v.end })));
    const whole = decodeImage(fx.bytes, { name: fx.name, lean: true, fields: ['vmas'] }).entries[0]!;
    assert.deepStrictEqual(whole, { vmas: full.vmas });
    // a pagemap: the names apply to the head and the entries alike
    const pm = imageFixtures().find((f) => f.name.startsWith('pagemap-'))!;
    const runs = decodeImage(pm.bytes, { name: pm.name, lean: true, fields: ['pages_id', 'vaddr'] }).entries;
    assert.deepStrictEqual(runs, decodeImage(pm.bytes, { name: pm.name, lean: true }).entries.map((e, i) => (i === 0 ? { pages_id: e.pages_id } : { vaddr: e.vaddr })));
  });

  it('refuses selections that name nothing, and selections without lean', () => {
    const fx = imageFixtures().find((f) => f.name.startsWith('mm-'))!;
    const usage = (fields: string[], lean = true) => assert.throws(() => decodeImage(fx.bytes, { name: fx.name, lean, fields }), (e: unknown) => e instanceof CryoError && e.code === 'USAGE' && e.exitCode === 2);
    usage(['vmaz']);
    usage(['vmas.nope']);
    usage(['exe_file_id.x']);
    usage(['vmas..start']);
    usage(['vmas'], false);
  });

  it('still refuses a message without its required fields, selected or not', () => {
    const bytes = encodeImage({ magic: 'FILE_LOCKS', entries: [{ flag: 1, type: 2, pid: 1, fd: 3, start: 0n, len: 0n }] });
    // drop the last field (len, field 6): entry size 12 -> 10
    const cut = Buffer.from(bytes.subarray(0, bytes.length - 2));
    cut.writeUInt32LE(cut.readUInt32LE(8) - 2, 8);
    for (const fields of [undefined, ['flag']]) {
      assert.throws(() => decodeImage(cut, { name: 'filelocks.img', lean: true, fields }), (e: unknown) => e instanceof CryoError && e.code === 'BAD_IMAGE' && /missing required field file_lock_entry\.len\) at offset 12/.test(e.message));
    }
  });

  it('fails on truncated and corrupted bytes exactly where the full decode fails', () => {
    const rnd = prng(0x1ea7);
    let rejected = 0;
    let checked = 0;
    for (const fx of imageFixtures()) {
      const inputs: Buffer[] = [];
      for (let n = 0; n < fx.bytes.length; n += Math.max(1, Math.floor(fx.bytes.length / 40))) inputs.push(fx.bytes.subarray(0, n));
      for (let k = 0; k < 60; k++) {
        const b = Buffer.from(fx.bytes);
        for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        inputs.push(b);
      }
      for (const input of inputs) {
        const full = outcome(() => decodeImage(input, { name: fx.name, maxEntrySize: 1 << 20, maxPayloadSize: 1 << 20 }));
        const lean = outcome(() => decodeImage(input, { name: fx.name, maxEntrySize: 1 << 20, maxPayloadSize: 1 << 20, lean: true }));
        checked++;
        if (full.ok && lean.ok) assert.deepStrictEqual(lean.entries, toLean(full.entries), fx.name);
        else {
          assert.deepStrictEqual(lean, full, fx.name);
          assert.equal(lean.ok ? '' : lean.code, 'BAD_IMAGE');
          assert.match(lean.ok ? '' : lean.message, new RegExp(`^${fx.name.replace(/\./g, '\\.')}: .* at offset \\d+`));
          rejected++;
        }
      }
    }
    assert.ok(rejected > 200 && checked > 2000, `rejected ${rejected} of ${checked}`);
  });
});

describe('readImageEntries', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cryo-entries-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const fixture = (name: string) => imageFixtures().find((f) => f.name === name)!;

  it('reads small images as lean entries and checks their magic', () => {
    const stats = join(tmp, 'stats-dump');
    writeFileSync(stats, fixture('stats-dump').bytes);
    const [e] = readImageEntries(stats, { magic: 'STATS' });
    assert.equal(typeof (e!.dump as Entry).frozen_time, 'number');
    assert.equal(typeof (e!.dump as Entry).pages_written, 'number');
    const tree = join(tmp, 'pstree.img');
    writeFileSync(tree, fixture('pstree.img').bytes);
    assert.ok(readImageEntries(tree, { magic: 'PSTREE' }).every((p) => typeof p.pid === 'number'));
    assert.throws(() => readImageEntries(tree, { magic: 'STATS' }), (err: unknown) => err instanceof CryoError && err.code === 'BAD_IMAGE' && err.exitCode === 4
      && err.message === `${tree}: expected a STATS image, found PSTREE` && (err.details as { file?: string }).file === tree);
  });

  it('names a missing file NOT_FOUND with the ENOENT error as cause, damage BAD_IMAGE with file and offset', () => {
    const nope = join(tmp, 'nope.img');
    assert.throws(() => readImageEntries(nope, { magic: 'PSTREE' }), (err: unknown) => err instanceof CryoError && err.code === 'NOT_FOUND'
      && (err.cause as NodeJS.ErrnoException).code === 'ENOENT' && err.message.includes(nope));
    const bad = join(tmp, 'inventory.img');
    const inv = fixture('inventory.img').bytes;
    writeFileSync(bad, inv.subarray(0, inv.length - 3));
    assert.throws(() => readImageEntries(bad, { magic: 'INVENTORY' }), (err: unknown) => err instanceof CryoError && err.code === 'BAD_IMAGE'
      && err.message.startsWith(`${bad}: `) && /at offset \d+/.test(err.message) && (err.details as { file?: string }).file === bad);
  });
});
