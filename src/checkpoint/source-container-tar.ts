// A container checkpoint archive (podman's `container checkpoint --export`, CRI-O's and Kubernetes'
// forensic checkpoints): a tar, plain, gzip or zstd, with CRIU's images under checkpoint/ and
// config.dump, spec.dump, stats-dump beside them. Streamed: only the images and those small files
// are written, into a private 0700 staging dir; rootfs-diff.tar and the rest are counted, not kept.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createGunzip, gunzipSync } from 'node:zlib';
import { CryoError } from '../errors.js';
import { ARCHIVE_NOTE } from './container-info.js';
import { isSafeName } from './meta-file.js';
import type { OpenedCheckpoint, OpenOptions } from './source.js';
import { createStaging, stagingRootFor } from './staging.js';
import { isTarHeader, readTar } from './tar-read.js';
import { zstdDecompress } from './zstd.js';

type Compression = 'none' | 'gzip' | 'zstd';

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
// the small files of the archive's top level that describe the container or the dump
const KEPT = new Set(['config.dump', 'spec.dump', 'stats-dump']);

function head(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

function compressionOf(b: Buffer): Compression {
  if (b.subarray(0, 4).equals(ZSTD)) return 'zstd';
  if (b.subarray(0, 2).equals(GZIP)) return 'gzip';
  return 'none';
}

async function firstBlock(path: string, c: Compression, b: Buffer): Promise<Buffer> {
  if (c === 'none') return b;
  if (c === 'gzip') {
    try {
      return gunzipSync(b, { finishFlush: 2 /* Z_SYNC_FLUSH: a prefix is enough */ });
    } catch {
      return Buffer.alloc(0);
    }
  }
  const out: Buffer[] = [];
  let got = 0;
  try {
    for await (const piece of zstdDecompress(createReadStream(path, { end: 1 << 20 }))) {
      out.push(piece);
      got += piece.length;
      if (got >= 512) break;
    }
  } catch {
    // not zstd after all, or shorter than a header
  }
  return Buffer.concat(out);
}

/** True when `path` is a regular file holding a tar (plain, gzip or zstd). */
export async function isContainerTar(path: string): Promise<boolean> {
  try {
    if (!statSync(path).isFile()) return false;
    const b = head(path, 64 << 10);
    const c = compressionOf(b);
    return isTarHeader((await firstBlock(path, c, b)).subarray(0, 512));
  } catch {
    return false;
  }
}

function decompressed(path: string, c: Compression): AsyncIterable<Uint8Array> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (c === 'gzip') return raw.pipe(createGunzip());
  if (c === 'zstd') return zstdDecompress(raw);
  return raw;
}

async function writeBody(file: string, body: AsyncIterable<Buffer>): Promise<void> {
  const fh = await open(file, 'wx', 0o600);
  try {
    for await (const p of body) await fh.write(p);
  } finally {
    await fh.close();
  }
}

/** Opens a container checkpoint archive: its images (and config/spec/stats) in a private staging dir. */
export async function openContainerTar(input: string, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  const path = resolve(input);
  const size = statSync(path).size;
  const c = compressionOf(head(path, 4));
  const staging = await createStaging('open', stagingRootFor(c === 'none' ? size : size * 4));
  const artifacts: Array<{ name: string; bytes: number }> = [];
  let images = 0;
  let bytes = 0;
  const written = new Set<string>();
  try {
    await readTar(decompressed(path, c), async (e, body) => {
      opts.signal?.throwIfAborted();
      if (e.type !== '0') return;
      const inImages = e.name.startsWith('checkpoint/') ? e.name.slice('checkpoint/'.length) : undefined;
      const keep = inImages !== undefined ? inImages : KEPT.has(e.name) ? e.name : undefined;
      // images are flat files; anything nested, unsafe or repeated is not CRIU's
      if (keep === undefined || !isSafeName(keep) || written.has(keep)) {
        if (inImages === undefined) artifacts.push({ name: e.name, bytes: e.size });
        return;
      }
      written.add(keep);
      await writeBody(join(staging.dir, keep), body);
      bytes += e.size;
      if (inImages !== undefined) images++;
      opts.onProgress?.(bytes, 0);
    });
    if (!written.has('inventory.img')) {
      throw new CryoError('BAD_ARCHIVE', `${path} is a tar without CRIU images (no checkpoint/inventory.img)`, {
        hint: 'pass a container checkpoint archive (podman container checkpoint --export, or a Kubernetes checkpoint), a cryo archive or a checkpoint directory',
        details: { images },
      });
    }
    await writeFile(join(staging.dir, ARCHIVE_NOTE), JSON.stringify({ compression: c, artifacts }), { mode: 0o600, flag: 'wx' });
    return { kind: 'archive', path, dir: staging.dir, meta: undefined, bytes: size, privateCopy: true, close: () => staging.remove() };
  } catch (e) {
    await staging.remove();
    throw e;
  }
}
