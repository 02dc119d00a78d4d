// Archive container: round trips, streaming in tiny chunks, and every kind of damage refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { encodeHeader, encodeRecord } from '../../src/checkpoint/archive-format.js';
import { openCheckpoint } from '../../src/checkpoint/open.js';
import { extractArchive, readArchiveMeta, verifyArchive } from '../../src/checkpoint/archive-read.js';
import { zstdCompress, zstdDecompress } from '../../src/checkpoint/zstd.js';
import { testMeta, writeTestArchive } from '../helpers/archive.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(os.tmpdir(), 'cryo-archive-test-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** An image-like directory: a big half-compressible file, small files, an empty one. */
function makeImages(dir: string): Map<string, Buffer> {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, Buffer>();
  const block = randomBytes(64 << 10);
  files.set('pages-1.img', Buffer.concat([...Array(40)].map((_, i) => (i % 2 ? block : randomBytes(64 << 10)))));
  files.set('core-1.img', randomBytes(1900));
  files.set('pstree.img', Buffer.from('1943565430302750', 'hex'));
  files.set('empty.img', Buffer.alloc(0));
  for (const [n, b] of files) writeFileSync(join(dir, n), b);
  return files;
}

async function* chunks(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let i = 0;
  let k = 0;
  while (i < buf.length) {
    const n = sizes[k++ % sizes.length];
    yield buf.subarray(i, i + n);
    i += n;
  }
}

async function rejectsBad(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CryoError, `${what}: not a CryoError: ${String(e)}`);
    assert.equal(e.code, 'BAD_ARCHIVE', `${what}: ${e.code} ${e.message}`);
    assert.equal(e.exitCode, 4);
    return true;
  });
}

test('zstd: libzstd streams round trip in odd chunk sizes', async () => {
  const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(2_000_000, 7), randomBytes(5)]);
  const comp: Buffer[] = [];
  for await (const c of zstdCompress(chunks(data, [1, 100_000, 7, 65_536]), { level: 3, threads: 2 })) comp.push(c);
  const z = Buffer.concat(comp);
  assert.ok(z.length < data.length / 2);
  const out: Buffer[] = [];
  for await (const c of zstdDecompress(chunks(z, [3, 999, 1]))) out.push(c);
  assert.ok(Buffer.concat(out).equals(data));
});

test('zstd: libzstd output is standard zstd (the zstd program decodes it)', async (t) => {
  if (spawnSync('zstd', ['--version']).status !== 0) return t.skip('no zstd program');
  const data = randomBytes(100_000);
  const comp: Buffer[] = [];
  for await (const c of zstdCompress(chunks(data, [4096]))) comp.push(c);
  const r = spawnSync('zstd', ['-d', '-c'], { input: Buffer.concat(comp) });
  assert.equal(r.status, 0);
  assert.ok(r.stdout.equals(data));
});

test('archive: round trip keeps every byte; modes 0600 (archive, files) and 0700 (dir)', async (t) => {
  const d = tmp(t);
  const files = makeImages(join(d, 'img'));
  const out = join(d, 'a.ckpt');
  const w = await writeTestArchive(join(d, 'img'), out, { criuVersion: '4.2.1', dumpOptions: { tcpEstablished: true } });
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(d).sort(), ['a.ckpt', 'img']);
  assert.equal(w.imageBytes, [...files.values()].reduce((s, b) => s + b.length, 0));
  assert.equal(w.bytes, statSync(out).size);
  const m = await readArchiveMeta(out);
  assert.equal(m.format, 'cryo-checkpoint');
  assert.equal(m.criu.version, '4.2.1');
  assert.deepEqual(m.dumpOptions, { tcpEstablished: true });
  assert.deepEqual(m.files.map((f) => f.name), [...files.keys()].sort());
  const x = join(d, 'x');
  const r = await extractArchive(out, x);
  assert.equal(r.files, files.size);
  assert.equal(statSync(x).mode & 0o777, 0o700);
  for (const [n, b] of files) {
    assert.ok(readFileSync(join(x, n)).equals(b), n);
    assert.equal(statSync(join(x, n)).mode & 0o777, 0o600);
  }
});

test('archive: a stream fed byte by byte verifies (no seeking, partial reads)', async (t) => {
  const d = tmp(t);
  makeImages(join(d, 'img'));
  const out = join(d, 'a.ckpt');
  await writeTestArchive(join(d, 'img'), out);
  const buf = readFileSync(out);
  const r = await verifyArchive(chunks(buf, [1, 2, 3, 5, 8, 13, 4096]));
  assert.equal(r.bytes, buf.length);
});

test('archive: writes to a stream (as with -o -)', async (t) => {
  const d = tmp(t);
  const files = makeImages(join(d, 'img'));
  const got: Buffer[] = [];
  const sink = new Writable({ write(c, _e, cb) { got.push(c as Buffer); cb(); } });
  const w = await writeTestArchive(join(d, 'img'), sink);
  assert.equal(w.bytes, Buffer.concat(got).length);
  const r = await extractArchive(chunks(Buffer.concat(got), [65536]), join(d, 'x'));
  assert.equal(r.files, files.size);
});

