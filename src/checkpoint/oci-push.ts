// Pushing a checkpoint (an images directory and its description) to a registry: chunks the
// registry already has (HEAD) are not sent again, so a second checkpoint of the same tree costs
// only what changed. The manifest goes last: a tag never names a checkpoint with missing blobs.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import type { Secret } from './crypto-key.js';
import type { Credentials } from './oci-auth.js';
import { cutChunks, deriveChunkKeys, encodeChunk, sealDeterministic } from './oci-chunks.js';
import { MANIFEST_TYPE, RegistryClient, sha256Digest } from './oci-client.js';
import { A_FILE, A_KEY_CHECK, A_LENGTH, A_OFFSET, ARTIFACT_TYPE, CHUNK_TYPE, CONFIG_TYPE, SEALED, type CheckpointManifest, type Descriptor } from './oci-manifest.js';
import { forEachOrdered } from './oci-pool.js';
import { formatOciRef, type OciRef } from './oci-ref.js';
import type { CheckpointMeta } from './meta.js';

export interface RegistryOptions {
  creds?: Credentials;
  /** seal every blob with keys derived from this secret */
  secret?: Secret;
  signal?: AbortSignal;
  onProgress?: (bytes: number, total: number) => void;
  /** per request; default 60 s */
  timeoutMs?: number;
  /** extra manifest annotations (cryo job's pipe inodes) */
  annotations?: Record<string, string>;
  /** put the manifest by its digest only, tagging nothing (the caller tags it later) */
  untagged?: boolean;
}

export interface PushReport {
  ref: string;
  /** the manifest's digest */
  digest: string;
  /** chunk blobs in the manifest (config excluded) */
  blobs: number;
  /** blobs the registry did not have and got */
  uploadedBlobs: number;
  /** sum of the chunk blobs' sizes */
  blobBytes: number;
  /** bytes sent in blob uploads (config included) */
  uploadedBytes: number;
  imageBytes: number;
  encrypted: boolean;
}

const PARALLEL = 8;

/** Checks the registry answers (and the credentials work) before anything is dumped. */
export async function pingRegistry(ref: OciRef, opts: RegistryOptions = {}): Promise<void> {
  await new RegistryClient(ref, { creds: opts.creds, push: true, timeoutMs: opts.timeoutMs, signal: opts.signal }).ping();
}

/** Pushes the images in `dir`, described by `meta`, as the checkpoint artifact `ref`. */
export async function pushCheckpoint(dir: string, meta: CheckpointMeta, ref: OciRef, opts: RegistryOptions = {}): Promise<PushReport> {
  const client = new RegistryClient(ref, { creds: opts.creds, push: true, timeoutMs: opts.timeoutMs, signal: opts.signal });
  await client.ping();
  const keys = opts.secret ? deriveChunkKeys(opts.secret, ref.registry, ref.repository) : undefined;
  const chunkType = keys ? CHUNK_TYPE + SEALED : CHUNK_TYPE;
  const layers: Descriptor[] = [];
  const known = new Map<string, Promise<boolean>>();
  let uploadedBlobs = 0;
  let done = 0;
  const files = [];
  for (const f of meta.files) {
    const data = await readFile(join(dir, f.name));
    const sha = createHash('sha256').update(data).digest('hex');
    if (data.length !== f.size || (f.sha256 !== undefined && f.sha256 !== sha)) {
      throw new CryoError('FAILED', `${f.name} changed while the checkpoint was pushed`, { hint: 'do not modify the images while they are pushed' });
    }
    files.push({ ...f, sha256: sha });
    const cuts = cutChunks(data);
    await forEachOrdered(cuts, PARALLEL, async ([s, e]) => {
      if (opts.signal?.aborted) throw new CryoError('FAILED', 'interrupted; the checkpoint was not pushed', { hint: 'nothing was tagged' });
      const blob = await encodeChunk(data.subarray(s, e), keys);
      const digest = sha256Digest(blob);
      // the same chunk twice (zero pages) is uploaded once
      const pending = known.get(digest);
      if (pending) await pending;
      else {
        const sent = client.putBlob(blob, digest);
        known.set(digest, sent);
        if (await sent) uploadedBlobs++;
      }
      return { mediaType: chunkType, digest, size: blob.length, annotations: { [A_FILE]: f.name, [A_OFFSET]: String(s), [A_LENGTH]: String(e - s) } };
    }, (desc) => {
      layers.push(desc);
      done += Number(desc.annotations[A_LENGTH]);
      opts.onProgress?.(done, meta.totalBytes);
    });
  }
  const described: CheckpointMeta = { ...meta, files };
  const plainConfig = Buffer.from(JSON.stringify(described), 'utf8');
  const config = keys ? sealDeterministic(keys, plainConfig) : plainConfig;
  const configDigest = sha256Digest(config);
  await client.putBlob(config, configDigest);
  const manifest: CheckpointManifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    artifactType: ARTIFACT_TYPE,
    config: { mediaType: keys ? CONFIG_TYPE + SEALED : CONFIG_TYPE, digest: configDigest, size: config.length },
    layers,
    annotations: { ...opts.annotations, 'org.opencontainers.image.created': meta.createdAt, ...(keys ? { [A_KEY_CHECK]: keys.check } : {}) },
  };
  const body = Buffer.from(JSON.stringify(manifest), 'utf8');
  const digest = await client.putManifest(opts.untagged ? sha256Digest(body) : ref.reference, body);
  return {
    ref: formatOciRef(opts.untagged ? { ...ref, reference: digest } : ref),
    digest,
    blobs: layers.length,
    uploadedBlobs,
    blobBytes: layers.reduce((n, l) => n + l.size, 0),
    uploadedBytes: client.uploaded,
    imageBytes: meta.totalBytes,
    encrypted: keys !== undefined,
  };
}
