// writeArchive: image directory -> archive file or stream. The file is written as FILE.partial,
// fsync'ed, then renamed, so a complete archive is the only thing that ever carries the name.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { CryoError } from '../errors.js';
import {
  type ArchiveFile, type ArchiveManifest, type ArchiveProcess, encodeHeader, encodeRecord, FORMAT_VERSION, TAG_END, TAG_FILE,
} from './format.js';
import { createProgress, type Progress } from './progress.js';
import { readAhead } from './reader.js';
import { zstdCompress, type ZstdOptions } from './zstd.js';
import { cryoVersion, readPstree } from './tree.js';

export interface ArchiveMeta {
  criuVersion?: string;
  tree?: ArchiveProcess[];
  dumpOptions?: Record<string, unknown>;
  stats?: ArchiveManifest['stats'];
}

export interface WriteArchiveOptions extends ZstdOptions {
  /** stop writing (the partial file is removed) */
  signal?: AbortSignal;
  /** progress line on stderr; default: when stderr is a TTY */
  progress?: boolean;
}

export interface WriteArchiveResult {
  /** final path, or '-' for a stream */
  path: string;
  manifest: ArchiveManifest;
  /** archive size in bytes */
  bytes: number;
  /** sum of the image files' sizes */
  rawBytes: number;
}

/** Output: a path ('-' = stdout) or a writable stream. */
export type ArchiveOutput = string | Writable;

async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    if (signal?.aborted) throw interrupted();
    h.update(chunk as Buffer);
  }
  return h.digest('hex');
}

export function interrupted(): CryoError {
  return new CryoError('FAILED', 'interrupted; the archive was not written', { hint: 'the partial archive was removed' });
}

/** Lists the regular files of an image directory and hashes them. */
export async function describeImages(dir: string, signal?: AbortSignal): Promise<ArchiveFile[]> {
  const names = (await readdir(dir)).sort();
  const files: ArchiveFile[] = [];
  for (const name of names) {
    const st = await stat(join(dir, name));
    if (!st.isFile()) continue;
    files.push({ name, size: st.size, sha256: await hashFile(join(dir, name), signal) });
  }
  if (files.length === 0) throw new CryoError('NOT_FOUND', `no image files in ${dir}`, { hint: 'pass a directory written by cryo dump or criu dump' });
  return files;
}

/** CPU model and feature flags: what a restore on another machine must offer (CRIU checks them). */
function cpuInfo(): { cpu?: string; cpuFlags?: string[] } {
  const cpu = os.cpus()[0]?.model;
  try {
    const m = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return { cpu, ...(m ? { cpuFlags: m[1].trim().split(/\s+/) } : {}) };
  } catch {
    return { cpu };
  }
}

export async function buildManifest(dir: string, meta: ArchiveMeta, opts: WriteArchiveOptions): Promise<ArchiveManifest> {
  const files = await describeImages(dir, opts.signal);
  let tree = meta.tree;
  if (!tree) {
    try {
      tree = await readPstree(join(dir, 'pstree.img'));
    } catch {
      tree = [];
    }
  }
  return {
    format: 'cryo-archive',
    version: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    cryo: { version: cryoVersion() },
    criu: { version: meta.criuVersion },
    host: { kernel: os.release(), arch: os.arch(), ...cpuInfo(), hostname: os.hostname() },
    compression: { algorithm: 'zstd', level: opts.level ?? 3 },
    tree,
    dumpOptions: meta.dumpOptions ?? {},
    ...(meta.stats ? { stats: meta.stats } : {}),
    files,
    totalBytes: files.reduce((s, f) => s + f.size, 0),
  };
}

async function* body(dir: string, manifest: ArchiveManifest, manifestSha: string, progress: Progress, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let total = 0;
  for (const f of manifest.files) {
    yield encodeRecord(TAG_FILE, { name: f.name, size: f.size });
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of createReadStream(join(dir, f.name), { highWaterMark: 1 << 20 })) {
      if (signal?.aborted) throw interrupted();
      const b = chunk as Buffer;
      // the file must not change between hashing and writing
      h.update(b);
      n += b.length;
      if (n > f.size) break;
      progress.add(b.length);
      yield b;
    }
    if (n !== f.size || h.digest('hex') !== f.sha256) {
      throw new CryoError('FAILED', `${f.name} changed while the archive was written`, { hint: 'do not modify the image directory while archiving it' });
    }
    total += n;
  }
  yield encodeRecord(TAG_END, { files: manifest.files.length, bytes: total, manifestSha256: manifestSha });
}