test('archive: every flipped byte and every truncation is refused, and extraction leaves nothing', async (t) => {
  const d = tmp(t);
  makeImages(join(d, 'img'));
  const out = join(d, 'a.ckpt');
  await writeTestArchive(join(d, 'img'), out);
  const good = readFileSync(out);
  const manifestLen = good.readUInt32LE(12);
  const spots = [0, 5, 9, 13, 20, 16 + Math.floor(manifestLen / 2), 16 + manifestLen - 2, 16 + manifestLen + 3, Math.floor(good.length / 2), good.length - 5, good.length - 1];
  for (const at of spots) {
    const bad = Buffer.from(good);
    bad[at] ^= 0x20;
    const x = join(d, `flip-${at}`);
    await rejectsBad(extractArchive(chunks(bad, [70_000]), x), `flip at ${at}`);
    assert.deepEqual(readdirSync(x), [], `flip at ${at} left files`);
  }
  for (const len of [0, 7, 16, 16 + manifestLen - 1, 16 + manifestLen, 16 + manifestLen + 10, Math.floor(good.length / 2), good.length - 1]) {
    await rejectsBad(verifyArchive(chunks(good.subarray(0, len), [70_000])), `truncated to ${len}`);
  }
  await rejectsBad(verifyArchive(chunks(Buffer.concat([good, Buffer.from('x')]), [70_000])), 'trailing byte');
});

test('archive: a manifest naming unsafe paths or wrong hashes is refused', async (t) => {
  const d = tmp(t);
  const build = async (manifest: object, records: Buffer[]) => {
    const mj = Buffer.from(JSON.stringify(manifest));
    const body: Buffer[] = [];
    for await (const c of zstdCompress((async function* () { yield* records; })())) body.push(c);
    return Buffer.concat([encodeHeader(mj), mj, ...body]);
  };
  mkdirSync(join(d, 'img'));
  writeFileSync(join(d, 'img', 'a.img'), 'x');
  const base = { ...(await testMeta(join(d, 'img'))), files: [] as object[], totalBytes: 0 };
  const evil = await build({ ...base, files: [{ name: '../etc/passwd', size: 1, sha256: '0'.repeat(64) }], totalBytes: 1 }, [encodeRecord('FILE', { name: '../etc/passwd', size: 1 }), Buffer.from('x')]);
  await rejectsBad(extractArchive(chunks(evil, [100]), join(d, 'x1')), 'path traversal');
  assert.ok(!existsSync(join(d, 'etc')));
  const wrongHash = await build({ ...base, files: [{ name: 'a.img', size: 1, sha256: '0'.repeat(64) }], totalBytes: 1 }, [encodeRecord('FILE', { name: 'a.img', size: 1 }), Buffer.from('x')]);
  await rejectsBad(extractArchive(chunks(wrongHash, [100]), join(d, 'x2')), 'wrong hash');
  assert.deepEqual(readdirSync(join(d, 'x2')), []);
  await assert.rejects(verifyArchive(chunks(await build({ ...base, version: 99 }, []), [100])), /format version 99/);
});

test('archive: a failing output removes the partial file; a broken stream fails cleanly', async (t) => {
  const d = tmp(t);
  makeImages(join(d, 'img'));
  await assert.rejects(writeTestArchive(join(d, 'img'), join(d, 'no/such/dir/a.ckpt')), CryoError);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(writeTestArchive(join(d, 'img'), join(d, 'b.ckpt'), { signal: ac.signal }), /interrupted/);
  assert.deepEqual(readdirSync(d).sort(), ['img']);
  let n = 0;
  const broken = new Writable({ write(_c, _e, cb) { cb(++n > 1 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null); } });
  broken.on('error', () => {});
  await assert.rejects(writeTestArchive(join(d, 'img'), broken), /EPIPE/);
});

test('openCheckpoint: a directory as is, an archive extracted to a private dir that close() removes', async (t) => {
  const d = tmp(t);
  const files = makeImages(join(d, 'img'));
  const same = await openCheckpoint(join(d, 'img'));
  assert.equal(same.dir, join(d, 'img'));
  await same.close();
  await writeTestArchive(join(d, 'img'), join(d, 'a.ckpt'));
  const o = await openCheckpoint(join(d, 'a.ckpt'));
  assert.equal(o.kind, 'archive');
  assert.equal(o.meta?.files.length, files.size);
  assert.notEqual(o.dir, join(d, 'img'));
  assert.equal(statSync(o.dir).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(o.dir).sort(), [...files.keys(), 'cryo.json'].sort());
  await o.close();
  assert.ok(!existsSync(o.dir));
  writeFileSync(join(d, 'junk'), 'hello');
  await assert.rejects(openCheckpoint(join(d, 'junk')), (e: unknown) => e instanceof CryoError && e.exitCode === 4);
});

test('staging: 0700 directories; leftovers of a dead cryo are removed, a live one is kept', async (t) => {
  const { createStaging, removeStaleStaging } = await import('../../src/checkpoint/staging.js');
  const root = tmp(t);
  const s = await createStaging('dump', root);
  assert.equal(statSync(s.dir).mode & 0o777, 0o700);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  mkdirSync(join(root, `cryo-dump-${deadPid}-abc`));
  mkdirSync(join(root, `cryo-restore-${process.ppid}-abc`));
  const removed = removeStaleStaging(root);
  assert.deepEqual(removed, [`cryo-dump-${deadPid}-abc`]);
  assert.ok(existsSync(s.dir));
  assert.ok(existsSync(join(root, `cryo-restore-${process.ppid}-abc`)));
  await s.remove();
  assert.ok(!existsSync(s.dir));
});
