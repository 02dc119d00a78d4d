// Registry credentials where the container ecosystem keeps them: --creds USER:PASS, then
// $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, $DOCKER_CONFIG/config.json or
// ~/.docker/config.json ({"auths": {"HOST": {"auth": base64(USER:PASS)}}}).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CryoError } from '../errors.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Parses --creds USER:PASS. */
export function parseCreds(text: string): Credentials {
  const i = text.indexOf(':');
  if (i <= 0) throw new CryoError('USAGE', 'expected --creds USER:PASS', { hint: 'cryo push app.ckpt oci://HOST/app:tag --creds alice:secret' });
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

function authFiles(): string[] {
  const env = process.env;
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json'));
  return files;
}

/** The stored credentials for `registry` (host[:port]), if any file has them. */
export function findCredentials(registry: string): Credentials | undefined {
  for (const f of authFiles()) {
    let auths: Record<string, { auth?: string; username?: string; password?: string }> | undefined;
    try {
      auths = (JSON.parse(readFileSync(f, 'utf8')) as { auths?: typeof auths }).auths;
    } catch {
      continue;
    }
    if (!auths) continue;
    for (const [key, entry] of Object.entries(auths)) {
      const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
      if (host !== registry || !entry) continue;
      if (entry.auth) {
        const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = plain.indexOf(':');
        if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
      }
      if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}
