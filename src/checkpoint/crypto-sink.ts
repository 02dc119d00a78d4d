// An encrypted archive file (dump -o FILE --encrypt, pull -o FILE --encrypt): the archive's bytes
// exactly as archive-write.ts makes them, sealed by crypto-stream.ts on their way to disk, written
// under a private name (O_EXCL, 0600), fsync'ed and renamed into place like a plain archive.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { archiveBytes } from './archive-write.js';
import type { Secret } from './crypto-key.js';
import { encryptBytes } from './crypto-stream.js';
import type { CheckpointMeta } from './meta.js';
import { ArchiveSink, type ArchiveSinkOptions } from './sink-archive.js';
import type { CheckpointSink, SinkCommitOptions, SinkResult } from './sink.js';

/** Writes the encrypted archive of `dir` (described by `meta`) to `path`; returns its size. */
export async function writeEncryptedArchive(dir: string, meta: CheckpointMeta, path: string, secret: Secret, opts: SinkCommitOptions & { level?: number } = {}): Promise<number> {
  path = resolve(path);
  const part = join(dirname(path), `.${basename(path)}.cryo-${randomBytes(6).toString('hex')}`);
  let fh: FileHandle | undefined;
  let bytes = 0;
  try {
    fh = await open(part, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    for await (const chunk of encryptBytes(archiveBytes(dir, meta, opts), secret)) {
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      bytes += chunk.length;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(part, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await rm(part, { force: true });
    if (e instanceof CryoError) throw e;
    throw new CryoError('FAILED', `cannot write the archive ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'check the output path and free space', cause: e });
  }
  return bytes;
}

/** The archive sink, encrypting: the same checks before the dump, the same atomic commit. */
export class EncryptedArchiveSink implements CheckpointSink {
  readonly kind = 'archive';
  readonly wantsHashes = true;
  private readonly inner: ArchiveSink;
  private imagesDir: string | undefined;

  constructor(path: string, private readonly secret: Secret, private readonly opts: ArchiveSinkOptions = {}) {
    this.inner = new ArchiveSink(path, opts);
  }

  async prepare(imageBytes: number): Promise<{ imagesDir: string }> {
    const r = await this.inner.prepare(imageBytes);
    this.imagesDir = r.imagesDir;
    return r;
  }

  async commit(meta: CheckpointMeta, opts: SinkCommitOptions): Promise<SinkResult> {
    try {
      return { archive: this.inner.path, bytes: await writeEncryptedArchive(this.imagesDir!, meta, this.inner.path, this.secret, { ...opts, level: this.opts.level }) };
    } finally {
      await this.inner.abort();
    }
  }

  keepFailedLog(log: string): string | undefined {
    return this.inner.keepFailedLog(log);
  }

  abort(): Promise<void> {
    return this.inner.abort();
  }
}
