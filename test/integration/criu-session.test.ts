// One CRIU for two requests, against real CRIU (root): CPUINFO_CHECK kept open, then RESTORE on the
// same swrk; the RESTORE gets exactly its own options (work dir, log file, log level, not stopped), a
// failing CPU check leaves no CRIU and no restored task behind. And the guardian knows CRIU by pid:
// a provisioned CRIU runs under its loader's name, which no name check finds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCriuSession } from '../../src/criu/call.js';
import { encodeImage } from '../../src/images/image-encode.js';
import { readImage } from '../../src/images/read-image.js';
import { listTree, readProcess } from '../../src/kernel/process.js';
import { childPids, run } from '../../src/kernel/run.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, killTree, repoRoot, sleep, waitFor } from '../helpers/trees.js';

const state = (pid: number) => readProcess(pid)?.state;

/** A `cryo run` loop dumped into a fresh checkpoint directory (the tree ends). */
async function dumpLoop(dir: string): Promise<string> {
  const started = await cli(['run', '--json', '--', 'sh', '-c', 'while :; do sleep 0.05; done']);
  assert.equal(started.status, 0, started.stderr);
  const ckpt = join(dir, 'ckpt');
  const d = await cli(['dump', String(JSON.parse(started.stdout).pid), '-D', ckpt]);
  assert.equal(d.status, 0, d.stderr);
  return ckpt;
}

test('CPUINFO_CHECK then RESTORE on one CRIU: the restore gets its own directories, log and state', { timeout: 60_000 }, async (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const dir = mkdtempSync(join(tmpdir(), 'cryo-session-'));
  const roots: number[] = [];
  t.after(() => {
    for (const r of roots) if (alive(r)) killTree(r);
    rmSync(dir, { recursive: true, force: true });
  });
  const ckpt = await dumpLoop(dir);
  const cpuWork = mkdtempSync(join(dir, 'cpu-'));
  const work = mkdtempSync(join(dir, 'work-'));
  const session = await openCriuSession(criu);
  try {
    const check = await session.call({ type: 'CPUINFO_CHECK', opts: { log_file: 'cpuinfo-check.log', log_level: 4 } }, { imagesDir: ckpt, workDir: cpuWork, keepOpen: true });
    assert.equal(check.success, true);
    const r = await session.call({ type: 'RESTORE', opts: { log_file: 'restore.log', log_level: 1 } }, { imagesDir: ckpt, workDir: work });
    const root = Number(r.restore?.pid);
    roots.push(root);
    assert.ok(root > 0, JSON.stringify(r));
    assert.deepEqual(readdirSync(cpuWork), ['cpuinfo-check.log'], 'the check logs only into its own work dir');
    assert.deepEqual(readdirSync(work).sort(), ['restore.log', 'stats-restore'], 'the restore writes its log and stats into its own');
    assert.ok(readdirSync(ckpt).every((n) => !n.startsWith('restore') && !n.startsWith('cpuinfo-check')), 'nothing went into the checkpoint');
    // log level 1 is errors only: the check's level 4 did not carry over
    assert.ok(readFileSync(join(work, 'restore.log'), 'utf8').split('\n').filter(Boolean).length <= 2, 'restore.log has no info lines');
    assert.ok(readFileSync(join(cpuWork, 'cpuinfo-check.log'), 'utf8').split('\n').length > 10, 'the check logged at level 4');
    await sleep(150);
    const states = listTree(root).map(state);
    assert.ok(states.length > 1 && states.every((s) => s !== 'T' && s !== 't'), `the restored tree runs: ${states.join('')}`);
  } finally {
    await session.close();
  }
});

test('a failing CPUINFO_CHECK on a kept-open CRIU leaves nothing: closing it ends CRIU, nothing was restored', { timeout: 60_000 }, async (t) => {
  const criu = criuFor(t);
  if (!criu) return;
  const dir = mkdtempSync(join(tmpdir(), 'cryo-session-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ckpt = await dumpLoop(dir);
  // claim two CPU features (CPUID 7 EBX) this machine lacks
  const path = join(ckpt, 'cpuinfo.img');
  const img = readImage(path);
  const x86 = (img.entries[0] as { x86_entry: Array<{ capability: number[] }> }).x86_entry[0]!;
  const word = Number(x86.capability[9] ?? 0);
  const missing = [26, 27, 14, 21].filter((b) => !(word & (1 << b)));
  assert.ok(missing.length > 0, 'this CPU has every feature the test could claim');
  x86.capability[9] = (word | (1 << missing[0]!)) >>> 0;
  rmSync(path);
  writeFileSync(path, encodeImage(img), { flag: 'wx', mode: 0o600 });
  const work = mkdtempSync(join(dir, 'cpu-'));
  const session = await openCriuSession(criu);
  const criuPid = session.pid;
  let refused: unknown;
  try {
    await session.call({ type: 'CPUINFO_CHECK', opts: { log_file: 'cpuinfo-check.log', log_level: 4 } }, { imagesDir: ckpt, workDir: work, keepOpen: true });
  } catch (e) {
    refused = e;
  } finally {
    await session.close();
  }
  assert.ok(refused instanceof Error, 'the check fails');
  assert.match(readFileSync(join(work, 'cpuinfo-check.log'), 'utf8'), /capabilities do not match/);
  assert.equal(alive(criuPid), false, 'CRIU has exited');
  assert.deepEqual(childPids(process.pid).filter((p) => alive(p)), [], 'no CRIU (nor anything else) runs under this process');
  assert.ok(readdirSync(ckpt).every((n) => !n.startsWith('restore')), 'no restore ran');
});

test('the guardian resumes a stopped tree only after the CRIU it was told about (by pid) has exited', { timeout: 60_000 }, async (t) => {
  if (!criuFor(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'cryo-guardian-'));
  // a tree without short-lived children: every pid of it is there to be stopped
  const tree = await run('sleep', ['600']);
  // a stand-in for CRIU at work: not named criu, as a provisioned CRIU is not
  const standIn = spawn('sleep', ['30'], { stdio: 'ignore' });
  let holder: ReturnType<typeof spawn> | undefined;
  t.after(() => {
    for (const p of [standIn.pid!, holder?.pid]) if (p && alive(p)) process.kill(p, 'SIGKILL');
    killTree(tree.rootPid);
    rmSync(dir, { recursive: true, force: true });
  });
  const pids = listTree(tree.rootPid);
  const script = join(dir, 'holder.mjs');
  writeFileSync(script, [
    `import { startGuardian } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'kernel', 'guardian.js'))};`,
    'const g = startGuardian();',
    `await g.watch('resume', ${JSON.stringify(pids)}, ${standIn.pid});`,
    `process.stdout.write(g.pid + '\\n');`,
    'setInterval(() => {}, 1000);',
  ].join('\n'));
  holder = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  holder.stdout!.on('data', (d) => (out += d));
  const guardianPid = Number(await waitFor(() => (out.includes('\n') ? out.trim() : undefined), 'the guardian to watch'));
  for (const p of pids) process.kill(p, 'SIGSTOP');
  // cryo dies while "CRIU" still works on the tree
  holder.kill('SIGKILL');
  await sleep(600);
  assert.ok(alive(guardianPid), 'the guardian waits');
  assert.ok(pids.every((p) => /^[Tt]$/.test(state(p) ?? '')), 'the tree stays stopped while CRIU runs');
  standIn.kill('SIGKILL');
  await waitFor(() => pids.every((p) => !/^[Tt]$/.test(state(p) ?? '')), 'the guardian to resume the tree', 10_000);
  await waitFor(() => !alive(guardianPid), 'the guardian to exit', 10_000);
});
