// A small OCI Distribution API client: ping, blobs (HEAD, chunked upload, verified GET) and
// manifests, with basic and bearer-token auth. Every request has a timeout, every loop a bound
// (auth retries, upload resumes, redirects), and every byte read from the registry is checked
// against its digest before anyone sees it: a registry serves tampered blobs without complaint.
import { createHash } from 'node:crypto';
import { CryoError } from '../errors.js';
import type { Credentials } from './oci-auth.js';
import type { OciRef } from './oci-ref.js';

export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const MAX_MANIFEST = 4 << 20;
const MAX_TAG_PAGES = 100;
const PATCH_BYTES = 1 << 20;
const AUTH_TRIES = 2;
const UPLOAD_TRIES = 3;

export interface ClientOptions {
  creds?: Credentials;
  /** per request; default 60 s */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** the scope to ask tokens for; default pull */
  push?: boolean;
}

export function sha256Digest(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** Parses `Bearer realm="...",service="..."` into its scheme and parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header) ?? ['', '', ''];
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)="([^"]*)"|(\w+)=([^,\s]*)/g)) params[(p[1] ?? p[3]).toLowerCase()] = p[2] ?? p[4];
  return { scheme: m[1].toLowerCase(), params };
}

export class RegistryClient {
  readonly base: string;
  private auth: string | undefined;
  /** bytes sent in blob uploads */
  uploaded = 0;

  constructor(readonly ref: OciRef, private readonly opts: ClientOptions = {}) {
    this.base = `${ref.insecure ? 'http' : 'https'}://${ref.registry}`;
  }

  private url(path: string): string {
    return new URL(path, this.base).toString();
  }

  private fail(what: string, e: unknown): CryoError {
    if (e instanceof CryoError) return e;
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError') return new CryoError('FAILED', `the registry ${this.ref.registry} did not answer ${what} in time`, { hint: 'check the registry and the network, then try again', cause: e });
    if (err.name === 'AbortError') return new CryoError('FAILED', 'interrupted', { hint: 'nothing was changed in the registry but unreferenced blobs', cause: e });
    const code = err.cause?.code ?? err.cause?.message ?? err.message;
    const tls = /SSL|TLS|EPROTO|CERT/i.test(String(code));
    return new CryoError('FAILED', `cannot reach the registry ${this.ref.registry}: ${code}`, {
      hint: tls && !this.ref.insecure ? 'for a registry that speaks plain HTTP pass --insecure' : 'is the registry running at that address?', cause: e,
    });
  }

