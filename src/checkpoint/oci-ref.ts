// Registry references as users write them: [oci://]HOST[:PORT]/REPO[/...][:TAG|@sha256:HEX].
import { CryoError } from '../errors.js';

export interface OciRef {
  /** host[:port] as written */
  registry: string;
  /** the repository, e.g. team/app */
  repository: string;
  /** a tag or a digest (sha256:...) */
  reference: string;
  /** plain HTTP (--insecure, or a loopback host) */
  insecure: boolean;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

/** Parses REF; `insecure` allows plain HTTP to any host (loopback hosts always get it). */
export function parseOciRef(text: string, insecure = false): OciRef {
  const s = text.startsWith('oci://') ? text.slice(6) : text;
  const m = /^([A-Za-z0-9.-]+(?::\d+)?|\[[0-9a-fA-F:]+\](?::\d+)?)\/([a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(sha256:[0-9a-f]{64}))?$/.exec(s);
  if (!m) {
    throw new CryoError('USAGE', `not a registry reference: '${text}'`, { hint: 'write oci://HOST[:PORT]/REPOSITORY[:TAG], e.g. oci://localhost:5000/app:warm' });
  }
  return { registry: m[1], repository: m[2], reference: m[3] ?? m[4] ?? 'latest', insecure: insecure || LOOPBACK.test(m[1]) };
}

export function formatOciRef(r: OciRef): string {
  return `oci://${r.registry}/${r.repository}${r.reference.startsWith('sha256:') ? '@' : ':'}${r.reference}`;
}

/** True when a -o/-i argument names a registry. */
export function isOciTarget(text: string): boolean {
  return text.startsWith('oci://');
}
