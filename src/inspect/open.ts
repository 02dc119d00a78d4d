// Open a checkpoint given as an images directory or a cryo archive (extracted by the archive module).
import { statSync } from 'node:fs';
import { ImageDir } from './images.js';

export interface OpenedImages {
  img: ImageDir;
  close(): Promise<void>;
}

export async function openImages(path: string): Promise<OpenedImages> {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // openCheckpoint names the missing path
  }
  // a directory needs nothing else: keep the archive code (and its native zstd) unloaded
  if (isDir) return { img: new ImageDir(path), close: async () => {} };
  const { openCheckpoint } = await import('../archive/open.js');
  const opened = await openCheckpoint(path);
  try {
    return { img: new ImageDir(opened.dir), close: () => opened.close() };
  } catch (e) {
    await opened.close();
    throw e;
  }
}
