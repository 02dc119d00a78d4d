// Open a checkpoint given as an images directory (or, when the archive module is present, a .ckpt archive).
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
    // ImageDir reports the missing path
  }
  if (!isDir && /\.ckpt$/.test(path)) {
    const opened = await openArchive(path);
    if (opened) return { img: new ImageDir(opened.dir), close: async () => { await opened.close(); } };
  }
  return { img: new ImageDir(path), close: async () => {} };
}

async function openArchive(path: string): Promise<{ dir: string; close(): unknown } | undefined> {
  const spec = '../archive/index.js';
  try {
    const mod = (await import(spec)) as { openCheckpoint?: (p: string) => Promise<{ dir: string; close(): unknown }> | { dir: string; close(): unknown } };
    return mod.openCheckpoint ? await mod.openCheckpoint(path) : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}
