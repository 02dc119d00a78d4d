// The RPC client against real CRIU (root): VERSION, CHECK, FEATURE_CHECK, and a DUMP + RESTORE of a shell
// loop with NOTIFY hooks. Skips locally without root/CRIU, fails in CI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { CryoError } from '../../src/errors.js';
import { checkCriu, checkCriuFeatures, criuCall, getCriuVersion } from '../../src/criu/rpc/index.js';
import { criuFor } from '../helpers/env.js';

/** Starts a bash loop (dash cannot close fds above 9) as the leader of a new session, stdio on /dev/null, every other fd closed. */
function startLoop(counterFile: string): number {
  const script =
    'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; ' +
    `i=0; while :; do i=$((i+1)); echo $i > '${counterFile}'; sleep 0.05; done`;
  const child = spawn('/bin/bash', ['-c', script], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
  child.unref();
  assert.ok(child.pid, 'the loop started');
  return child.pid;
}

function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 50) {
    if (waited > ms) assert.fail(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

function readCounter(file: string): number {
  const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Ends a tree we started: the session's process group, by its leader's pid. */
function killTree(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe('RPC client against real CRIU', () => {
  test('VERSION', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const v = await getCriuVersion(criu);
    assert.equal(v.version, criu.version, 'RPC and --version agree');
    assert.ok(v.major_number >= 4);
  });

  test('CHECK', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const r = await checkCriu(criu);
    assert.equal(r.ok, true, r.error?.message);
  });

  test('FEATURE_CHECK', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const f = await checkCriuFeatures(criu, { memTrack: true, lazyPages: true, pidfdStore: true });
    assert.deepEqual(Object.keys(f).sort(), ['lazy_pages', 'mem_track', 'pidfd_store']);
    // every answer is a boolean; userfaultfd is on wherever CRIU 4.2 passes its check on these machines
    assert.ok(Object.values(f).every((v) => typeof v === 'boolean'));
    assert.equal(f.lazy_pages, existsSync('/proc/sys/vm/unprivileged_userfaultfd'));
  });

  test('a dump of a missing pid fails with ESRCH and the log\'s real errors', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const dir = mkdtempSync(join(tmpdir(), 'cryo-rpc-it-'));
    try {
      let err: unknown;
      try {
        await criuCall(criu, { type: 'DUMP', opts: { pid: 4_000_000 } }, { imagesDir: dir, errorCode: 'DUMP_FAILED' });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof CryoError);
      assert.equal(err.code, 'DUMP_FAILED');
      assert.match(err.message, /^criu dump failed: ESRCH \(No such process\)/);
      assert.doesNotMatch(err.message, /RLIMIT/);
      assert.equal(err.details.logPath, join(dir, 'dump.log'));
      const logErrors = err.details.logErrors as string[];
      assert.ok(logErrors.length > 0);
      assert.ok(logErrors.every((l) => !/RLIMIT_NOFILE/.test(l)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a pre-dump hook that throws stops the dump and leaves the tree running', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const work = mkdtempSync(join(tmpdir(), 'cryo-rpc-it-'));
    const counter = join(work, 'counter');
    let pid: number | undefined;
    try {
      pid = startLoop(counter);
      await waitFor('the loop to count', () => existsSync(counter) && readCounter(counter) >= 2);
      const refusal = new Error('not now');
      let err: unknown;
      try {
        await criuCall(
          criu,
          { type: 'DUMP', opts: { pid } },
          {
            imagesDir: work,
            errorCode: 'DUMP_FAILED',
            hooks: {
              preDump: () => {
                throw refusal;
              },
            },
          },
        );
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof CryoError, String(err));
      assert.equal(err.code, 'DUMP_FAILED');
      assert.equal(err.cause, refusal);
      assert.match(err.message, /pre-dump hook failed: not now/);
      assert.ok(isLive(pid), 'the tree still runs');
      const before = readCounter(counter);
      await waitFor('the loop to go on counting', () => readCounter(counter) > before + 1);
    } finally {
      if (pid) killTree(pid);
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('DUMP then RESTORE of a shell loop, with notify hooks', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const work = mkdtempSync(join(tmpdir(), 'cryo-rpc-it-'));
    const images = join(work, 'images');
    const counter = join(work, 'counter');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(images);
    const pids: number[] = [];
    try {
      const pid = startLoop(counter);
      pids.push(pid);
      await waitFor('the loop to count', () => existsSync(counter) && readCounter(counter) >= 3);

      const dumpNotes: string[] = [];
      const dumped = await criuCall(
        criu,
        { type: 'DUMP', opts: { pid, log_level: 4 } },
        {
          imagesDir: images,
          errorCode: 'DUMP_FAILED',
          hooks: {
            onNotify: (script) => {
              dumpNotes.push(script);
            },
          },
        },
      );
      assert.equal(dumped.success, true);
      assert.ok(dumpNotes.includes('pre-dump') && dumpNotes.includes('post-dump'), `saw ${dumpNotes.join(', ')}`);
      assert.ok(dumpNotes.indexOf('pre-dump') < dumpNotes.indexOf('post-dump'));
      assert.ok(readdirSync(images).some((f) => /^core-\d+\.img$/.test(f)), 'images were written');
      assert.ok(readdirSync(images).includes('dump.log'));
      const atDump = readCounter(counter);

      // the dumped tree ends; its pids (one core-<pid>.img each) stay taken until init reaps the zombies
      const treePids = readdirSync(images).flatMap((f) => /^core-(\d+)\.img$/.exec(f)?.[1] ?? []);
      assert.ok(treePids.includes(String(pid)));
      await waitFor('the dumped pids to be free', () => treePids.every((p) => !existsSync(`/proc/${p}`)));

      const restoreNotes: Array<[string, number | undefined]> = [];
      let postRestorePid: number | undefined;
      const restored = await criuCall(
        criu,
        { type: 'RESTORE', opts: { log_level: 4 } },
        {
          imagesDir: images,
          errorCode: 'RESTORE_FAILED',
          hooks: {
            onNotify: (script, info) => {
              restoreNotes.push([script, info.pid]);
            },
            postRestore: (info) => {
              postRestorePid = info.pid;
            },
          },
        },
      );
      const rpid = restored.restore?.pid;
      assert.equal(rpid, pid, 'CRIU restores the original pid');
      pids.push(rpid);
      const names = restoreNotes.map(([s]) => s);
      assert.ok(names.includes('pre-restore') && names.includes('post-restore'), `saw ${names.join(', ')}`);
      assert.ok(names.indexOf('pre-restore') < names.indexOf('post-restore'));
      assert.equal(postRestorePid, pid, 'post-restore names the restored root');
      assert.ok(readdirSync(images).includes('restore.log'));

      // the shell's own counter went on from where it was, it did not start again
      await waitFor('the restored loop to count on', () => readCounter(counter) > atDump + 2);
      assert.ok(isLive(pid));
    } finally {
      pids.forEach(killTree);
      rmSync(work, { recursive: true, force: true });
    }
  });
});
