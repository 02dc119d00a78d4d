// What a dump writes through. One file per kind (sink-dir.ts, sink-archive.ts, sink-stream.ts); the
// dump pipeline (src/pipeline/dump.ts) drives every kind by the same rules.
import type { CheckpointMeta } from './meta.js';

export interface SinkCommitOptions {
  signal?: AbortSignal;
  /** called with the image bytes written so far */
  onProgress?: (bytes: number, total: number) => void;
}

/** The sink's own result keys: `dir` for a directory, `archive` and `bytes` for an archive. */
export type SinkResult = { dir: string } | { archive: string; bytes: number };

export interface CheckpointSink {
  readonly kind: string;
  /**
   * Refuses what cannot work before the tree is touched and gives CRIU a private, empty images
   * directory. `imageBytes` is an estimate of the images' size (to pick staging room).
   */
  prepare(imageBytes: number): Promise<{ imagesDir: string }>;
  /**
   * Makes the complete images (described by `meta`, whose files carry sha256s when `wantsHashes`)
   * durable and visible under the final name, atomically.
   */
  commit(meta: CheckpointMeta, opts: SinkCommitOptions): Promise<SinkResult>;
  /** the commit needs every file's sha256 in `meta` */
  readonly wantsHashes: boolean;
  /** After a failed CRIU run: keeps CRIU's log where users look for it; returns its path. */
  keepFailedLog(log: string): string | undefined;
  /** Removes every partial file (idempotent; also after a failed prepare). */
  abort(): Promise<void>;
}