interface Sink {
  write(b: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  path: string;
}

async function fileSink(path: string): Promise<Sink> {
  const final = resolve(path);
  const partial = `${final}.partial`;
  const fh = await open(partial, 'w', 0o600);
  await fh.chmod(0o600);
  let closed = false;
  return {
    path: final,
    async write(b) {
      let off = 0;
      while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
    },
    async commit() {
      await fh.sync();
      await fh.close();
      closed = true;
      await rename(partial, final);
      // make the rename itself durable
      const d = await open(dirname(final), 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    },
    async abort() {
      if (!closed) await fh.close().catch(() => {});
      await rm(partial, { force: true });
    },
  };
}

function streamSink(stream: Writable): Sink {
  let failed: Error | undefined;
  const onError = (e: Error) => (failed ??= e);
  stream.on('error', onError);
  const fail = () => new CryoError('FAILED', `writing the archive failed: ${failed?.message}`, {
    hint: 'the reader of the stream went away (broken pipe?); nothing was lost', cause: failed,
  });
  return {
    path: '-',
    async write(b) {
      if (failed) throw fail();
      await new Promise<void>((res, rej) => {
        stream.write(b, (e) => (e ? rej((failed ??= e, fail())) : res()));
      });
    },
    async commit() {
      if (failed) throw fail();
      const fd = (stream as unknown as { fd?: number }).fd;
      if (typeof fd === 'number') {
        const { fsync } = await import('node:fs');
        // fsync a file on stdout; pipes and sockets refuse it (EINVAL), which is fine
        await new Promise<void>((res) => fsync(fd, () => res()));
      }
      stream.off('error', onError);
    },
    async abort() {
      stream.off('error', onError);
    },
  };
}

/**
 * Writes the image directory `dir` as one archive to `out` (a path, '-' for stdout, or a stream).
 * A file output appears only when complete and fsync'ed; on any failure the partial file is removed.
 */
export async function writeArchive(dir: string, out: ArchiveOutput, meta: ArchiveMeta = {}, opts: WriteArchiveOptions = {}): Promise<WriteArchiveResult> {
  const manifest = await buildManifest(dir, meta, opts);
  const manifestJson = Buffer.from(JSON.stringify(manifest), 'utf8');
  const manifestSha = createHash('sha256').update(manifestJson).digest('hex');
  if (opts.signal?.aborted) throw interrupted();
  let sink: Sink;
  try {
    sink = typeof out === 'string' ? (out === '-' ? streamSink(process.stdout) : await fileSink(out)) : streamSink(out);
  } catch (e) {
    throw new CryoError('FAILED', `cannot write the archive ${String(out)}: ${(e as Error).message}`, {
      hint: 'pass a writable path to -o (its directory must exist)', cause: e,
    });
  }
  const progress = createProgress('archive', manifest.totalBytes, opts.progress);
  let bytes = 0;
  try {
    const head = Buffer.concat([encodeHeader(manifestJson), manifestJson]);
    await sink.write(head);
    bytes += head.length;
    for await (const chunk of readAhead(zstdCompress(readAhead(body(dir, manifest, manifestSha, progress, opts.signal)), opts))) {
      if (opts.signal?.aborted) throw interrupted();
      await sink.write(chunk);
      bytes += chunk.length;
    }
    await sink.commit();
  } catch (e) {
    await sink.abort();
    progress.done();
    throw e instanceof CryoError ? e : new CryoError('FAILED', `writing the archive failed: ${(e as Error).message}`, {
      hint: (e as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the disk is full; free space or write elsewhere' : 'check the output path',
      cause: e,
    });
  }
  progress.done();
  return { path: sink.path, manifest, bytes, rawBytes: manifest.totalBytes };
}
