// Reading archives front to back (files and stdin alike): verifyArchive checks every hash,
// extractArchive writes the images into a 0700 directory and removes them again if anything
// turns out to be wrong, so a caller only ever sees a fully verified image directory.
import { createHash } from 'node:crypto';
import { createReadStream, statfsSync } from 'node:fs';
import { chmod, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CryoError } from '../errors.js';
import {
  ARCHIVE_MAGIC, type ArchiveManifest, badArchive, checkManifest, type EndRecord, FORMAT_VERSION, HEADER_SIZE, MAX_MANIFEST,
  MAX_RECORD_HEADER, TAG_END, TAG_FILE,
} from './format.js';
import { createProgress, humanBytes } from './progress.js';
import { ChunkReader, readAhead } from './reader.js';
import { zstdDecompress } from './zstd.js';

/** Input: a path ('-' = stdin) or a readable stream. */
export type ArchiveInput = string | Readable | AsyncIterable<Uint8Array>;

export interface ReadArchiveOptions {
  /** progress line on stderr; default: when stderr is a TTY */
  progress?: boolean;
  signal?: AbortSignal;
}

export interface ArchiveReport {
  manifest: ArchiveManifest;
  files: number;
  /** uncompressed image bytes */
  rawBytes: number;
  /** archive bytes read */
  bytes: number;
}

function source(input: ArchiveInput): AsyncIterable<Uint8Array> {
  if (typeof input !== 'string') return input;
  if (input === '-') return process.stdin;
  const s = createReadStream(input, { highWaterMark: 1 << 20 });
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

/** Reads and checks the plain header and the manifest. */
async function readHead(reader: ChunkReader): Promise<{ manifest: ArchiveManifest; sha: string }> {
  const head = await reader.read(HEADER_SIZE).catch((e) => {
    throw reader.consumed === 0 && e instanceof CryoError && e.code === 'BAD_ARCHIVE' ? badArchive('not a cryo archive (empty or too short)') : e;
  });
  if (!head.subarray(0, 8).equals(ARCHIVE_MAGIC)) throw badArchive('not a cryo archive (bad magic)');
  const version = head.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    throw new CryoError('BAD_ARCHIVE', `unsupported archive format version ${version} (this cryo reads ${FORMAT_VERSION})`, {
      hint: 'use the cryo version that wrote the archive',
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
  return { manifest: checkManifest(parsed), sha: createHash('sha256').update(json).digest('hex') };
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

/** Reads only the manifest (the first bytes of the archive). */
export async function readManifest(input: ArchiveInput): Promise<ArchiveManifest> {
  const src = source(input);
  const it = src[Symbol.asyncIterator]();
  try {
    return (await readHead(new ChunkReader(it))).manifest;
  } finally {
    await it.return?.();
  }
}

type FileSinkFactory = (name: string, size: number) => Promise<{ write(b: Buffer): Promise<void>; close(): Promise<void> }>;

/** Walks the whole archive, checking every hash; `sink` receives each file's bytes. */
async function walkArchive(
  input: ArchiveInput, sink: FileSinkFactory | undefined, opts: ReadArchiveOptions, onManifest?: (m: ArchiveManifest) => void,
): Promise<ArchiveReport> {
  const reader = ChunkReader.of(source(input));
  const { manifest, sha } = await readHead(reader);
  onManifest?.(manifest);
  const body = ChunkReader.of(readAhead(zstdDecompress(readAhead(reader.rest()))), 'archive data');
  const progress = createProgress(sink ? 'extract' : 'verify', manifest.totalBytes, opts.progress);
  let raw = 0;
  try {
    for (const f of manifest.files) {
      const rec = await readRecord(body);
      if (rec.tag !== TAG_FILE || rec.header.name !== f.name || rec.header.size !== f.size) {
        throw badArchive(`expected the record of ${f.name}, found ${rec.tag} ${JSON.stringify(rec.header.name)}`);
      }
      const out = sink ? await sink(f.name, f.size) : undefined;
      const h = createHash('sha256');
      try {
        for await (const piece of body.pieces(f.size)) {
          if (opts.signal?.aborted) throw new CryoError('FAILED', 'interrupted', { hint: 'nothing was restored' });
          h.update(piece);
          progress.add(piece.length);
          if (out) await out.write(piece);
        }
      } finally {
        await out?.close();
      }
      if (h.digest('hex') !== f.sha256) throw badArchive(`${f.name} is corrupted (sha256 mismatch)`, { file: f.name });
      raw += f.size;
    }
    const end = await readRecord(body);
    const e = end.header as unknown as EndRecord;
    if (end.tag !== TAG_END) throw badArchive(`expected the end record, found ${end.tag}`);
    if (e.files !== manifest.files.length || e.bytes !== raw) throw badArchive('end record does not match the manifest');
    if (e.manifestSha256 !== sha) throw badArchive('manifest is corrupted (sha256 mismatch)');
    if (!(await body.atEnd())) throw badArchive('unexpected data after the end record');
  } finally {
    progress.done();
  }
  return { manifest, files: manifest.files.length, rawBytes: raw, bytes: reader.consumed };
}

/** Checks an archive completely (magic, manifest, every file's sha256, the end record). Throws BAD_ARCHIVE. */
export async function verifyArchive(input: ArchiveInput, opts: ReadArchiveOptions = {}): Promise<ArchiveReport> {
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
    throw new CryoError('FAILED', `not enough space in ${dir}: the images need ${humanBytes(bytes)}, ${humanBytes(free)} are free`, {
      hint: 'set CRYO_STAGING to a directory with room (it holds the images until CRIU has read them)',
      details: { need: bytes, free },
    });
  }
}

/**
 * Extracts an archive into `dir` (created 0700; must be empty). Every file is checked against the
 * manifest; on any failure the files written so far are removed and BAD_ARCHIVE is thrown.
 */
export async function extractArchive(input: ArchiveInput, dir: string, opts: ReadArchiveOptions = {}): Promise<ArchiveReport> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  if ((await readdir(dir)).length > 0) {
    throw new CryoError('EXISTS', `${dir} is not empty`, { hint: 'extract into a new or empty directory' });
  }
  const written: string[] = [];
  try {
    return await walkArchive(input, async (name) => {
      const path = join(dir, name);
      const fh = await open(path, 'wx', 0o600);
      written.push(path);
      return {
        async write(b: Buffer) {
          let off = 0;
          while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
        },
        close: () => fh.close(),
      };
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
