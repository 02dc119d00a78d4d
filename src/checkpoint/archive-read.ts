// Reading archives front to back (files and streams alike): every record is checked against the
// manifest as it arrives, no file grows past its declared size, and a file's bytes are kept only
// once its sha256 matched, so a caller only ever sees a fully verified images directory.
import { createHash } from 'node:crypto';
import { constants, createReadStream, statfsSync } from 'node:fs';
import { chmod, type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CryoError } from '../errors.js';
import { ARCHIVE_MAGIC, badArchive, type EndRecord, FORMAT_VERSION, HEADER_SIZE, MAX_MANIFEST, MAX_RECORD_HEADER, TAG_END, TAG_FILE } from './archive-format.js';
import { ChunkReader, readAhead } from './chunk-reader.js';
import { checkMeta } from './meta-file.js';
import type { CheckpointMeta } from './meta.js';
import { zstdDecompressFrames } from './zstd.js';

/** Input: a path or a readable stream. */
export type ArchiveInput = string | Readable | AsyncIterable<Uint8Array>;

export interface ArchiveReadOptions {
  signal?: AbortSignal;
  /** called with the image bytes read so far */
  onProgress?: (bytes: number, total: number) => void;
}

export interface ArchiveReport {
  meta: CheckpointMeta;
  files: number;
  /** image bytes (uncompressed) */
  imageBytes: number;
  /** archive bytes read */
  bytes: number;
}

/** `chunk`: bytes per read of a file (large for the body; small when only the manifest is wanted). */
function source(input: ArchiveInput, chunk = 16 << 20): AsyncIterable<Uint8Array> {
  if (typeof input !== 'string') return input;
  const s = createReadStream(input, { highWaterMark: chunk });
  return (async function* () {
    try {
      for await (const c of s) yield c as Buffer;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CryoError('NOT_FOUND', `no such archive: ${input}`, { hint: 'check the path', cause: e });
      if (code === 'EISDIR') throw new CryoError('USAGE', `${input} is a directory, not an archive`, { hint: 'pass an archive file written by cryo dump -o' });
      throw e;
    }
  })();
}

/** The plain header and the manifest. */
async function readHead(reader: ChunkReader, where: string): Promise<{ meta: CheckpointMeta; sha: string }> {
  const head = await reader.read(HEADER_SIZE).catch((e) => {
    throw reader.consumed === 0 && e instanceof CryoError && e.code === 'BAD_ARCHIVE' ? badArchive('not a cryo archive (empty or too short)') : e;
  });
  if (!head.subarray(0, 8).equals(ARCHIVE_MAGIC)) throw badArchive('not a cryo archive (bad magic)');
  const version = head.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    throw new CryoError('BAD_ARCHIVE', `unsupported archive format version ${version} (this cryo reads ${FORMAT_VERSION})`, {
      hint: 'use the cryo version that wrote the archive, or dump again',
    });
  }
  const len = head.readUInt32LE(12);
  if (len === 0 || len > MAX_MANIFEST) throw badArchive(`manifest length ${len} is out of range`);
  const json = await reader.read(len);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw badArchive('manifest is not valid JSON (the archive is damaged)');
  }
  let meta: CheckpointMeta;
  try {
    meta = checkMeta(parsed, `the manifest of ${where}`);
  } catch (e) {
    throw e instanceof CryoError ? new CryoError('BAD_ARCHIVE', e.message, { hint: e.hint, details: e.details }) : e;
  }
  if (meta.compression?.algorithm !== 'zstd') throw badArchive('the manifest names no compression');
  for (const f of meta.files) if (f.sha256 === undefined) throw badArchive(`the manifest gives ${f.name} no sha256`);
  return { meta, sha: createHash('sha256').update(json).digest('hex') };
}

async function readRecord(body: ChunkReader): Promise<{ tag: string; header: Record<string, unknown> }> {
  const h = await body.read(8);
  const tag = h.toString('latin1', 0, 4);
  const len = h.readUInt32LE(4);
  if (len > MAX_RECORD_HEADER) throw badArchive(`record header length ${len} is out of range`);
  const json = await body.read(len);
  try {
    return { tag, header: JSON.parse(json.toString('utf8')) as Record<string, unknown> };
  } catch {
    throw badArchive('record header is not valid JSON (the archive is damaged)');
  }
}

function name(input: ArchiveInput): string {
  return typeof input === 'string' ? input : 'the input stream';
}

/** Reads only the manifest (the first bytes of the archive). */
export async function readArchiveMeta(input: ArchiveInput): Promise<CheckpointMeta> {
  const it = source(input, 64 << 10)[Symbol.asyncIterator]();
  try {
    return (await readHead(new ChunkReader(it), name(input))).meta;
  } finally {
    await it.return?.();
  }
}

