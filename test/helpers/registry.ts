// A real registry for tests and benchmarks: Debian's docker-registry (CNCF distribution) on
// 127.0.0.1 with filesystem storage in a private temp dir and, when asked, htpasswd basic auth
// (bcrypt, written by apache2-utils' htpasswd). Stopped by pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const HTPASSWD_BIN = '/usr/bin/htpasswd';

export function hasTool(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  /** the registry's storage root (blobs under docker/registry/v2/blobs) */
  storage: string;
  pid: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a registry; with `auth`, only that user (basic auth over plain HTTP) gets in; `deletes` enables manifest deletion. */
export async function startRegistry(auth?: { user: string; pass: string }, opts: { deletes?: boolean } = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-registry-'));
  const storage = join(dir, 'data');
  const port = await freePort();
  let authYaml = '';
  if (auth) {
    const h = spawnSync(HTPASSWD_BIN, ['-Bbn', auth.user, auth.pass], { encoding: 'utf8' });
    if (h.status !== 0) throw new Error(`htpasswd failed: ${h.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), h.stdout, { mode: 0o600 });
    authYaml = `auth:\n  htpasswd:\n    realm: cryo-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n${opts.deletes ? '  delete:\n    enabled: true\n' : ''}${authYaml}http:\n  addr: 127.0.0.1:${port}\n`);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      const t = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(`http://${host}/v2/`);
      await r.body?.cancel();
      if (r.status === 200 || r.status === 401) return { host, storage, pid: child.pid!, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`the registry did not start: ${stderr.slice(-500)}`);
}

/** The storage file of a blob. */
export function blobFile(reg: Registry, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(reg.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** Total bytes of every blob the registry stores. */
export function storedBlobBytes(reg: Registry): number {
  const root = join(reg.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  let n = 0;
  for (const p of readdirSync(root)) for (const h of readdirSync(join(root, p))) n += statSync(join(root, p, h, 'data')).size;
  return n;
}
