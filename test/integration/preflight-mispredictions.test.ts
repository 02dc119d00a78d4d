// The three trees preflight once called dumpable although CRIU 4.2.1 cannot checkpoint them (issue 10),
// each held against what real CRIU does: a process of another uid without CAP_SYS_RESOURCE, namespaces
// nested below the root, and a unix stream connection whose outside peer is an unnamed client socket.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAP_SYS_RESOURCE, readEffectiveCaps } from '../../src/kernel/proc.js';
import type { PreflightReport } from '../../src/preflight/types.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, compileFixture, startTime, Trees, waitFor } from '../helpers/trees.js';

const trees = new Trees();
test.after(() => trees.cleanup());

let fixture: string | undefined;
function prog(t: TestContext): string | undefined {
  if (!criuFor(t)) return undefined;
  fixture ??= compileFixture('preflight-trees.c', trees.dir('cryo-mispredict-'));
  if (!fixture) t.skip('gcc is missing');
  return fixture;
}

/** `cryo run --json ARGS`, tracked for cleanup through its init. */
async function runTree(args: string[]): Promise<{ pid: number; rootPid: number }> {
  const r = await cli(['run', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { pid: number; rootPid: number };
  trees.track(out.rootPid);
  return out;
}

async function check(pid: number): Promise<PreflightReport> {
  const r = await cli(['check', '--pid', String(pid), '--json']);
  return JSON.parse(r.stdout) as PreflightReport;
}

/** A fresh, absent checkpoint path. */
function ckpt(name: string): string {
  return join(trees.dir('cryo-mispredict-ck-'), name);
}

/** Restores DIR (expected to fail) and proves that nothing of it runs afterwards. */
async function restoreFails(dir: string, extra: string[]): Promise<string> {
  const work = trees.dir('cryo-mispredict-w-');
  const r = await cli(['restore', '-D', dir, '-W', work, '--json', ...extra], { timeoutMs: 60_000 });
  if (r.status === 0) {
    const out = JSON.parse(r.stdout) as { rootPid: number };
    trees.track(out.rootPid);
    assert.fail(`restore ${extra.join(' ')} succeeded`);
  }
  const err = (JSON.parse(r.stdout) as { error: { message: string } }).error.message;
  return err;
}

test('a process of another uid: a blocker exactly when cryo lacks CAP_SYS_RESOURCE, as CRIU says', { timeout: 120_000 }, async (t) => {
  const p = prog(t);
  if (!p) return;
  const { pid, rootPid } = await runTree(['--', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', p, 'loop']);
  await waitFor(() => readFileSync(`/proc/${pid}/status`, 'utf8').includes('Uid:\t65534'), 'the child runs as nobody');
  const report = await check(pid);
  const sysResource = (readEffectiveCaps('self') & (1n << BigInt(CAP_SYS_RESOURCE))) !== 0n;
  const dump = await cli(['dump', String(pid), '-D', ckpt('uid'), '-R']);
  if (sysResource) {
    assert.ok(!report.blockers.some((b) => b.kind === 'other-uid'), JSON.stringify(report.blockers));
    assert.equal(dump.status, 0, dump.stderr);
    return;
  }
  assert.deepEqual(report.blockers.map((b) => [b.pid, b.kind]), [[pid, 'other-uid']]);
  assert.match(report.blockers[0].message, /CAP_SYS_RESOURCE/);
  assert.equal(dump.status, 1, dump.stderr);
  assert.match(dump.stderr, /runs as another user.*CAP_SYS_RESOURCE/);
  assert.ok(alive(pid) && alive(rootPid), 'the tree still runs');
  // and `cryo check` says what fails without it
  const env = JSON.parse((await cli(['check', '--json'])).stdout) as { limits: string[]; capabilities: { name: string; present: boolean }[] };
  assert.ok(env.capabilities.some((c) => c.name === 'CAP_SYS_RESOURCE' && !c.present));
  assert.ok(env.limits.some((l) => /CAP_SYS_RESOURCE.*another uid/.test(l)), env.limits.join('\n'));
});

for (const kind of ['ipc', 'uts'] as const) {
  test(`a nested ${kind} namespace: a blocker, and CRIU refuses the dump; \`cryo run --${kind}\` dumps and restores`, { timeout: 120_000 }, async (t) => {
    const p = prog(t);
    if (!p) return;
    const nested = await runTree(['--', 'unshare', `--${kind}`, p, 'loop']);
    const report = await check(nested.pid);
    assert.ok(report.blockers.some((b) => b.kind === 'nested-namespace' && b.message.includes(`${kind} namespace`)), JSON.stringify(report.blockers));
    assert.ok(report.blockers.every((b) => b.message.includes(`cryo run --${kind}`)));
    const dump = await cli(['dump', String(nested.pid), '-D', ckpt(kind), '-R']);
    assert.equal(dump.status, 1);
    assert.match(dump.stderr, new RegExp(`CRIU cannot dump a nested ${kind} namespace`));
    assert.match(dump.stderr, new RegExp(`hint: .*cryo run --${kind} -- CMD`));
    assert.ok(alive(nested.pid), 'the tree still runs');

    // the command the hint names works: predicted dumpable, dumped, restored
    const own = await runTree([`--${kind}`, '--', p, 'loop']);
    const ok = await check(own.pid);
    assert.deepEqual(ok.blockers, []);
    const dir = ckpt(`${kind}-own`);
    const d = await cli(['dump', String(own.pid), '-D', dir]);
    assert.equal(d.status, 0, d.stderr);
    const r = await cli(['restore', '-D', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
    trees.track((JSON.parse(r.stdout) as { rootPid: number }).rootPid);
  });
}

test('a nested mount namespace: a blocker; CRIU dumps it but cannot restore it', { timeout: 120_000 }, async (t) => {
  const p = prog(t);
  if (!p) return;
  // the namespace drops the host's namespace bind mounts (ip netns), which CRIU cannot dump at all:
  // what is tested is the nested mount namespace itself
  const dropNsfs = 'while IFS= read -r m; do t=${m#* - }; t=${t%% *}; [ "$t" = nsfs ] || continue; q=${m#* * * * }; umount -l "${q%% *}" 2>/dev/null; done < /proc/self/mountinfo; exec "$0" loop';
  const { pid, rootPid } = await runTree(['--', 'unshare', '--mount', 'sh', '-c', dropNsfs, p]);
  const report = await check(pid);
  assert.ok(report.blockers.some((b) => b.kind === 'nested-namespace' && /mnt namespace.*Can't restore sub-task/.test(b.message)), JSON.stringify(report.blockers));
  const dir = ckpt('mnt');
  const d = await cli(['dump', String(pid), '-D', dir]);
  assert.equal(d.status, 0, d.stderr);
  await waitFor(() => !alive(rootPid) || startTime(rootPid) === undefined, 'the dumped tree ended');
  const err = await restoreFails(dir, []);
  assert.match(err, /namespace of its own/);
});

test('a unix stream connection to an unnamed outside client: a blocker; dumped as external, no restore works', { timeout: 180_000 }, async (t) => {
  const p = prog(t);
  if (!p) return;
  const sockDir = trees.dir('cryo-mispredict-sock-');
  mkdirSync(sockDir, { recursive: true });
  const path = join(sockDir, 'srv.sock');
  const server = await runTree(['--', p, 'unix-server', path]);
  await waitFor(() => existsSync(path), 'the unix server listens');
  const client = spawn(p, ['unix-client', path], { detached: true, stdio: 'ignore' });
  client.unref();
  trees.track(client.pid!);
  await waitFor(async () => (await check(server.pid)).blockers.length > 0 || undefined, 'the connection is accepted', 5_000).catch(() => undefined);

  const report = await check(server.pid);
  const b = report.blockers.find((x) => x.kind === 'unix-external-unnamed');
  assert.ok(b, JSON.stringify(report));
  assert.match(b.message, /no restore can reconnect it/);
  assert.equal(report.dumpable, false);
  const ino = /inode (\d+)/.exec(b.message)![1];

  // what the old prediction suggested: the dump succeeds ...
  const dir = ckpt('unix');
  const d = await cli(['dump', String(server.pid), '-D', dir, '--external', `unix[${ino}]`]);
  assert.equal(d.status, 0, d.stderr);
  // ... but no restore can work, with --ext-unix-sk or without
  await restoreFails(dir, []);
  await restoreFails(dir, ['--ext-unix-sk']);
});