interface FileSink {
  write(b: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Bytes of one file queued for the disk at a time: hashing and decompression go on meanwhile. */
const WRITE_WINDOW = 64 << 20;

async function writeAt(fh: FileHandle, b: Buffer, at: number): Promise<void> {
  let off = 0;
  while (off < b.length) off += (await fh.write(b, off, b.length - off, at + off)).bytesWritten;
}

/**
 * Writes that run one after another behind the caller (at most WRITE_WINDOW bytes queued; one at a
 * time, since libuv's four threads also run the reads and libzstd's calls); close() waits for them
 * and reports the first failure.
 */
function queuedWriter(fh: FileHandle): FileSink {
  let pos = 0;
  let queuedBytes = 0;
  const state: { failed?: { e: unknown } } = {};
  const rethrow = (): void => {
    if (state.failed) throw state.failed.e;
  };
  let tail: Promise<void> = Promise.resolve();
  const waiting: Array<() => void> = [];
  return {
    async write(b: Buffer) {
      rethrow();
      const at = pos;
      pos += b.length;
      queuedBytes += b.length;
      tail = tail.then(async () => {
        try {
          if (!state.failed) await writeAt(fh, b, at);
        } catch (e) {
          state.failed ??= { e };
        } finally {
          queuedBytes -= b.length;
          waiting.splice(0).forEach((wake) => wake());
        }
      });
      while (queuedBytes > WRITE_WINDOW) await new Promise<void>((r) => waiting.push(r));
      rethrow();
    },
    async close() {
      try {
        await tail;
        rethrow();
      } finally {
        await fh.close();
      }
    },
  };
}

/** Walks the whole archive, checking every record and hash; `sink` receives each file's bytes. */
async function walkArchive(
  input: ArchiveInput, openFile: ((name: string) => Promise<FileSink>) | undefined, opts: ArchiveReadOptions,
  onMeta?: (m: CheckpointMeta) => void,
): Promise<ArchiveReport> {
  const reader = ChunkReader.of(source(input));
  const { meta, sha } = await readHead(reader, name(input));
  onMeta?.(meta);
  // the body can never decompress past what the manifest declares (plus record headers)
  const limit = meta.totalBytes + (meta.files.length + 1) * (8 + MAX_RECORD_HEADER);
  const body = ChunkReader.of(readAhead(bounded(zstdDecompressFrames(readAhead(reader.rest()), { maxBytes: limit }), limit), 2), 'archive data');
  let done = 0;
  for (const f of meta.files) {
    if (opts.signal?.aborted) throw new CryoError('FAILED', 'interrupted', { hint: 'nothing was restored' });
    const rec = await readRecord(body);
    if (rec.tag !== TAG_FILE || rec.header.name !== f.name || rec.header.size !== f.size) {
      throw badArchive(`expected the record of ${f.name}, found ${rec.tag} ${JSON.stringify(rec.header.name)}`);
    }
    const out = openFile ? await openFile(f.name) : undefined;
    // hashing (here), writing (libuv's threads) and decompressing (koffi's) overlap; each bounds its queue
    const h = createHash('sha256');
    try {
      for await (const piece of body.pieces(f.size)) {
        if (opts.signal?.aborted) throw new CryoError('FAILED', 'interrupted', { hint: 'nothing was restored' });
        h.update(piece);
        done += piece.length;
        opts.onProgress?.(done, meta.totalBytes);
        if (out) await out.write(piece);
      }
    } finally {
      await out?.close();
    }
    const digest = h.digest('hex');
    if (digest !== f.sha256) throw badArchive(`${f.name} is corrupted (sha256 mismatch)`, { file: f.name });
  }
  const end = await readRecord(body);
  const e = end.header as unknown as EndRecord;
  if (end.tag !== TAG_END) throw badArchive(`expected the end record, found ${end.tag}`);
  if (e.files !== meta.files.length || e.bytes !== done) throw badArchive('end record does not match the manifest');
  if (e.manifestSha256 !== sha) throw badArchive('manifest is corrupted (sha256 mismatch)');
  if (!(await body.atEnd())) throw badArchive('unexpected data after the end record');
  return { meta, files: meta.files.length, imageBytes: done, bytes: reader.consumed };
}

/** Passes chunks on until `limit` bytes went through; more is a damaged (or hostile) archive. */
async function* bounded(src: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const c of src) {
    n += c.length;
    if (n > limit) throw badArchive('the archive holds more data than its manifest declares');
    yield c;
  }
}

/** Checks an archive completely (magic, manifest, every file's sha256, the end record). Throws BAD_ARCHIVE. */
export async function verifyArchive(input: ArchiveInput, opts: ArchiveReadOptions = {}): Promise<ArchiveReport> {
  return walkArchive(input, undefined, opts);
}

/** Fails before writing anything when `dir` cannot hold the images. */
function checkRoom(dir: string, bytes: number): void {
  let free: number;
  try {
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch {
    return;
  }
  if (free < bytes) {
    throw new CryoError('FAILED', `not enough space in ${dir}: the images need ${bytes} bytes, ${free} are free`, {
      hint: 'set CRYO_STAGING to a directory with room (it holds the images until CRIU has read them)',
      details: { need: bytes, free },
    });
  }
}

/**
 * Extracts an archive into `dir` (created 0700 if missing; must be empty). Every file is checked
 * against the manifest; on any failure the files written so far are removed and the error thrown.
 */
export async function extractArchive(input: ArchiveInput, dir: string, opts: ArchiveReadOptions = {}): Promise<ArchiveReport> {
  try {
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if ((await readdir(dir)).length > 0) throw new CryoError('EXISTS', `${dir} is not empty`, { hint: 'extract into a new or empty directory' });
  const written: string[] = [];
  try {
    return await walkArchive(input, async (file) => {
      const path = join(dir, file);
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      written.push(path);
      return queuedWriter(fh);
    }, opts, (m) => checkRoom(dir, m.totalBytes));
  } catch (e) {
    await Promise.all(written.map((p) => rm(p, { force: true })));
    if (e instanceof CryoError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CryoError('FAILED', `cannot extract the archive into ${dir}: ${(e as Error).message}`, {
      hint: code === 'ENOSPC' ? 'not enough space there; set CRYO_STAGING to a directory with room' : 'check the directory',
      cause: e,
    });
  }
}
