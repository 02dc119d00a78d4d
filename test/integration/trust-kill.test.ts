// SIGKILL of cryo at 20 points of a 256 MiB dump, for -D, -o FILE and -o - (--end-after-write, the
// stream mode that stops the tree): afterwards no task of the tree is stopped (the guardian resumed
// it), the tree runs or a complete checkpoint is in place, and the next cryo start removes every
// temp the killed ones left. Guards against: "SIGKILL of cryo between CRIU's answer and the end of
// the dump leaves the whole tree stopped (state T) forever" and "temp dirs holding full memory
// images stay behind". Every tree is ended by pid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { listTree, readProcess } from '../../src/kernel/process.js';
import { run } from '../../src/kernel/run.js';
import { criuFor } from '../helpers/env.js';
import { alive, cli, cliPath, counter, COUNTING_HOLDER, sleep, waitFor } from '../helpers/trees.js';

function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Temps of dead cryo processes: next to the target and in the staging roots. */
function leftovers(dir: string): string[] {
  const own = readdirSync(dir).filter((n) => /\.cryo-(tmp-)?\d+-/.test(n));
  const staged = ['/dev/shm', os.tmpdir()].flatMap((r) => {
    try {
      return readdirSync(r).filter((n) => {
        const m = /^cryo-(dump|open)-(\d+)-/.exec(n);
        return m && !alive(Number(m[2]));
      }).map((n) => join(r, n));
    } catch {
      return [];
    }
  });
  return [...own, ...staged];
}

type Kind = 'dir' | 'file' | 'stream';

for (const kind of ['dir', 'file', 'stream'] as Kind[]) {
  test(`trust: SIGKILL of cryo at 20 points of a 256 MiB ${kind} dump never leaves the tree stopped, and loses nothing`, { timeout: 240_000 }, async (t: TestContext) => {
    if (!criuFor(t)) return;
    const dir = mkdtempSync(join(os.tmpdir(), 'cryo-trust-kill-'));
    writeFileSync(join(dir, 'holder.py'), COUNTING_HOLDER);
    const roots = new Set<number>();
    t.after(() => {
      for (const r of roots) killAll(listTree(r));
      rmSync(dir, { recursive: true, force: true });
    });
    const count = join(dir, 'count');
    let tree: { pid: number; root: number } | undefined;
    const outcomes: string[] = [];
    const target = join(dir, kind === 'dir' ? 'ck' : 'ck.archive');
    const sinkArgs = kind === 'dir' ? ['-D', target] : kind === 'file' ? ['-o', target] : ['-o', '-', '--end-after-write'];
    // 20 kill points from cryo's start to past the end of one full dump (timed on this machine, now)
    let span = 0;
    for (let i = 0; ; i++) {
      const delay: number = i === 0 ? 0 : 120 + Math.round(((i - 1) * span * 1.5) / 19);
      if (i > 20) break;
      if (!tree || !alive(tree.root)) {
        rmSync(count, { force: true });
        const r = await run('python3', [join(dir, 'holder.py'), '256', count]);
        roots.add(r.rootPid);
        tree = { pid: r.pid, root: r.rootPid };
        await waitFor(() => counter(count) > 2, 'the tree to count', 30_000);
      }
      const pids = listTree(tree.root);
      rmSync(target, { recursive: true, force: true });
      const args = [cliPath, 'dump', String(tree.pid), ...(i === 0 ? [...sinkArgs.filter((a) => a !== '--end-after-write'), '--leave-stopped'] : sinkArgs)];
      const out = kind === 'stream' ? openSync(target, 'w', 0o600) : 'ignore';
      const c = spawn(process.execPath, args, { stdio: ['ignore', out, 'pipe'] });
      if (typeof out === 'number') closeSync(out);
      let stderr = '';
      c.stderr!.on('data', (d) => (stderr += d));
      const t0 = performance.now();
      const done = new Promise<number | null>((res) => c.on('close', (code) => res(code)));
      if (i === 0) {
        // the timing run: a whole dump (the tree left stopped, then resumed by the test)
        assert.equal(await done, 0, stderr);
        span = performance.now() - t0;
        for (const p of pids) process.kill(p, 'SIGCONT');
        continue;
      }
      await sleep(delay);
      // cryo's helpers now (the guardian, CRIU): the test waits for them to finish their part
      const helpers = listTree(c.pid!).slice(1);
      try {
        process.kill(c.pid!, 'SIGKILL');
      } catch {
        // finished already
      }
      const code = await done;
      await waitFor(() => helpers.every((h) => !alive(h)), 'the guardian and CRIU to finish', 130_000);
      const stopped = pids.filter((p) => /^[Tt]$/.test(readProcess(p)?.state ?? ''));
      assert.deepEqual(stopped, [], `delay ${delay}: tasks left stopped (cryo ${code ?? 'killed'}: ${stderr})`);
      const complete = existsSync(target) && (await cli(['verify', target])).status === 0;
      const running = alive(tree.pid);
      assert.ok(complete || running, `delay ${delay}: neither a complete checkpoint nor a running tree (cryo ${code ?? 'killed'}: ${stderr})`);
      if (running) {
        const at = counter(count);
        await waitFor(() => counter(count) > at, `delay ${delay}: the tree to count again`);
      }
      outcomes.push(`${delay}ms:${complete ? 'checkpoint' : ''}${complete && running ? '+' : ''}${running ? 'running' : ''}${code === 0 ? '(cryo had finished)' : code !== null ? `(cryo exit ${code}: ${stderr.split('\n')[0]})` : ''}`);
    }
    // the next cryo start sweeps what the killed ones left
    if (!tree || !alive(tree.root)) {
      const r = await run('python3', [join(dir, 'holder.py'), '16', count]);
      roots.add(r.rootPid);
      tree = { pid: r.pid, root: r.rootPid };
    }
    rmSync(target, { recursive: true, force: true });
    const next = await cli(['dump', String(tree.pid), ...(kind === 'dir' ? ['-D', target] : ['-o', target]), '--leave-running']);
    assert.equal(next.status, 0, next.stderr);
    assert.deepEqual(leftovers(dir), [], 'temps of killed cryo processes left after the next start');
    t.diagnostic(`one dump: ${span.toFixed(0)} ms; ${outcomes.join(' ')}`);
  });
}
