// `cryo check -i` against real CRIU on the machine of the dump, with the tree still running
// (--leave-running, no PID namespace): its listening TCP port and its pids are taken, both named as
// blockers with exit 1; once the tree has ended the same checkpoint is restorable (exit 0).
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { alive, cli, killTree, tempDir, waitFor } from '../helpers/trees.js';

const LISTENER = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
with open(sys.argv[1] + '.tmp', 'w') as f: f.write(str(s.getsockname()[1]))
os_ = __import__('os'); os_.rename(sys.argv[1] + '.tmp', sys.argv[1])
while True: time.sleep(1)
`;

interface Report { restorable: boolean; blockers: Array<{ area: string; port?: number; pid?: number; message: string }> }

test('check -i names a taken listening port and taken pids as blockers, and passes once they are free', { timeout: 120_000 }, async (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const dir = tempDir('cryo-portable-check-');
  const ended: number[] = [];
  t.after(() => {
    for (const p of ended) if (alive(p)) killTree(p);
    rmSync(dir, { recursive: true, force: true });
  });
  const portFile = join(dir, 'port');
  const started = await cli(['run', '--no-pidns', '--json', '--', '/usr/bin/python3', '-c', LISTENER, portFile]);
  assert.equal(started.status, 0, started.stderr);
  const tree = JSON.parse(started.stdout) as { pid: number };
  ended.push(tree.pid);
  await waitFor(() => { try { return readFileSync(portFile, 'utf8'); } catch { return ''; } }, 'the listener');
  const port = Number(readFileSync(portFile, 'utf8'));

  const ckpt = join(dir, 'ckpt');
  const d = await cli(['dump', String(tree.pid), '-D', ckpt, '--leave-running', '--json']);
  assert.equal(d.status, 0, d.stderr);

  const busy = await cli(['check', '-i', ckpt, '--json']);
  assert.equal(busy.status, 1, busy.stdout);
  const r = JSON.parse(busy.stdout) as Report;
  assert.equal(r.restorable, false);
  assert.ok(r.blockers.some((b) => b.area === 'ports' && b.port === port), `port ${port} is named: ${busy.stdout}`);
  assert.ok(r.blockers.some((b) => b.area === 'pids' && b.pid === tree.pid), `pid ${tree.pid} is named: ${busy.stdout}`);
  const refused = await cli(['restore', '-D', ckpt]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, new RegExp(`refused before CRIU ran: .*TCP port ${port}`));

  killTree(tree.pid);
  await waitFor(() => !alive(tree.pid), 'the tree to end');
  const free = await cli(['check', '-i', ckpt, '--json']);
  assert.equal(free.status, 0, free.stdout);
  assert.equal((JSON.parse(free.stdout) as Report).restorable, true);
});
