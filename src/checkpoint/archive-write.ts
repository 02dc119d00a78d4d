// The bytes of an archive (docs/archive-format.md) for an images directory and its description:
// header, manifest, then one zstd stream of FILE records closed by an END record. Where the bytes
// go (a file, a stream, later a registry) is the sink's business.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { encodeHeader, encodeRecord, TAG_END, TAG_FILE } from './archive-format.js';
import { readAhead } from './chunk-reader.js';
import type { CheckpointMeta } from './meta.js';
import { type FramedZstdOptions, zstdCompressFrames } from './zstd.js';

export interface ArchiveWriteOptions extends FramedZstdOptions {
  /** stops the writing between chunks */
  signal?: AbortSignal;
  /** called with the image bytes read so far */
  onProgress?: (bytes: number, total: number) => void;
}

function interrupted(): CryoError {
  return new CryoError('FAILED', 'interrupted; the checkpoint was not written', { hint: 'nothing was kept; the tree was left as it was before the dump' });
}

async function* records(dir: string, meta: CheckpointMeta, manifestSha: string, opts: ArchiveWriteOptions): AsyncGenerator<Buffer> {
  let total = 0;
  for (const f of meta.files) {
    yield encodeRecord(TAG_FILE, { name: f.name, size: f.size });
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of createReadStream(join(dir, f.name), { highWaterMark: 2 << 20 })) {
      if (opts.signal?.aborted) throw interrupted();
      const b = chunk as Buffer;
      // the file must not change between hashing and writing
      h.update(b);
      n += b.length;
      if (n > f.size) break;
      total += b.length;
      opts.onProgress?.(total, meta.totalBytes);
      yield b;
    }
    if (n !== f.size || (f.sha256 !== undefined && h.digest('hex') !== f.sha256)) {
      throw new CryoError('FAILED', `${f.name} changed while the archive was written`, { hint: 'do not modify the images while they are archived' });
    }
  }
  yield encodeRecord(TAG_END, { files: meta.files.length, bytes: total, manifestSha256: manifestSha });
}

/** The whole archive of `dir` described by `meta` (whose files carry sizes and sha256s), chunk by chunk. */
export async function* archiveBytes(dir: string, meta: CheckpointMeta, opts: ArchiveWriteOptions = {}): AsyncGenerator<Buffer> {
  const manifest = Buffer.from(JSON.stringify(meta), 'utf8');
  const manifestSha = createHash('sha256').update(manifest).digest('hex');
  if (opts.signal?.aborted) throw interrupted();
  yield Buffer.concat([encodeHeader(manifest), manifest]);
  for await (const chunk of readAhead(zstdCompressFrames(readAhead(records(dir, meta, manifestSha, opts)), opts))) {
    if (opts.signal?.aborted) throw interrupted();
    yield chunk;
  }
}
