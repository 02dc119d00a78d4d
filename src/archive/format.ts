// The cryo archive container (docs/archive-format.md): a plain header and JSON manifest,
// then one zstd stream of FILE records closed by an END record. Written and read front to back.
import { CryoError } from '../errors.js';

export const ARCHIVE_MAGIC = Buffer.from('CRYOCKPT', 'latin1');
export const FORMAT_VERSION = 1;
/** bytes before the manifest: magic, u32 version, u32 manifest length */
export const HEADER_SIZE = 16;
/** safety limits for untrusted input */
export const MAX_MANIFEST = 16 << 20;
export const MAX_RECORD_HEADER = 64 << 10;

export const TAG_FILE = 'FILE';
export const TAG_END = 'END.';

export interface ArchiveFile {
  /** base name inside the image directory */
  name: string;
  size: number;
  /** hex sha256 of the file's bytes */
  sha256: string;
}

export interface ArchiveProcess {
  pid: number;
  ppid: number;
  pgid?: number;
  sid?: number;
  threads?: number[];
  /** argv read from /proc while the tree was stopped; absent when unknown */
  cmdline?: string[];
}

export interface ArchiveManifest {
  format: 'cryo-archive';
  version: number;
  createdAt: string;
  cryo: { version: string };
  criu: { version?: string };
  host: { kernel: string; arch: string; cpu?: string; cpuFlags?: string[]; hostname?: string };
  compression: { algorithm: 'zstd'; level: number };
  /** the dumped process tree (root first) */
  tree: ArchiveProcess[];
  /** the dump options as given (CRIU option names in camelCase) */
  dumpOptions: Record<string, unknown>;
  /** CRIU's dump statistics, microseconds, when known */
  stats?: { freezingTimeUs?: number; frozenTimeUs?: number; memdumpTimeUs?: number; memwriteTimeUs?: number; pagesWritten?: number };
  files: ArchiveFile[];
  /** sum of files[].size */
  totalBytes: number;
}

export interface EndRecord {
  files: number;
  bytes: number;
  manifestSha256: string;
}

export function encodeHeader(manifestJson: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  ARCHIVE_MAGIC.copy(h, 0);
  h.writeUInt32LE(FORMAT_VERSION, 8);
  h.writeUInt32LE(manifestJson.length, 12);
  return h;
}

/** A record: 4-byte ASCII tag, u32 LE length of a JSON header, the header (data follows FILE headers). */
export function encodeRecord(tag: string, header: object): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const b = Buffer.alloc(8 + json.length);
  b.write(tag, 0, 'latin1');
  b.writeUInt32LE(json.length, 4);
  json.copy(b, 8);
  return b;
}

export function badArchive(message: string, details?: Record<string, unknown>): CryoError {
  return new CryoError('BAD_ARCHIVE', message, {
    hint: 'the archive is damaged, truncated or not a cryo archive; use a complete copy',
    details,
  });
}

/** A safe image file name: one path component, no dot-files tricks. */
export function isSafeName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 255 && !name.includes('/') && !name.includes('\0')
    && name !== '.' && name !== '..';
}

/** Validates the manifest's shape (untrusted JSON). */
export function checkManifest(m: unknown): ArchiveManifest {
  const o = m as ArchiveManifest;
  if (!o || typeof o !== 'object' || o.format !== 'cryo-archive') throw badArchive('manifest is not a cryo archive manifest');
  if (o.version !== FORMAT_VERSION) {
    throw new CryoError('BAD_ARCHIVE', `unsupported archive format version ${String(o.version)} (this cryo reads ${FORMAT_VERSION})`, {
      hint: 'use the cryo version that wrote the archive',
    });
  }
  if (!Array.isArray(o.files)) throw badArchive('manifest has no file list');
  const seen = new Set<string>();
  for (const f of o.files) {
    if (!isSafeName(f?.name)) throw badArchive(`manifest names an unsafe file: ${JSON.stringify(f?.name)}`);
    if (seen.has(f.name)) throw badArchive(`manifest lists ${f.name} twice`);
    seen.add(f.name);
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw badArchive(`manifest gives ${f.name} a bad size`);
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) throw badArchive(`manifest gives ${f.name} a bad sha256`);
  }
  return o;
}
