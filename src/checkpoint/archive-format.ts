// The cryo archive container (docs/archive-format.md): a plain header and the checkpoint's
// description (meta.ts) as manifest, then one zstd stream of FILE records closed by an END
// record. Written and read front to back.
import { CryoError } from '../errors.js';

export const ARCHIVE_MAGIC = Buffer.from('CRYOCKPT', 'latin1');
export const FORMAT_VERSION = 2;
/** bytes before the manifest: magic, u32 version, u32 manifest length */
export const HEADER_SIZE = 16;
/** safety limits for untrusted input */
export const MAX_MANIFEST = 16 << 20;
export const MAX_RECORD_HEADER = 64 << 10;

export const TAG_FILE = 'FILE';
export const TAG_END = 'END.';

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
