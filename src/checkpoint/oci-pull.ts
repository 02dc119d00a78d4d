// Pulling a checkpoint from a registry into an empty private directory: the manifest's shape, every
// blob's digest, every chunk's length and every file's sha256 are checked before the directory is
// handed on; on any failure the files written so far are removed.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { wrongKey } from './crypto-key.js';
import { checkMeta, isSafeName, writeMeta } from './meta-file.js';
import type { CheckpointMeta } from './meta.js';
import { deriveChunkKeys, decodeChunk, MAX_CHUNK, openSealed } from './oci-chunks.js';
import { RegistryClient } from './oci-client.js';
import { A_FILE, A_KEY_CHECK, A_LENGTH, A_OFFSET, SEALED, parseManifest, type Descriptor } from './oci-manifest.js';
import type { RegistryOptions } from './oci-push.js';
import { forEachOrdered } from './oci-pool.js';
import { formatOciRef, type OciRef } from './oci-ref.js';

export interface PullReport {
  ref: string;
  digest: string;
  meta: CheckpointMeta;
  /** blob bytes fetched (config included) */
  bytes: number;
  imageBytes: number;
  encrypted: boolean;
}

const PARALLEL = 8;
const MAX_CONFIG = 16 << 20;

function bad(message: string): CryoError {
  return new CryoError('BAD_ARCHIVE', `the checkpoint in the registry is damaged: ${message}`, { hint: 'push the checkpoint again' });
}

/** Pulls `ref` into `dir` (existing, empty, private), writing its cryo.json last. */
export async function pullCheckpoint(ref: OciRef, dir: string, opts: RegistryOptions = {}): Promise<PullReport> {
  if ((await readdir(dir)).length > 0) throw new CryoError('EXISTS', `${dir} is not empty`, { hint: 'pull into a new or empty directory' });
  const client = new RegistryClient(ref, { creds: opts.creds, timeoutMs: opts.timeoutMs, signal: opts.signal });
  const { body, digest } = await client.getManifest(ref.reference);
  const manifest = parseManifest(body);
  const sealed = manifest.config.mediaType.endsWith(SEALED);
  if (sealed && !opts.secret) throw new CryoError('USAGE', `${formatOciRef(ref)} is encrypted`, { hint: 'pass the --key-file (or --passphrase-file) it was pushed with' });
  const keys = sealed && opts.secret ? deriveChunkKeys(opts.secret, ref.registry, ref.repository) : undefined;
  if (keys && manifest.annotations?.[A_KEY_CHECK] !== keys.check) throw wrongKey(formatOciRef(ref));
  if (manifest.config.size > MAX_CONFIG) throw bad('the config blob is too large');
  let bytes = manifest.config.size;
  const configBlob = await client.getBlob(manifest.config.digest, manifest.config.size);
  const configJson = keys ? openSealed(keys, configBlob, 'the checkpoint description') : configBlob;
  let meta: CheckpointMeta;
  try {
    meta = checkMeta(JSON.parse(configJson.toString('utf8')), `the description of ${formatOciRef(ref)}`);
  } catch (e) {
    throw e instanceof CryoError ? new CryoError('BAD_ARCHIVE', e.message, { hint: e.hint }) : bad('the description is not JSON');
  }
  // every layer belongs to a file the description lists, in order, without gaps or overlaps
  const byFile = new Map<string, Descriptor[]>();
  for (const l of manifest.layers) {
    const name = l.annotations![A_FILE];
    if (l.size > MAX_CHUNK + (64 << 10) || Number(l.annotations![A_LENGTH]) > MAX_CHUNK) throw bad(`a chunk of ${name} is too large`);
    byFile.set(name, [...(byFile.get(name) ?? []), l]);
  }
  for (const name of byFile.keys()) if (!meta.files.some((f) => f.name === name)) throw bad(`a chunk belongs to ${name}, which the description does not list`);
  const written: string[] = [];
  let done = 0;
  try {
    for (const f of meta.files) {
      if (!isSafeName(f.name) || f.sha256 === undefined) throw bad(`the description lists ${f.name} without a safe name and a sha256`);
      const layers = byFile.get(f.name) ?? [];
      let offset = 0;
      for (const l of layers) {
        if (Number(l.annotations![A_OFFSET]) !== offset) throw bad(`the chunks of ${f.name} are out of order`);
        offset += Number(l.annotations![A_LENGTH]);
      }
      if (offset !== f.size) throw bad(`the chunks of ${f.name} hold ${offset} bytes, the description says ${f.size}`);
      const path = join(dir, f.name);
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      written.push(path);
      const h = createHash('sha256');
      try {
        await forEachOrdered(layers, PARALLEL, async (l) => {
          if (opts.signal?.aborted) throw new CryoError('FAILED', 'interrupted', { hint: 'nothing was kept' });
          const blob = await client.getBlob(l.digest, l.size);
          bytes += blob.length;
          return decodeChunk(blob, Number(l.annotations![A_LENGTH]), keys, `a chunk of ${f.name}`);
        }, async (p) => {
          h.update(p);
          let off = 0;
          while (off < p.length) off += (await fh.write(p, off, p.length - off)).bytesWritten;
          done += p.length;
          opts.onProgress?.(done, meta.totalBytes);
        });
      } finally {
        await fh.close();
      }
      if (h.digest('hex') !== f.sha256) throw bad(`${f.name} does not match its sha256`);
    }
    writeMeta(dir, meta);
  } catch (e) {
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw e;
  }
  return { ref: formatOciRef(ref), digest, meta, bytes, imageBytes: done, encrypted: keys !== undefined };
}
