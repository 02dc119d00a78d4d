// The RPC client against a fake CRIU that speaks the protocol on fd 3 (no root, no CRIU needed).
import assert from 'node:assert/strict';
import { existsSync, fstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CryoError } from '../../src/errors.js';
import {
  checkCriu,
  checkCriuFeatures,
  criuCall,
  describeErrno,
  encodeCriuRequest,
  getCriuVersion,
  openCriu,
  openDumpSession,
} from '../../src/criu/rpc/index.js';
import type { CriuNotifyInfo } from '../../src/criu/rpc/types.js';
import { makeFakeCriu, readRecord, type FakeScenario } from '../helpers/fake-criu.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function fake(s: FakeScenario) {
  const f = makeFakeCriu(s);
  dirs.push(f.dir);
  return f;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function rejects(p: Promise<unknown>): Promise<CryoError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CryoError, `expected a CryoError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('RPC client against a fake CRIU', () => {
  test('VERSION round trip', async () => {
    const f = fake('version');
    const v = await getCriuVersion(f);
    assert.equal(v.version, '4.2.1');
    assert.equal(v.major_number, 4);
    const reqs = readRecord(f.record);
    assert.deepEqual(reqs.map((r) => r.type), ['VERSION']);
    assert.equal(reqs[0].opts, undefined, 'VERSION carries no opts');
  });

  test('keep_open serves several requests on one connection (a refused one does not block it), close() reaps CRIU', async () => {
    const f = fake('version');
    const conn = openCriu(f);
    await assert.rejects(conn.request({ type: 'DUMP', opts: { pidd: 1 } }), /unknown criu_opts field/);
    const a = await conn.request({ type: 'VERSION', keep_open: true });
    const b = await conn.request({ type: 'CHECK', keep_open: true });
    assert.equal(a.version?.minor_number, 2);
    assert.equal(b.type, 'CHECK');
    const exit = await conn.close();
    assert.deepEqual(exit, { code: 0, signal: null }, 'CRIU saw end-of-file and exited');
    assert.equal(alive(conn.pid), false);
    assert.deepEqual(readRecord(f.record).map((r) => r.type), ['VERSION', 'CHECK']);
  });

  test('a request after the final answer is refused', async () => {
    const f = fake('version');
    const conn = openCriu(f);
    await conn.request({ type: 'VERSION' });
    await assert.rejects(conn.request({ type: 'VERSION' }), /has ended/);
    await conn.close();
  });

  test('an answer larger than 64 KiB arrives whole', async () => {
    const f = fake('large');
    const resp = await criuCall(f, { type: 'VERSION' });
    assert.equal(resp.version?.name?.length, 150_000);
  });

  test('NOTIFY round trips: hooks see every script, pid and fd; notify_scripts is set', async () => {
    const f = fake('notify');
    const seen: Array<[string, CriuNotifyInfo]> = [];
    const named: string[] = [];
    let fdWasOpen = false;
    const resp = await criuCall(
      f,
      { type: 'DUMP', opts: { pid: 4242 } },
      {
        hooks: {
          onNotify: (script, info) => {
            seen.push([script, { ...info }]);
          },
          preDump: () => {
            named.push('preDump');
          },
          postDump: async (info) => {
            await new Promise((r) => setTimeout(r, 5));
            named.push(`postDump:${info.pid}`);
          },
          orphanPtsMaster: (info) => {
            fdWasOpen = info.fd !== undefined && fstatSync(info.fd).isCharacterDevice();
            named.push('orphanPtsMaster');
          },
        },
      },
    );
    assert.equal(resp.success, true);
    assert.deepEqual(seen.map(([s]) => s), ['pre-dump', 'post-dump', 'orphan-pts-master']);
    assert.equal(seen[1][1].pid, 42);
    assert.equal(typeof seen[2][1].fd, 'number', 'the SCM_RIGHTS fd reached the hook');
    assert.ok(fdWasOpen, 'the passed fd (/dev/null) was open while the hook ran');
    assert.deepEqual(named, ['preDump', 'postDump:42', 'orphanPtsMaster']);
    const reqs = readRecord(f.record);
    assert.equal(reqs[0].opts?.notify_scripts, true);
    assert.deepEqual(
      reqs.slice(1).map((r) => [r.type, r.notify_success]),
      [
        ['NOTIFY', true],
        ['NOTIFY', true],
        ['NOTIFY', true],
      ],
    );
  });

  test('without hooks notify_scripts is not requested', async () => {
    const f = fake('version');
    await criuCall(f, { type: 'DUMP', opts: { pid: 1 } });
    assert.equal(readRecord(f.record)[0].opts?.notify_scripts, undefined);
  });

  test('a hook that throws answers notify_success=false and fails the request with it as cause', async () => {
    const f = fake('notify');
    const boom = new Error('not today');
    const e = await rejects(
      criuCall(
        f,
        { type: 'DUMP', opts: { pid: 4242 } },
        {
          errorCode: 'DUMP_FAILED',
          hooks: {
            postDump: () => {
              throw boom;
            },
          },
        },
      ),
    );
    assert.equal(e.code, 'DUMP_FAILED');
    assert.equal(e.cause, boom);
    assert.match(e.message, /post-dump hook failed: not today/);
    assert.equal(e.details.hook, 'post-dump');
    const replies = readRecord(f.record).slice(1).map((r) => r.notify_success);
    assert.deepEqual(replies, [true, false, true]);
  });

  test('a failure answer: errno name and text, the real log errors (never RLIMIT_NOFILE), the log path', async () => {
    const f = fake('fail');
    const images = mkdtempSync(join(tmpdir(), 'cryo-rpc-images-'));
    dirs.push(images);
    const e = await rejects(criuCall(f, { type: 'DUMP', opts: { pid: 4242 } }, { imagesDir: images, errorCode: 'DUMP_FAILED' }));
    assert.equal(e.code, 'DUMP_FAILED');
    assert.equal(e.exitCode, 1);
    assert.equal(e.message, 'criu dump failed: ESRCH (No such process): Unable to detach from 4242: No such process');
    assert.doesNotMatch(e.message, /RLIMIT/);
    assert.equal(e.details.crErrno, 3);
    assert.match(String(e.details.crErrmsg), /RLIMIT_NOFILE/, 'CRIU\'s own errmsg is kept raw');
    assert.equal(e.details.logPath, join(images, 'dump.log'));
    assert.deepEqual(e.details.logErrors, [
      'Error (compel/src/lib/infect.c:417): Unable to detach from 4242: No such process',
      'Error (criu/cr-dump.c:1975): Dumping FAILED.',
    ]);
    assert.match(String(e.hint), /dump\.log/);
    const req = readRecord(f.record)[0];
    assert.equal(req.opts?.log_file, 'dump.log');
    assert.ok((req.opts?.images_dir_fd ?? -1) >= 0, 'images_dir_fd was passed');
  });

  test('allowFailure resolves with the failure answer', async () => {
    const f = fake('fail');
    const resp = await criuCall(f, { type: 'CHECK' }, { allowFailure: true });
    assert.equal(resp.success, false);
    assert.equal(resp.cr_errno, 3);
  });

  for (const s of ['truncated', 'garbage'] as const) {
    test(`an answer that is ${s} protobuf is an RPC error and CRIU is reaped`, async () => {
      const f = fake(s);
      const conn = openCriu(f);
      const e = await rejects(conn.request({ type: 'VERSION' }));
      assert.equal(e.code, 'RPC');
      assert.match(e.message, /criu sent an invalid answer \(\d+ bytes\)/);
      await conn.close();
      assert.equal(alive(conn.pid), false);
    });
  }

  test('CRIU exiting before it answers: the exit status and its stderr', async () => {
    const f = fake('exit-early');
    const e = await rejects(criuCall(f, { type: 'DUMP', opts: { pid: 1 } }, { errorCode: 'DUMP_FAILED' }));
    assert.equal(e.code, 'DUMP_FAILED');
    assert.match(e.message, /criu exited before answering the DUMP request \(exit status 7\): fake criu: giving up/);
    assert.equal(e.details.exitCode, 7);
  });

  test('an answer of the wrong type is an RPC error', async () => {
    const f = fake('mismatch');
    const e = await rejects(criuCall(f, { type: 'VERSION' }));
    assert.equal(e.code, 'RPC');
    assert.match(e.message, /criu answered CHECK to a VERSION request/);
  });

  test('a timeout kills CRIU by pid and reaps it', async () => {
    const f = fake('hang');
    const conn = openCriu(f);
    const e = await rejects(conn.request({ type: 'DUMP', opts: { pid: 1 } }, { timeoutMs: 300 }));
    assert.match(e.message, /timed out after 300 ms \(criu killed\)/);
    assert.equal(e.details.timedOut, true);
    const exit = await conn.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(alive(conn.pid), false);
  });

  test('a hook that never returns is cut short by the timeout', async () => {
    const f = fake('notify');
    const conn = openCriu(f);
    const e = await rejects(
      conn.request({ type: 'DUMP', opts: { pid: 1 } }, { timeoutMs: 200, hooks: { preDump: () => new Promise<void>(() => {}) } }),
    );
    assert.match(e.message, /timed out after 200 ms/);
    assert.equal((await conn.exited).signal, 'SIGKILL');
  });

  test('CRIU dying between requests: the next request says how it ended', async () => {
    const f = fake('version');
    const conn = openCriu(f);
    await conn.request({ type: 'VERSION', keep_open: true });
    process.kill(conn.pid, 'SIGKILL');
    const e = await rejects(conn.request({ type: 'VERSION' }));
    assert.match(e.message, /killed by SIGKILL|has ended/);
    await conn.close();
  });

  test('an AbortSignal cancels a pending request', async () => {
    const f = fake('hang');
    const ac = new AbortController();
    const conn = openCriu(f);
    const p = conn.request({ type: 'RESTORE' }, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 100);
    const e = await rejects(p);
    assert.match(e.message, /cancelled/);
    assert.equal((e.cause as Error).message, 'user gave up');
    assert.equal((await conn.exited).signal, 'SIGKILL');
  });

  test('a pre-dump session: PRE_DUMPs then the DUMP on one CRIU', async () => {
    const f = fake('pre-dump');
    const s = openDumpSession(f);
    await s.preDump({ pid: 7 });
    await s.preDump({ pid: 7, parent_img: '../1' });
    const r = await s.dump({ pid: 7, parent_img: '../2' });
    assert.equal(r.type, 'DUMP');
    assert.equal(alive(s.connection.pid), false);
    assert.deepEqual(
      readRecord(f.record).map((q) => [q.type, q.opts?.parent_img]),
      [
        ['PRE_DUMP', undefined],
        ['PRE_DUMP', '../1'],
        ['DUMP', '../2'],
      ],
    );
  });

  test('FEATURE_CHECK asks for the named features; absent answers are false', async () => {
    const f = fake('version');
    const got = await checkCriuFeatures(f, { memTrack: true, lazyPages: true, pidfdStore: true });
    assert.deepEqual(got, { mem_track: false, lazy_pages: true, pidfd_store: false });
    assert.deepEqual(readRecord(f.record)[0].features, { mem_track: true, lazy_pages: true, pidfd_store: true });
  });

  test('CHECK: ok, or not ok with the reason and a log that is kept', async () => {
    assert.deepEqual(await checkCriu(fake('version')), { ok: true });
    const r = await checkCriu(fake('fail'));
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'ENVIRONMENT');
    assert.match(String(r.error?.message), /^criu check failed: ESRCH \(No such process\): Unable to detach/);
    const logPath = String(r.error?.details.logPath);
    assert.ok(existsSync(logPath), 'the failed check\'s log stays for the user');
    dirs.push(dirname(logPath));
  });

  test('a missing criu binary is NO_CRIU (environment exit code)', async () => {
    const e = await rejects(criuCall({ path: '/nonexistent/criu' }, { type: 'VERSION' }));
    assert.equal(e.code, 'NO_CRIU');
    assert.equal(e.exitCode, 3);
  });
});

describe('request encoding', () => {
  test('unknown criu_opts fields and request types are usage errors', () => {
    assert.throws(() => encodeCriuRequest({ type: 'DUMP', opts: { pidd: 1 } }), /unknown criu_opts field "pidd"/);
    assert.throws(() => encodeCriuRequest({ type: 'DUMPP' as 'DUMP' }), /expected a criu_req_type name, got "DUMPP"/);
  });

  test('errno names come with the C library text, Linux-only names included', () => {
    assert.equal(describeErrno(3), 'ESRCH (No such process)');
    assert.equal(describeErrno(56), 'EBADRQC (Invalid request code)');
  });
});
