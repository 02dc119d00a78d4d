// The OCI artifact a cryo checkpoint is in a registry (docs/registry.md): an image manifest whose
// artifactType names a cryo checkpoint, the checkpoint description as its config blob, and every
// image file's chunks as layers, in file order, each annotated with its file and offset.
import { CryoError } from '../errors.js';
import { MANIFEST_TYPE } from './oci-client.js';

export const ARTIFACT_TYPE = 'application/vnd.cryo.checkpoint.v1';
export const CONFIG_TYPE = 'application/vnd.cryo.checkpoint.config.v1+json';
export const CHUNK_TYPE = 'application/vnd.cryo.checkpoint.chunk.v1+zstd';
/** suffix of the media types of sealed blobs */
export const SEALED = '+encrypted';
export const A_FILE = 'org.cryo.checkpoint.file';
export const A_OFFSET = 'org.cryo.checkpoint.offset';
export const A_LENGTH = 'org.cryo.checkpoint.length';
export const A_KEY_CHECK = 'org.cryo.checkpoint.key-check';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface CheckpointManifest {
  schemaVersion: 2;
  mediaType: typeof MANIFEST_TYPE;
  artifactType: typeof ARTIFACT_TYPE;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

function bad(message: string): CryoError {
  return new CryoError('BAD_ARCHIVE', `the registry holds no valid cryo checkpoint there: ${message}`, { hint: 'pull a reference that cryo push (or cryo dump -o oci://) wrote' });
}

function isDescriptor(d: unknown): d is Descriptor {
  const o = d as Descriptor;
  return typeof o === 'object' && o !== null && typeof o.mediaType === 'string' && typeof o.digest === 'string'
    && /^sha256:[0-9a-f]{64}$/.test(o.digest) && Number.isSafeInteger(o.size) && o.size >= 0;
}

/** Parses and checks a manifest's shape. */
export function parseManifest(body: Buffer): CheckpointManifest {
  let m: CheckpointManifest;
  try {
    m = JSON.parse(body.toString('utf8')) as CheckpointManifest;
  } catch {
    throw bad('the manifest is not JSON');
  }
  if (m.artifactType !== ARTIFACT_TYPE) throw bad(`its artifactType is ${JSON.stringify(m.artifactType ?? null)}, not ${ARTIFACT_TYPE}`);
  if (m.schemaVersion !== 2 || !isDescriptor(m.config) || !Array.isArray(m.layers) || !m.layers.every(isDescriptor)) throw bad('the manifest is malformed');
  if (!m.config.mediaType.startsWith(CONFIG_TYPE)) throw bad(`its config is ${m.config.mediaType}`);
  for (const l of m.layers) {
    const a = l.annotations ?? {};
    if (!l.mediaType.startsWith(CHUNK_TYPE) || typeof a[A_FILE] !== 'string' || !/^\d+$/.test(a[A_OFFSET] ?? '') || !/^\d+$/.test(a[A_LENGTH] ?? '')) throw bad('a layer is not a cryo chunk');
  }
  return m;
}
