// A registry as the source (restore -i oci://REF, inspect, verify): the checkpoint is pulled into a
// private 0700 staging dir, every blob and file checked, before anyone reads it.
import { createStaging, stagingRoot } from './staging.js';
import { pullCheckpoint } from './oci-pull.js';
import { parseOciRef } from './oci-ref.js';
import type { OciSinkOptions } from './sink-oci.js';
import type { OpenedCheckpoint, OpenOptions } from './source.js';

export interface OciInput extends OciSinkOptions {
  /** oci://HOST[:PORT]/REPO[:TAG|@DIGEST] */
  oci: string;
}

export async function openOci(input: OciInput, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  const ref = parseOciRef(input.oci, input.insecure);
  const staging = await createStaging('open', stagingRoot());
  try {
    const r = await pullCheckpoint(ref, staging.dir, { ...input, signal: opts.signal ?? input.signal, onProgress: opts.onProgress ?? input.onProgress });
    return { kind: 'archive', path: r.ref, dir: staging.dir, meta: r.meta, bytes: r.bytes, privateCopy: true, close: () => staging.remove() };
  } catch (e) {
    await staging.remove();
    throw e;
  }
}
