// A job's checkpoints in a registry repository: one tag per checkpoint, cryo-<seq>-<UTC time> (the
// sequence orders them; the time is for people). Each is pushed untagged first (the manifest by its
// digest), the oldest tags are deleted down to keep-1, then it is tagged: a tag appears only on a
// complete checkpoint and the repository never lists more than `keep` of them. The job file rides
// along as a manifest annotation, so a run on a fresh machine reconnects the tree's output.
import { CryoError } from '../errors.js';
import { RegistryClient } from '../checkpoint/oci-client.js';
import { parseManifest } from '../checkpoint/oci-manifest.js';
import { parseOciRef, type OciRef } from '../checkpoint/oci-ref.js';
import { OciSink, type OciSinkOptions } from '../checkpoint/sink-oci.js';
import { dump, type DumpOptions } from '../pipeline/dump.js';
import type { JobStore, SavedCheckpoint } from './job-store.js';
import { parseJobFile, type JobFile, type StoredCheckpoint } from './store.js';

/** the manifest annotation that carries the job file */
const A_JOB = 'org.cryo.job';
const TAG = /^cryo-(\d{6,})-(\d{8}T\d{9}Z)$/;

/** Parses oci://HOST[:PORT]/REPO, refusing a tag or digest (a job names its own tags). */
export function parseRepository(text: string, insecure?: boolean): OciRef {
  const rest = text.replace(/^oci:\/\//, '');
  const repo = rest.slice(rest.indexOf('/') + 1);
  if (rest.indexOf('/') < 0 || /[:@]/.test(repo)) {
    throw new CryoError('USAGE', `expected a registry repository without a tag, got '${text}'`, { hint: 'write oci://HOST[:PORT]/REPOSITORY, e.g. oci://localhost:5000/jobs/sim; cryo job names each checkpoint\'s tag' });
  }
  return parseOciRef(text, insecure);
}

/** The job's tags among `tags`, newest first. */
function jobTags(tags: string[]): string[] {
  return tags.filter((t) => TAG.test(t)).sort((a, b) => seqOf(b) - seqOf(a) || (a < b ? 1 : a > b ? -1 : 0));
}

function seqOf(tag: string): number {
  return Number(TAG.exec(tag)![1]);
}

/** The tag after every one in `tags`: the next sequence number, and now. */
function nextTag(tags: string[], now = Date.now()): string {
  const newest = jobTags(tags)[0];
  const seq = newest === undefined ? 1 : seqOf(newest) + 1;
  return `cryo-${String(seq).padStart(6, '0')}-${new Date(now).toISOString().replace(/[-:.]/g, '')}`;
}

export class OciJobStore implements JobStore {
  readonly where: string;
  readonly resetHint: string;
  private readonly ref: OciRef;
  private readonly client: RegistryClient;
  private deleteRefused = false;

  /** `warn` hears once that the registry refuses deletion. */
  constructor(repository: string, private readonly registry: OciSinkOptions, private readonly warn: (message: string, hint: string) => void) {
    this.ref = parseRepository(repository, registry.insecure);
    this.where = `oci://${this.ref.registry}/${this.ref.repository}`;
    this.resetHint = `delete the cryo-* tags of ${this.where} (cryo ls ${this.where} lists them)`;
    this.client = new RegistryClient(this.ref, { creds: registry.creds, push: true, timeoutMs: registry.timeoutMs });
  }

  private refOf(tag: string): string {
    return `${this.where}:${tag}`;
  }

  async tidy(): Promise<string[]> {
    // an interrupted push leaves only an untagged manifest and blobs: invisible, the registry's garbage collection takes them
    await this.client.ping();
    return [];
  }

  async list(): Promise<StoredCheckpoint[]> {
    return jobTags(await this.client.listTags()).map((name) => ({ name, path: this.refOf(name) }));
  }

  async save(pid: number, file: JobFile, opts: DumpOptions, keep: number): Promise<SavedCheckpoint> {
    const tag = nextTag(await this.client.listTags());
    const sink = new OciSink(this.refOf(tag), { ...this.registry, annotations: { [A_JOB]: JSON.stringify(file) }, untagged: true });
    const result = await dump(pid, sink, opts);
    const digest = sink.report!.digest;
    const { body } = await this.client.getManifest(digest);
    const pruned = keep >= 2 ? await this.pruneQuietly(keep - 1) : [];
    await this.client.putManifest(tag, body);
    pruned.push(...(await this.pruneQuietly(keep)));
    return { result: { ...result, archive: this.refOf(tag) } as typeof result, location: this.refOf(tag), pruned };
  }

  async open(c: StoredCheckpoint): Promise<{ input: { oci: string } & OciSinkOptions; jobFile: JobFile | undefined }> {
    const { body, digest } = await this.client.getManifest(c.name);
    const annotation = parseManifest(body).annotations?.[A_JOB];
    // restored by digest: the manifest read here is the one restored
    return { input: { ...this.registry, oci: `${this.where}@${digest}` }, jobFile: annotation === undefined ? undefined : parseJobFile(annotation) };
  }

  async setAside(c: StoredCheckpoint): Promise<string | undefined> {
    return (await this.remove(c.name)) ? `deleted from ${this.where}` : undefined;
  }

  async removeAll(): Promise<string[]> {
    const gone: string[] = [];
    for (const c of await this.list()) {
      if (!(await this.remove(c.name))) break;
      gone.push(c.path);
    }
    return gone;
  }

  /** prune(), a failure said and survived: the new checkpoint matters more than the old ones */
  private async pruneQuietly(keep: number): Promise<string[]> {
    try {
      return await this.prune(keep);
    } catch (e) {
      this.warn(`could not delete older checkpoints in ${this.where}: ${(e as Error).message}`, 'the next checkpoint tries again');
      return [];
    }
  }

  /** Keeps the newest `keep` tags; returns the tags deleted. */
  private async prune(keep: number): Promise<string[]> {
    const gone: string[] = [];
    for (const c of (await this.list()).slice(keep)) {
      if (!(await this.remove(c.name))) break;
      gone.push(c.name);
    }
    return gone;
  }

  /** Deletes one tag's manifest; false (said once) when the registry does not allow deletion. */
  private async remove(tag: string): Promise<boolean> {
    if (this.deleteRefused) return false;
    let digest: string;
    try {
      digest = (await this.client.getManifest(tag)).digest;
    } catch (e) {
      if (e instanceof CryoError && e.code === 'NOT_FOUND') return true;
      throw e;
    }
    if (await this.client.deleteManifest(digest)) return true;
    this.deleteRefused = true;
    this.warn(`the registry ${this.ref.registry} refuses to delete manifests: older checkpoints stay in ${this.where}`,
      'enable deletion in the registry (docker-registry: storage.delete.enabled: true) or give the credentials delete rights; until then delete old cryo-* tags by hand');
    return false;
  }
}
