// A registry as the sink (dump -o oci://REF): CRIU writes into a RAM staging dir, the registry is
// asked before the tree is touched, and the commit pushes chunks then the manifest, so the tag
// names the new checkpoint only once every blob is there.
import { tmpdir } from 'node:os';
import type { CheckpointMeta } from './meta.js';
import { pingRegistry, pushCheckpoint, type PushReport, type RegistryOptions } from './oci-push.js';
import { parseOciRef, type OciRef } from './oci-ref.js';
import { keepLogCopy, StagedImages } from './sink-archive.js';
import type { CheckpointSink, SinkCommitOptions, SinkResult } from './sink.js';

export interface OciSinkOptions extends RegistryOptions {
  /** plain HTTP to a host that is not loopback */
  insecure?: boolean;
}

export class OciSink implements CheckpointSink {
  readonly kind = 'oci';
  readonly wantsHashes = true;
  readonly ref: OciRef;
  /** the push's numbers, after commit */
  report: PushReport | undefined;
  private readonly images = new StagedImages();

  constructor(ref: string, private readonly opts: OciSinkOptions = {}) {
    this.ref = parseOciRef(ref, opts.insecure);
  }

  async prepare(imageBytes: number): Promise<{ imagesDir: string }> {
    await pingRegistry(this.ref, this.opts);
    return { imagesDir: await this.images.create(imageBytes) };
  }

  async commit(meta: CheckpointMeta, opts: SinkCommitOptions): Promise<SinkResult> {
    try {
      this.report = await pushCheckpoint(this.images.dir, meta, this.ref, { ...this.opts, signal: opts.signal, onProgress: opts.onProgress });
      return { archive: this.report.ref, bytes: this.report.blobBytes };
    } finally {
      await this.images.remove();
    }
  }

  keepFailedLog(log: string): string | undefined {
    return keepLogCopy(log, tmpdir(), 'cryo-oci');
  }

  async abort(): Promise<void> {
    await this.images.remove();
  }
}
