// The checkpoints in a registry repository (cryo ls oci://HOST/REPO): every tag, or the one given,
// newest first, each described from its manifest and config blob; with verify, pulled whole into a
// private staging dir (every digest, chunk and sha256 checked) and dropped.
import { CryoError } from '../errors.js';
import { checkMeta } from '../checkpoint/meta-file.js';
import { RegistryClient } from '../checkpoint/oci-client.js';
import { parseManifest, SEALED } from '../checkpoint/oci-manifest.js';
import { parseOciRef } from '../checkpoint/oci-ref.js';
import type { OciSinkOptions } from '../checkpoint/sink-oci.js';
import { openOci } from '../checkpoint/source-oci.js';
import { commandOf } from './ls.js';

export interface ListedTag {
  /** the tag */
  name: string;
  /** oci://HOST/REPO:TAG */
  ref: string;
  /** the manifest's digest; null when it could not be read */
  digest: string | null;
  /** the manifest's creation annotation (the checkpoint's createdAt); null when unreadable */
  createdAt: string | null;
  /** sum of the blobs the manifest names (config and chunks; shared chunks counted in each) */
  bytes: number | null;
  imageBytes: number | null;
  command: string[] | null;
  frozenMs: number | null;
  /** the manifest and the description read: a cryo checkpoint */
  complete: boolean;
  /** every blob, chunk and sha256 checks out (false when not checked) */
  verifiable: boolean;
  problem: string | null;
}

export interface RegistryListing {
  /** oci://HOST/REPO */
  repository: string;
  checkpoints: ListedTag[];
}

type ListOptions = Pick<OciSinkOptions, 'creds' | 'insecure' | 'timeoutMs'> & { verify?: boolean };

/** Lists oci://HOST/REPO (every tag) or oci://HOST/REPO:TAG (that one). */
export async function listRegistryCheckpoints(text: string, opts: ListOptions = {}): Promise<RegistryListing> {
  const ref = parseOciRef(text, opts.insecure);
  const rest = text.replace(/^oci:\/\//, '');
  const oneTag = /[:@]/.test(rest.slice(rest.indexOf('/') + 1));
  const repository = `oci://${ref.registry}/${ref.repository}`;
  const client = new RegistryClient(ref, { creds: opts.creds, timeoutMs: opts.timeoutMs });
  const tags = oneTag ? [ref.reference] : await client.listTags();
  const checkpoints: ListedTag[] = [];
  for (const tag of tags) checkpoints.push(await describeTag(client, repository, tag, opts));
  checkpoints.sort((a, b) => ((a.createdAt ?? '') < (b.createdAt ?? '') ? 1 : (a.createdAt ?? '') > (b.createdAt ?? '') ? -1 : b.name.localeCompare(a.name)));
  return { repository, checkpoints };
}

async function describeTag(client: RegistryClient, repository: string, tag: string, opts: ListOptions): Promise<ListedTag> {
  const sep = tag.startsWith('sha256:') ? '@' : ':';
  const out: ListedTag = {
    name: tag, ref: `${repository}${sep}${tag}`, digest: null, createdAt: null, bytes: null, imageBytes: null, command: null, frozenMs: null, complete: false, verifiable: false, problem: null,
  };
  try {
    const { body, digest } = await client.getManifest(tag);
    out.digest = digest;
    const m = parseManifest(body);
    out.createdAt = m.annotations?.['org.opencontainers.image.created'] ?? null;
    out.bytes = m.config.size + m.layers.reduce((n, l) => n + l.size, 0);
    if (m.config.mediaType.endsWith(SEALED)) {
      out.complete = true;
      out.problem = 'encrypted: not checked (cryo verify --key-file checks it)';
      return out;
    }
    const meta = checkMeta(JSON.parse((await client.getBlob(m.config.digest, m.config.size)).toString('utf8')), `the description of ${out.ref}`);
    Object.assign(out, {
      createdAt: meta.createdAt, imageBytes: meta.totalBytes, command: commandOf(meta), complete: true,
      frozenMs: meta.stats ? Math.round(meta.stats.frozen_time / 100) / 10 : null,
    });
  } catch (e) {
    if (e instanceof CryoError && e.exitCode !== 4 && e.code !== 'NOT_FOUND') throw e;
    out.problem = (e as Error).message;
    return out;
  }
  if (opts.verify ?? true) {
    try {
      const opened = await openOci({ oci: `${repository}@${out.digest}`, creds: opts.creds, insecure: opts.insecure, timeoutMs: opts.timeoutMs });
      await opened.close();
      out.verifiable = true;
    } catch (e) {
      if (e instanceof CryoError && e.exitCode !== 4) throw e;
      out.problem = (e as Error).message;
    }
  }
  return out;
}
