// openCheckpoint: a checkpoint directory, an archive file or an archive stream, opened as one thing.
import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { CryoError } from '../errors.js';
import { openDir } from './source-dir.js';
import type { OciInput } from './source-oci.js';
import type { OpenedCheckpoint, OpenOptions } from './source.js';

/** A path (directory or archive file, told apart by content), or an explicit kind. */
export type CheckpointInput =
  | string
  | { dir: string }
  | { archive: string }
  | { stream: Readable | AsyncIterable<Uint8Array>; name?: string }
  | OciInput;

// archives, container tars and registries are loaded only when one is opened: a directory's restore
// pays for none of their modules (zstd, tar, HTTP, crypto)
const archiveSource = () => import('./source-archive.js');

export async function openCheckpoint(input: CheckpointInput, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  if (typeof input !== 'string') {
    if ('dir' in input) return openDir(input.dir);
    if ('archive' in input) return (await archiveSource()).openArchive({ path: input.archive }, opts);
    if ('oci' in input) return (await import('./source-oci.js')).openOci(input, opts);
    return (await archiveSource()).openArchive(input, opts);
  }
  let st;
  try {
    st = statSync(input);
  } catch {
    throw new CryoError('NOT_FOUND', `no such checkpoint: ${input}`, { hint: 'pass a checkpoint directory written by cryo dump -D, or an archive written by cryo dump -o' });
  }
  if (st.isDirectory()) return openDir(input);
  const { isArchiveFile, openArchive } = await archiveSource();
  if (!isArchiveFile(input)) {
    const { isContainerTar, openContainerTar } = await import('./source-container-tar.js');
    if (await isContainerTar(input)) return openContainerTar(input, opts);
  }
  if (!isArchiveFile(input)) {
    throw new CryoError('BAD_ARCHIVE', `${input} is neither a checkpoint directory nor a cryo archive`, {
      hint: 'pass a directory written by cryo dump -D, an archive written by cryo dump -o, or a podman/CRI-O checkpoint tar',
    });
  }
  return openArchive({ path: input }, opts);
}
