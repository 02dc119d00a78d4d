// The option table against real CRIU (root): a DUMP with --leave-running and new options, built by
// toRpcOpts and sent by criuCall, is parsed and honoured (CRIU's log at level 4 names the TCP, remap and
// sysctl switches it took; --ghost-limit changes what can be dumped); a RESTORE takes its options too;
// and CRIU's configuration files reach swrk (the default ones, CRIU_CONFIG_FILE, and config_file).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { criuCall } from '../../src/criu/rpc/index.js';
import { restoreOptionsFromDump, toRpcOpts, type CriuDumpOptions } from '../../src/criu/options.js';
import { run } from '../../src/kernel/run.js';
import { criuFor } from '../helpers/env.js';
import type { CriuBinary } from '../../src/criu/find.js';

function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function kill(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A DUMP of `pid` with leave_running and the table's options; returns the images dir and CRIU's log. */
async function dumpWith(criu: CriuBinary, base: string, name: string, pid: number, opts: CriuDumpOptions, env?: NodeJS.ProcessEnv): Promise<{ dir: string; log: string; error?: Error }> {
  const dir = join(base, name);
  mkdirSync(dir, { mode: 0o700 });
  let error: Error | undefined;
  try {
    await criuCall(criu, { type: 'DUMP', opts: { pid, leave_running: true, ...toRpcOpts('dump', opts, { needsLock: false }) } }, { imagesDir: dir, env: env && { ...process.env, ...env } });
  } catch (e) {
    error = e as Error;
  }
  return { dir, log: readFileSync(join(dir, 'dump.log'), 'utf8'), error };
}

describe('CRIU options over RPC, real CRIU', () => {
  test('DUMP --leave-running with tcpClose, skipInFlight, timeout, forceIrmap, linkRemap, ghostLimit...: parsed, honoured, the tree runs on', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const base = mkdtempSync(join(tmpdir(), 'cryo-opts-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    // a tree holding a deleted 2 MiB file: a ghost file above CRIU's default 1 MiB limit
    const data = join(base, 'data.bin');
    writeFileSync(data, Buffer.alloc(2 * 1024 * 1024, 7), { mode: 0o600 });
    const tree = await run('bash', ['-c', `exec 3<'${data}'; rm -f '${data}'; exec sleep 1000`]);
    t.after(() => kill(tree.rootPid));
    const root = tree.rootPid;
    for (let i = 0; i < 200 && !readFileSync(`/proc/${tree.pid}/cmdline`, 'utf8').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 10));

    const refused = await dumpWith(criu, base, 'default-limit', root, {});
    assert.ok(refused.error, 'the 2 MiB ghost file is refused under the default --ghost-limit');
    assert.match(refused.log, /Can't dump ghost file .* of 2097152 size, increase limit/);
    assert.ok(isLive(tree.pid), 'CRIU resumed the tree');

    const opts: CriuDumpOptions = {
      tcpClose: true, skipInFlight: true, timeout: 20, forceIrmap: true, linkRemap: true, ghostLimit: '4M', evasiveDevices: true,
      irmapScanPath: ['/tmp'], cpuCap: 'fpu', displayStats: true, logLevel: 4,
    };
    const ok = await dumpWith(criu, base, 'with-options', root, opts);
    assert.equal(ok.error, undefined, `the dump succeeds: ${ok.error?.message}`);
    assert.match(ok.log, /Will skip in-flight TCP connections/);
    assert.match(ok.log, /Will drop all TCP connections on restore/);
    assert.match(ok.log, /Will allow link remaps on FS/);
    assert.doesNotMatch(ok.log, /Will dump\/restore TCP connections/, 'tcp_established was not sent');
    assert.ok(readdirSync(ok.dir).some((n) => /^ghost-file-/.test(n)), `the ghost file is in the images: ${readdirSync(ok.dir).join(' ')}`);
    assert.ok(isLive(tree.pid) && isLive(root), '--leave-running: the tree runs on');

    // a RESTORE with its own options: into a fresh PID namespace (the tree's root is its init), so the running original does not collide
    const rst = toRpcOpts('restore', { weakSysctls: true, tcpClose: true, skipFileRwxCheck: true, cpuCap: 'fpu', logLevel: 4 }, { needsLock: false });
    const resp = await criuCall(criu, { type: 'RESTORE', opts: rst }, { imagesDir: ok.dir });
    const restored = Number(resp.restore?.pid);
    t.after(() => kill(restored));
    assert.ok(restored > 0 && restored !== root, `restored as ${restored}`);
    const rlog = readFileSync(join(ok.dir, 'restore.log'), 'utf8');
    assert.match(rlog, /Will skip non-existent sysctls on restore/);
    assert.match(rlog, /Will drop all TCP connections on restore/);
    assert.ok(isLive(restored), 'the restored tree runs');
    kill(restored);
    kill(root);
  });

  test("CRIU's configuration files reach swrk: $HOME/.criu/default.conf and CRIU_CONFIG_FILE under the RPC options, config_file over them", async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const base = mkdtempSync(join(tmpdir(), 'cryo-conf-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const tree = await run('sleep', ['1000']);
    t.after(() => kill(tree.rootPid));
    const root = tree.rootPid;
    const home = join(base, 'home');
    mkdirSync(join(home, '.criu'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.criu', 'default.conf'), 'link-remap\nweak-sysctls\n', { mode: 0o600 });
    writeFileSync(join(base, 'env.conf'), 'skip-in-flight\n', { mode: 0o600 });
    writeFileSync(join(base, 'rpc.conf'), '# cryo test\ntcp-close\nno-link-remap\n', { mode: 0o600 });

    const plain = await dumpWith(criu, base, 'plain', root, {}, { HOME: join(base, 'nohome') });
    assert.equal(plain.error, undefined);
    assert.doesNotMatch(plain.log, /Will allow link remaps|Will skip non-existent sysctls|Parsing config file/);

    const user = await dumpWith(criu, base, 'user', root, {}, { HOME: home });
    assert.match(user.log, /Parsing config file .*\.criu\/default\.conf/, 'swrk reads the user default config');
    assert.match(user.log, /Will allow link remaps on FS/);
    assert.match(user.log, /Will skip non-existent sysctls on restore/);

    const overridden = await dumpWith(criu, base, 'overridden', root, { linkRemap: false }, { HOME: home });
    assert.doesNotMatch(overridden.log, /Will allow link remaps on FS/, 'an RPC field overrides the default config');
    assert.match(overridden.log, /Will skip non-existent sysctls on restore/, 'what RPC leaves unset stays as configured');

    const env = await dumpWith(criu, base, 'env', root, {}, { HOME: join(base, 'nohome'), CRIU_CONFIG_FILE: join(base, 'env.conf') });
    assert.match(env.log, /Will skip in-flight TCP connections/, 'swrk reads CRIU_CONFIG_FILE');

    const cfg = await dumpWith(criu, base, 'config', root, { config: join(base, 'rpc.conf'), linkRemap: true }, { HOME: join(base, 'nohome') });
    assert.equal(cfg.error, undefined);
    assert.match(cfg.log, /Would overwrite RPC settings with values from .*rpc\.conf/);
    assert.match(cfg.log, /Will drop all TCP connections on restore/, 'config_file is read');
    assert.doesNotMatch(cfg.log, /Will allow link remaps on FS/, 'config_file overrides the RPC fields');

    // criu --no-default-config swrk 3 (through a wrapper: criuCall starts `<path> swrk 3`) shuts the default files out
    const wrapper = join(base, 'criu-ndc');
    writeFileSync(wrapper, `#!/bin/sh\nexec '${criu.path}' --no-default-config "$@"\n`, { mode: 0o700 });
    const ndc = await dumpWith({ ...criu, path: wrapper }, base, 'no-default-config', root, {}, { HOME: home });
    assert.equal(ndc.error, undefined);
    assert.doesNotMatch(ndc.log, /Parsing config file|Will allow link remaps on FS/, '--no-default-config: the user file is not read');
    assert.ok(isLive(tree.pid));
    kill(root);
  });

  test('a dump with --external unix[INO] restores with what restoreOptionsFromDump records (--ext-unix-sk), not with the external repeated', async (t) => {
    const criu = criuFor(t);
    if (!criu) return;
    const base = mkdtempSync(join(tmpdir(), 'cryo-ext-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    // the peer outside the tree: a unix server in this process
    const path = join(base, 'peer.sock');
    const peers: Socket[] = [];
    const server = createServer((c) => peers.push(c.on('error', () => {})));
    await new Promise<void>((r) => server.listen(path, r));
    t.after(() => {
      peers.forEach((c) => c.destroy());
      server.close();
    });
    const tree = await run(process.execPath, ['-e', `require('net').connect(${JSON.stringify(path)}).on('error', () => {}); setInterval(() => {}, 1000)`]);
    t.after(() => kill(tree.rootPid));
    const socketInode = (): number | undefined => {
      try {
        for (const fd of readdirSync(`/proc/${tree.pid}/fd`)) {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${tree.pid}/fd/${fd}`));
          if (m) return Number(m[1]);
        }
      } catch {
        // not yet
      }
      return undefined;
    };
    for (let i = 0; i < 500 && (peers.length === 0 || socketInode() === undefined); i++) await new Promise((r) => setTimeout(r, 10));
    const ino = socketInode();
    assert.ok(ino && peers.length === 1, 'the tree is connected to the peer');

    const dumpOpts: CriuDumpOptions = { external: [`unix[${ino}]`] };
    const dumped = await dumpWith(criu, base, 'ckpt', tree.rootPid, dumpOpts);
    assert.equal(dumped.error, undefined, `the dump succeeds: ${dumped.error?.message}`);

    await assert.rejects(
      criuCall(criu, { type: 'RESTORE', opts: toRpcOpts('restore', dumpOpts, { needsLock: false }) }, { imagesDir: dumped.dir }),
      'the external repeated raw does not restore the socket',
    );
    assert.match(readFileSync(join(dumped.dir, 'restore.log'), 'utf8'), /External socket found in image\. Consider using the --ext-unix-sk option/);

    const recorded = restoreOptionsFromDump(dumpOpts);
    assert.deepEqual(recorded, { extUnixSk: true });
    const resp = await criuCall(criu, { type: 'RESTORE', opts: toRpcOpts('restore', recorded, { needsLock: false }) }, { imagesDir: dumped.dir });
    const restored = Number(resp.restore?.pid);
    t.after(() => kill(restored));
    assert.ok(restored > 0 && isLive(restored), 'restored with --ext-unix-sk');
    kill(restored);
    kill(tree.rootPid);
  });
});
