// What a restore (or an inspection) reads from: one opened checkpoint whatever the input was.
import type { CheckpointMeta } from './meta.js';

export interface OpenOptions {
  signal?: AbortSignal;
  /** called with the image bytes read so far (archives) */
  onProgress?: (bytes: number, total: number) => void;
}

export interface OpenedCheckpoint {
  /** 'dir' for a checkpoint directory, 'archive' for an archive file or stream */
  readonly kind: 'dir' | 'archive';
  /** what was given: the directory or archive path, or the stream's name ('-') */
  readonly path: string;
  /** the images directory to read: the directory itself, or a private 0700 staging copy */
  readonly dir: string;
  /** cryo.json / the manifest; undefined for a bare CRIU dump */
  readonly meta: CheckpointMeta | undefined;
  /** archive bytes read (archives only) */
  readonly bytes?: number;
  /** the images may be modified or deleted by the reader (a private copy) */
  readonly privateCopy: boolean;
  /** removes a private copy; a no-op for a directory */
  close(): Promise<void>;
}
