// Inspection reads any checkpoint (directory, archive file, stdin) through the checkpoint model.
import { openCheckpoint, type CheckpointInput } from '../checkpoint/open.js';
import type { OpenedCheckpoint } from '../checkpoint/source.js';
import { ImageDir } from './images.js';

export interface OpenedImages {
  img: ImageDir;
  checkpoint: OpenedCheckpoint;
  close(): Promise<void>;
}

export async function openImages(input: CheckpointInput): Promise<OpenedImages> {
  const checkpoint = await openCheckpoint(input);
  try {
    return { img: new ImageDir(checkpoint.dir), checkpoint, close: () => checkpoint.close() };
  } catch (e) {
    await checkpoint.close();
    throw e;
  }
}
