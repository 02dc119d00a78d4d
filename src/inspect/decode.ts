// Decoding of the images inspection reads: the size-dependent ones (mm, pagemap) with the lean
// decoders, everything else with the codec (src/images).
import { readFileSync } from 'node:fs';
import { readImage } from '../images/index.js';
import { decodeMmImage, decodePagemapImage } from './fast-decode.js';

export function decodeImageFile(path: string, name: string): Record<string, any>[] {
  if (/^mm-\d+\.img$/.test(name)) return decodeMmImage(readFileSync(path), path);
  if (/^pagemap(-shmem)?-\d+\.img$/.test(name)) return decodePagemapImage(readFileSync(path), path);
  return readImage(path).entries as Record<string, any>[];
}
