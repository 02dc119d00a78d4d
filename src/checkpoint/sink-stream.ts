// An archive written to a stream (stdout, a socket, a pipe to ssh): CRIU writes into a RAM staging
// dir, then the archive's bytes go out in order. The stream has no name to rename into place: the
// reader knows the archive is complete when it has read the END record (cryo restore -i - and cryo
// verify - check it), so a cut stream is never taken for a checkpoint.
import { tmpdir } from 'node:os';
import type { Writable } from 'node:stream';
import { CryoError } from '../errors.js';
import { archiveBytes } from './archive-write.js';
import type { CheckpointMeta } from './meta.js';
import { keepLogCopy, StagedImages } from './sink-archive.js';
import type { CheckpointSink, SinkCommitOptions, SinkResult } from './sink.js';

export interface StreamSinkOptions {
  /** zstd level 1..19; default 3 */
  level?: number;
  /** the name results give the stream; default '-' */
  name?: string;
}

export class StreamSink implements CheckpointSink {
  readonly kind = 'stream';
  readonly wantsHashes = true;
  private readonly images = new StagedImages();

  constructor(private readonly stream: Writable, private readonly opts: StreamSinkOptions = {}) {}

  async prepare(imageBytes: number): Promise<{ imagesDir: string }> {
    return { imagesDir: await this.images.create(imageBytes) };
  }

  async commit(meta: CheckpointMeta, opts: SinkCommitOptions): Promise<SinkResult> {
    try {
      return { archive: this.opts.name ?? '-', bytes: await writeArchiveStream(this.images.dir, meta, this.stream, { ...opts, level: this.opts.level }) };
    } finally {
      await this.images.remove();
    }
  }

  keepFailedLog(log: string): string | undefined {
    return keepLogCopy(log, tmpdir(), 'cryo-stream');
  }

  async abort(): Promise<void> {
    await this.images.remove();
  }
}

/** Writes the archive of the images directory `dir` (described by `meta`) to `stream`; returns its size. */
export async function writeArchiveStream(dir: string, meta: CheckpointMeta, stream: Writable, opts: SinkCommitOptions & { level?: number } = {}): Promise<number> {
  let failed: Error | undefined;
  const onError = (e: Error) => (failed ??= e);
  stream.on('error', onError);
  const fail = () => new CryoError('FAILED', `writing the archive failed: ${failed?.message}`, {
    hint: 'the reader of the stream went away (broken pipe?); the tree was left as it was', cause: failed,
  });
  let bytes = 0;
  try {
    for await (const chunk of archiveBytes(dir, meta, opts)) {
      if (failed) throw fail();
      await new Promise<void>((res, rej) => stream.write(chunk, (e) => (e ? rej((failed ??= e, fail())) : res())));
      bytes += chunk.length;
    }
    if (failed) throw fail();
  } finally {
    stream.off('error', onError);
  }
  return bytes;
}
