// Archives whose body is many independent zstd frames: decoded in parallel, byte-identical to the
// sequential decoder, still one standard zstd stream, and every kind of damage refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { archiveBytes } from '../../src/checkpoint/archive-write.js';
import { extractArchive, verifyArchive } from '../../src/checkpoint/archive-read.js';
import { zstdCompress, zstdCompressFrames, zstdDecompress, zstdDecompressFrames } from '../../src/checkpoint/zstd.js';
import { cutFrames } from '../../src/checkpoint/zstd-frames.js';
import { testMeta } from '../helpers/archive.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(os.tmpdir(), 'cryo-frames-test-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function* chunks(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let i = 0, k = 0; i < buf.length; k++) {
    const n = sizes[k % sizes.length];
    yield buf.subarray(i, i + n);
    i += n;
  }
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out);
}

async function rejectsBad(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CryoError, `${what}: not a CryoError: ${String(e)}`);
    assert.equal(e.code, 'BAD_ARCHIVE', `${what}: ${e.code} ${e.message}`);
    return true;
  });
}

/** Half random, half repeated text: raw and compressed blocks both. */
function sample(n: number): Buffer {
  const text = Buffer.from('cryo frames test: some text, some numbers 0123456789; '.repeat(Math.ceil(n / 2 / 50)));
  return Buffer.concat([randomBytes(n / 2), text.subarray(0, n / 2)]);
}

test('zstd frames: cut about every frameBytes, sizes in the headers; parallel and sequential decoders and the zstd program agree', async () => {
  const data = sample(3 << 20);
  const z = await collect(zstdCompressFrames(chunks(data, [1, 100_000, 7, 65_536]), { frameBytes: 256 << 10 }));
  const cuts: number[] = [];
  for await (const c of cutFrames(chunks(z, [5000]), 64 << 20)) {
    assert.ok('pieces' in c, 'every frame is split');
    cuts.push(c.contentSize);
  }
  // a frame ends with the first input chunk that fills it: at least frameBytes, the last one shorter
  assert.ok(cuts.length >= 8, `${cuts.length} frames`);
  assert.ok(cuts.slice(0, -1).every((n) => n >= 256 << 10 && n < (256 << 10) + 100_000), cuts.join(' '));
  assert.equal(cuts.reduce((a, b) => a + b, 0), data.length);
  assert.ok((await collect(zstdDecompress(chunks(z, [999])))).equals(data));
  for (const parallel of [1, 2, 3]) {
    assert.ok((await collect(zstdDecompressFrames(chunks(z, [3, 70_000, 1]), { maxBytes: data.length, parallel }))).equals(data), `parallel ${parallel}`);
  }
  if (spawnSync('zstd', ['--version']).status === 0) {
    const r = spawnSync('zstd', ['-d', '-c'], { input: z, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0);
    assert.ok(r.stdout.equals(data));
  }
  // an empty input still makes one (empty) frame
  const empty = await collect(zstdCompressFrames(chunks(Buffer.alloc(0), [1])));
  assert.equal((await collect(zstdDecompressFrames(chunks(empty, [1]), { maxBytes: 0 }))).length, 0);
});

test('zstd frames: streams of other writers (one frame without its size, frames after it) decode sequentially, byte-identical', async () => {
  const a = sample(1 << 20);
  const b = sample(600_000);
  const one = await collect(zstdCompress(chunks(a, [65_536]), { level: 3, threads: 2 }));
  const framed = await collect(zstdCompressFrames(chunks(b, [65_536]), { frameBytes: 100_000 }));
  assert.ok((await collect(zstdDecompressFrames(chunks(one, [4096]), { maxBytes: a.length }))).equals(a));
  // framed first, then a frame without size: the tail falls back mid-stream
  const mixed = Buffer.concat([framed, one, framed]);
  const want = Buffer.concat([b, a, b]);
  assert.ok((await collect(zstdDecompressFrames(chunks(mixed, [77_777]), { maxBytes: want.length }))).equals(want));
});

test('zstd frames: a flipped byte anywhere, a cut anywhere, trailing bytes and sizes past the limit are refused', async () => {
  const data = sample(1 << 20);
  const z = await collect(zstdCompressFrames(chunks(data, [65_536]), { frameBytes: 128 << 10 }));
  const decode = (b: Buffer, maxBytes = data.length) => collect(zstdDecompressFrames(chunks(b, [10_000]), { maxBytes }));
  for (let i = 0; i < 300; i++) {
    const at = i < 40 ? i : Math.floor(Math.random() * z.length);
    const bad = Buffer.from(z);
    bad[at] ^= 1 << (i % 8);
    // refused, or (a bit zstd defines as unused, like bit 4 of a frame header's first byte) the very same bytes
    const out = await decode(bad).catch((e: unknown) => {
      assert.ok(e instanceof CryoError && e.code === 'BAD_ARCHIVE', `flip at ${at}: ${String(e)}`);
      return undefined;
    });
    if (out !== undefined) assert.ok(out.equals(data), `flip at ${at} gave other bytes`);
  }
  for (const len of [0, 1, 4, 5, 8, 100, Math.floor(z.length / 3), z.length - 4, z.length - 1]) {
    await rejectsBad(decode(z.subarray(0, len)), `truncated to ${len}`);
  }
  await rejectsBad(decode(Buffer.concat([z, Buffer.from('xyz')])), 'trailing bytes');
  await rejectsBad(decode(Buffer.concat([z, Buffer.from('xyzw')])), 'trailing bytes');
  await rejectsBad(decode(z, data.length - 1), 'more than declared');
});

test('archive: a body of many frames extracts and verifies; damage in any frame leaves nothing', async (t) => {
  const d = tmp(t);
  const img = join(d, 'img');
  mkdirSync(img);
  const big = sample(2 << 20);
  writeFileSync(join(img, 'pages-1.img'), big);
  writeFileSync(join(img, 'core-1.img'), randomBytes(1900));
  writeFileSync(join(img, 'empty.img'), Buffer.alloc(0));
  const meta = await testMeta(img);
  const good = await collect(archiveBytes(img, meta, { frameBytes: 100_000 }));
  const r = await extractArchive(chunks(good, [65_536]), join(d, 'x'));
  assert.equal(r.files, 3);
  assert.ok(readFileSync(join(d, 'x', 'pages-1.img')).equals(big));
  assert.equal((await verifyArchive(chunks(good, [1 << 20]))).imageBytes, meta.totalBytes);
  const bodyAt = 16 + good.readUInt32LE(12);
  for (const at of [bodyAt, bodyAt + 5, bodyAt + Math.floor((good.length - bodyAt) / 2), good.length - 10, good.length - 1]) {
    const bad = Buffer.from(good);
    bad[at] ^= 0x10;
    const x = join(d, `flip-${at}`);
    await rejectsBad(extractArchive(chunks(bad, [65_536]), x), `flip at ${at}`);
    assert.deepEqual(readdirSync(x), [], `flip at ${at} left files`);
  }
});
