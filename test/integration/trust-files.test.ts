// Root writing where another user points it: the planted-file cases of issue "Trust", each tried by
// a throwaway unprivileged user the test creates (and deletes), in a shared sticky directory like
// /tmp. Every tree is ended by pid.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { criuFor } from '../helpers/env.js';
import { cli, cliPath, fixturesDir, lines, Trees, waitFor } from '../helpers/trees.js';

interface User { name: string; uid: number }

/** A throwaway system user without a home, deleted after the test. */
function makeUser(t: TestContext): User | undefined {
  const name = `cryotrust${randomBytes(3).toString('hex')}`;
  const r = spawnSync('useradd', ['-M', '-r', '-s', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  if (r.status !== 0) {
    t.skip(`useradd failed: ${r.stderr}`);
    return undefined;
  }
  t.after(() => spawnSync('userdel', [name]));
  return { name, uid: Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim()) };
}

/** Runs a shell command as `user`; throws when it fails. */
function asUser(user: User, sh: string): void {
  const r = spawnSync('runuser', ['-u', user.name, '--', 'sh', '-c', sh], { encoding: 'utf8' });
  assert.equal(r.status, 0, `as ${user.name}: ${sh}: ${r.stderr}`);
}

/** A sticky, world-writable directory (like /tmp) inside the test's dir. */
function sharedDir(trees: Trees): string {
  const d = join(trees.dir(), 'shared');
  mkdirSync(d);
  chmodSync(d, 0o1777);
  chmodSync(join(d, '..'), 0o755);
  return d;
}

async function ticker(trees: Trees): Promise<number> {
  const out = join(trees.dir(), 'out');
  const { pid } = await trees.start('sh', ['-c', 'while :; do echo x >> "$1"; sleep 0.05; done', 'tick', out]);
  await waitFor(() => lines(out).length >= 2, 'ticks');
  return pid;
}

test('trust: symlinks and files another user plants at the archive\'s names are never followed or reused', async (t) => {
  if (!criuFor(t)) return;
  const user = makeUser(t);
  if (!user) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const shared = sharedDir(trees);
  const victim = join(shared, 'victim');
  asUser(user, `echo precious > ${victim}`);
  const archive = join(shared, 'app.ckpt');
  // the old partial name, and a few guesses at the temp name, as symlinks and as a regular file
  asUser(user, `ln -s ${victim} ${archive}.partial; ln -s ${victim} ${shared}/.app.ckpt.cryo-tmp; : > ${shared}/.app.ckpt.cryo-1-000000000000`);
  const d = await cli(['dump', String(await ticker(trees)), '-o', archive]);
  assert.equal(d.status, 0, d.stderr);
  const st = statSync(archive);
  assert.equal(st.uid, 0, 'the archive is root\'s');
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the planted link was not followed');
  assert.ok(lstatSync(`${archive}.partial`).isSymbolicLink(), 'the planted link is left alone');
  assert.ok(existsSync(`${shared}/.app.ckpt.cryo-1-000000000000`), 'another user\'s file is never removed');
  // a symlink planted at the archive's own name: refused, and with --force replaced, not followed
  const target = join(shared, 'other.ckpt');
  asUser(user, `ln -s ${victim} ${target}`);
  const refused = await cli(['dump', String(await ticker(trees)), '-o', target, '--leave-running']);
  assert.equal(refused.status, 1, refused.stderr);
  const forced = await cli(['dump', String(await ticker(trees)), '-o', target, '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.ok(lstatSync(target).isFile() && lstatSync(target).uid === 0);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
});

test('trust: a symlink another user plants at the failed dump\'s log path is never followed', async (t) => {
  if (!criuFor(t)) return;
  const user = makeUser(t);
  if (!user) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const shared = sharedDir(trees);
  const victim = join(shared, 'victim');
  asUser(user, `echo precious > ${victim}`);
  const ckpt = join(shared, 'ckpt');
  asUser(user, `mkdir ${ckpt} && ln -s ${victim} ${ckpt}/dump.log`);
  // a dump CRIU refuses: an established TCP connection
  const out = join(trees.dir(), 'tcp');
  const { pid } = await trees.start(process.execPath, [join(fixturesDir, 'tcp-pair.mjs'), out]);
  await waitFor(() => lines(out).length >= 2, 'the connection to tick');
  const r = await cli(['dump', String(pid), '-D', ckpt]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'CRIU\'s log did not overwrite the link\'s target');
  const log = /log: (\S+)/.exec(r.stderr)?.[1];
  assert.ok(log && existsSync(log), r.stderr);
  assert.ok(!log.startsWith(`${ckpt}/`), 'the log is not put into a directory another user owns');
  assert.equal(lstatSync(log).uid, 0);
});

test('trust: under umask 000 the parents dump -D creates are 0700 and the checkpoint 0700/0600', async (t) => {
  if (!criuFor(t)) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const base = trees.dir();
  const ckpt = join(base, 'a', 'b', 'ckpt');
  const pid = await ticker(trees);
  const r = spawnSync('sh', ['-c', `umask 000; exec "${process.execPath}" "${cliPath}" dump ${pid} -D "${ckpt}"`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const d of [join(base, 'a'), join(base, 'a', 'b'), ckpt]) assert.equal(statSync(d).mode & 0o777, 0o700, d);
  for (const f of readdirSync(ckpt)) assert.equal(statSync(join(ckpt, f)).mode & 0o777, 0o600, `${f} is private`);
});

test('trust: a checkpoint another user could swap (their directory on the path) is refused by restore', async (t) => {
  if (!criuFor(t)) return;
  const user = makeUser(t);
  if (!user) return;
  const trees = new Trees();
  t.after(() => trees.cleanup());
  const shared = sharedDir(trees);
  const theirs = join(shared, 'theirs');
  asUser(user, `mkdir -m 755 ${theirs}`);
  const ckpt = join(theirs, 'ckpt');
  // root dumps into it (it may), but the user can rename the checkpoint away and plant another
  const d = await cli(['dump', String(await ticker(trees)), '-D', ckpt]);
  assert.equal(d.status, 0, d.stderr);
  asUser(user, `mv ${ckpt} ${theirs}/moved && mkdir ${ckpt}`);
  writeFileSync(join(theirs, 'note'), '');
  spawnSync('cp', ['-a', `${theirs}/moved/.`, ckpt]);
  const r = await cli(['restore', '-D', ckpt]);
  assert.equal(r.status, 4, r.stderr);
  assert.match(r.stderr, /refusing the checkpoint .*owned by uid \d+/);
});
