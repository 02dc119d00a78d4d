// Decoding of the images inspection reads: the codec's lean entries (64-bit values as numbers below
// 2^53, bigints above; no unknown-field capture), which keeps 20,000-mapping mm images and large
// pagemaps cheap.
import { readImageLean } from '../images/read-image.js';

export function decodeImageFile(path: string): Record<string, any>[] {
  return readImageLean(path).entries as Record<string, any>[];
}