  /** One request, authenticating on 401 (at most AUTH_TRIES times). */
  async request(method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...init.headers };
      if (this.auth) headers.authorization = this.auth;
      let res: Response;
      try {
        const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 60_000);
        res = await fetch(this.url(path), {
          method, headers, body: init.body as unknown as BodyInit | undefined, redirect: 'follow',
          signal: this.opts.signal ? AbortSignal.any([timeout, this.opts.signal]) : timeout,
        });
      } catch (e) {
        throw this.fail(`${method} ${path}`, e);
      }
      if (res.status !== 401 || attempt >= AUTH_TRIES) return res;
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate') ?? '');
    }
  }

  private async authenticate(header: string): Promise<void> {
    const { scheme, params } = parseChallenge(header);
    const creds = this.opts.creds;
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    if (scheme === 'basic') {
      if (!basic || this.auth === basic) throw this.denied();
      this.auth = basic;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new CryoError('FAILED', `the registry ${this.ref.registry} asks for an unknown authentication ('${header.slice(0, 80)}')`, { hint: 'cryo speaks basic and bearer-token auth' });
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', params.scope ?? `repository:${this.ref.repository}:${this.opts.push ? 'pull,push' : 'pull'}`);
    let res: Response;
    try {
      res = await fetch(u, { headers: basic ? { authorization: basic } : {}, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000) });
    } catch (e) {
      throw this.fail('the token request', e);
    }
    if (res.status === 401 || res.status === 403) throw this.denied();
    if (!res.ok) throw new CryoError('FAILED', `the token service of ${this.ref.registry} answered ${res.status}`, { hint: 'check the registry' });
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new CryoError('FAILED', `the token service of ${this.ref.registry} gave no token`, { hint: 'check the registry' });
    const bearer = `Bearer ${token}`;
    if (this.auth === bearer) throw this.denied();
    this.auth = bearer;
  }

  private denied(): CryoError {
    return new CryoError('FAILED', `the registry ${this.ref.registry} refused ${this.opts.creds ? `the credentials of ${this.opts.creds.username}` : 'access without credentials'}`, {
      hint: this.opts.creds ? 'check the user name and password' : 'pass --creds USER:PASS, or log in (docker login / podman login)',
    });
  }

  private async refuse(res: Response, what: string): Promise<CryoError> {
    let detail = '';
    try {
      const j = (await res.json()) as { errors?: { code?: string; message?: string }[] };
      detail = j.errors?.[0] ? `: ${j.errors[0].code ?? ''} ${j.errors[0].message ?? ''}`.trimEnd() : '';
    } catch {
      // no JSON body
    }
    if (res.status === 401 || res.status === 403) return this.denied();
    return new CryoError('FAILED', `the registry ${this.ref.registry} answered ${res.status} to ${what}${detail}`, { hint: 'check the reference and the registry', details: { status: res.status } });
  }

  private blobPath(digest: string): string {
    return `/v2/${this.ref.repository}/blobs/${digest}`;
  }

  /** Checks that the registry speaks the API (and authenticates) before any work is done. */
  async ping(): Promise<void> {
    const res = await this.request('GET', '/v2/');
    await res.body?.cancel();
    if (!res.ok) throw await this.refuse(res, 'GET /v2/');
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request('HEAD', this.blobPath(digest));
    await res.body?.cancel();
    if (res.status === 404) return false;
    if (!res.ok) throw await this.refuse(res, `HEAD ${digest}`);
    return true;
  }

  /** Where an upload stands: the next offset the registry expects. */
  private async uploadOffset(location: string): Promise<number> {
    const res = await this.request('GET', location);
    await res.body?.cancel();
    if (res.status !== 204 && !res.ok) throw await this.refuse(res, 'GET upload status');
    const m = /^0-(\d+)$/.exec(res.headers.get('range') ?? '');
    return m ? Number(m[1]) + 1 : 0;
  }

  /**
   * Chunked upload: POST, PATCH for every piece but the last, PUT ?digest= carrying the last piece
   * (one request less per blob); a failed PATCH resumes where the registry says the upload stands.
   */
  async uploadBlob(data: Buffer, digest: string): Promise<void> {
    const start = await this.request('POST', `/v2/${this.ref.repository}/blobs/uploads/`, { headers: { 'content-length': '0' } });
    await start.body?.cancel();
    if (start.status !== 202) throw await this.refuse(start, 'POST blobs/uploads');
    let location = start.headers.get('location');
    let offset = 0;
    let failures = 0;
    while (data.length - offset > PATCH_BYTES) {
      if (!location) throw new CryoError('FAILED', `the registry ${this.ref.registry} gave no upload location`, { hint: 'check the registry' });
      const piece = data.subarray(offset, offset + PATCH_BYTES);
      let res: Response | undefined;
      try {
        res = await this.request('PATCH', location, {
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + piece.length - 1}`, 'content-length': String(piece.length) },
          body: piece,
        });
      } catch (e) {
        if (++failures >= UPLOAD_TRIES) throw e;
      }
      if (res && res.status === 202) {
        await res.body?.cancel();
        location = res.headers.get('location') ?? location;
        offset += piece.length;
        this.uploaded += piece.length;
        continue;
      }
      if (res && res.status < 500 && res.status !== 416) throw await this.refuse(res, 'PATCH upload');
      await res?.body?.cancel();
      if (++failures >= UPLOAD_TRIES) throw new CryoError('FAILED', `uploading ${digest} failed ${failures} times`, { hint: 'check the registry and try again' });
      offset = await this.uploadOffset(location);
    }
    if (!location) throw new CryoError('FAILED', `the registry ${this.ref.registry} gave no upload location`, { hint: 'check the registry' });
    const last = data.subarray(offset);
    const sep = location.includes('?') ? '&' : '?';
    const put = await this.request('PUT', `${location}${sep}digest=${encodeURIComponent(digest)}`, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(last.length) }, body: last,
    });
    await put.body?.cancel();
    if (put.status !== 201) throw await this.refuse(put, `PUT ${digest}`);
    this.uploaded += last.length;
  }

  /** Uploads `data` unless the registry has it already; true when it was sent. */
  async putBlob(data: Buffer, digest = sha256Digest(data)): Promise<boolean> {
    if (await this.hasBlob(digest)) return false;
    await this.uploadBlob(data, digest);
    return true;
  }

  /** A blob, its bytes checked against `digest` and `size`; BAD_ARCHIVE when they differ. */
  async getBlob(digest: string, size: number): Promise<Buffer> {
    const res = await this.request('GET', this.blobPath(digest));
    if (!res.ok) throw await this.refuse(res, `GET ${digest}`);
    const body = await readLimited(res, size, digest);
    if (body.length !== size || sha256Digest(body) !== digest) {
      throw new CryoError('BAD_ARCHIVE', `the registry served a blob that does not match its digest ${digest}`, {
        hint: 'the registry\'s copy is damaged or was tampered with; push the checkpoint again', details: { digest },
      });
    }
    return body;
  }

  async putManifest(reference: string, body: Buffer): Promise<string> {
    const res = await this.request('PUT', `/v2/${this.ref.repository}/manifests/${reference}`, { headers: { 'content-type': MANIFEST_TYPE }, body });
    await res.body?.cancel();
    if (res.status !== 201) throw await this.refuse(res, `PUT manifest ${reference}`);
    return sha256Digest(body);
  }

  /** The manifest bytes and their digest (checked when the reference is a digest). */
  async getManifest(reference: string): Promise<{ body: Buffer; digest: string }> {
    const res = await this.request('GET', `/v2/${this.ref.repository}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPE } });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new CryoError('NOT_FOUND', `no checkpoint ${this.ref.repository}:${reference} in the registry ${this.ref.registry}`, { hint: 'check the reference (cryo push puts one there)' });
    }
    if (!res.ok) throw await this.refuse(res, `GET manifest ${reference}`);
    const body = await readLimited(res, MAX_MANIFEST, 'the manifest');
    const digest = sha256Digest(body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new CryoError('BAD_ARCHIVE', `the registry served a manifest that does not match ${reference}`, { hint: 'the registry\'s copy is damaged or was tampered with' });
    }
    return { body, digest };
  }

  /** Every tag of the repository, following the API's pagination (Link: <...>; rel="next"); [] when the repository does not exist. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${this.ref.repository}/tags/list?n=1000`;
    for (let page = 0; path && page < MAX_TAG_PAGES; page++) {
      const res = await this.request('GET', path);
      if (res.status === 404) {
        await res.body?.cancel();
        return tags;
      }
      if (!res.ok) throw await this.refuse(res, 'GET tags/list');
      let body: { tags?: unknown };
      try {
        body = JSON.parse((await readLimited(res, MAX_MANIFEST, 'the tag list')).toString('utf8')) as { tags?: unknown };
      } catch (e) {
        throw new CryoError('FAILED', `the registry ${this.ref.registry} sent a tag list that is not JSON`, { hint: 'check the registry', cause: e });
      }
      if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === 'string') tags.push(t);
      path = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
    }
    return tags;
  }

  /** Deletes a manifest (every tag naming it goes with it); false when the registry does not allow deletion (405, or a token without delete rights). */
  async deleteManifest(digest: string): Promise<boolean> {
    const res = await this.request('DELETE', `/v2/${this.ref.repository}/manifests/${digest}`);
    if (res.status === 202 || res.status === 200 || res.status === 404) {
      await res.body?.cancel();
      return true;
    }
    // distribution answers 405 UNSUPPORTED unless storage.delete.enabled is set
    if (res.status === 405 || res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return false;
    }
    throw await this.refuse(res, `DELETE manifest ${digest}`);
  }
}

/** Reads a response body, refusing more than `limit` bytes. */
async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += c.length;
    if (n > limit) {
      await res.body?.cancel().catch(() => {});
      throw new CryoError('BAD_ARCHIVE', `the registry sent more bytes for ${what} than expected`, { hint: 'the registry\'s copy is damaged or was tampered with' });
    }
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts);
}
