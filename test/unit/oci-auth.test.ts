// Registry auth against a small local server that plays registry and token service: bearer tokens
// are fetched with the user's basic credentials, a refused login is one error (no loop), and stored
// credentials are found where docker and podman keep them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findCredentials } from '../../src/checkpoint/oci-auth.js';
import { RegistryClient } from '../../src/checkpoint/oci-client.js';
import { parseOciRef } from '../../src/checkpoint/oci-ref.js';
import { CryoError } from '../../src/errors.js';

async function serve(): Promise<{ server: Server; host: string; hits: { v2: number; token: number } }> {
  const hits = { v2: 0, token: 0 };
  let host = '';
  const server = createServer((req, res) => {
    if (req.url!.startsWith('/token')) {
      hits.token++;
      const u = new URL(req.url!, 'http://x');
      const ok = req.headers.authorization === `Basic ${Buffer.from('alice:pw').toString('base64')}`
        && u.searchParams.get('service') === 'test' && u.searchParams.get('scope') === 'repository:app:pull,push';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"token":"t1"}' : '{}');
      return;
    }
    hits.v2++;
    if (req.headers.authorization === 'Bearer t1') res.writeHead(200).end('{}');
    else res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test",scope="repository:app:pull,push"` }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return { server, host, hits };
}

test('bearer tokens: fetched with the basic credentials, then used; a refused login fails once, without looping', async () => {
  const { server, host, hits } = await serve();
  try {
    await new RegistryClient(parseOciRef(`oci://${host}/app:x`), { creds: { username: 'alice', password: 'pw' }, push: true }).ping();
    assert.equal(hits.token, 1);
    hits.v2 = 0;
    await assert.rejects(
      new RegistryClient(parseOciRef(`oci://${host}/app:x`), { creds: { username: 'alice', password: 'bad' }, push: true }).ping(),
      (e: unknown) => e instanceof CryoError && /refused the credentials of alice/.test(e.message) && e.exitCode === 1,
    );
    assert.ok(hits.v2 <= 3, `the client asked ${hits.v2} times`);
  } finally {
    server.close();
  }
});

test('stored credentials: REGISTRY_AUTH_FILE and DOCKER_CONFIG, matched by host and port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryo-auth-'));
  const saved = { ...process.env };
  try {
    writeFileSync(join(dir, 'auth.json'), JSON.stringify({ auths: { 'localhost:5000': { auth: Buffer.from('bob:p:w').toString('base64') } } }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'https://reg.invalid/v1/': { username: 'carol', password: 'x' } } }));
    process.env.REGISTRY_AUTH_FILE = join(dir, 'auth.json');
    process.env.DOCKER_CONFIG = dir;
    delete process.env.XDG_RUNTIME_DIR;
    assert.deepEqual(findCredentials('localhost:5000'), { username: 'bob', password: 'p:w' });
    assert.deepEqual(findCredentials('reg.invalid'), { username: 'carol', password: 'x' });
    assert.equal(findCredentials('localhost:5001'), undefined);
  } finally {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
