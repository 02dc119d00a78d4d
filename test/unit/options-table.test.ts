// The option table end to end without root: every CLI option, given on a commander command built by
// addCriuOptions, parsed by criuOptionsFromCli and mapped by toRpcOpts, lands in criu_opts under the
// right field with the right value for each action it applies to, is refused (usage, exit 2) with a bad
// value and on an action it does not apply to, and the request with everything set encodes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { addCriuOptions, cliCriuOptions, criuOptionsFromCli, CRYO_OWN_FLAGS } from '../../src/cli/criu-options.js';
import { CRIU_OPTIONS, detectNetworkLock, parseCpuCap, restoreOptionsFromDump, toRpcOpts, type CriuDumpOptions } from '../../src/criu/options.js';
import { hasProgram } from '../../src/criu/environment.js';
import { decodeCriuRequest, encodeCriuRequest } from '../../src/criu/rpc/codec.js';
import { CryoError } from '../../src/errors.js';

type Action = 'dump' | 'restore';

const confDir = mkdtempSync(join(tmpdir(), 'cryo-conf-'));
after(() => rmSync(confDir, { recursive: true, force: true }));
/** A CRIU configuration file with TEXT, 0600. */
function conf(name: string, text: string): string {
  const p = join(confDir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}
const goodConf = conf('good.conf', '# options RPC lacks\nno-ghost-fiemap\nfile-validation filesize\n\n  log-pid   # per process\n');

/** argv for one option, and the criu_opts fields it must produce (or, for pipeline/cryo options, the library value). */
interface Sample {
  argv: string[];
  rpc?: Record<string, unknown>;
  lib?: unknown;
  /** a bad value: a usage error */
  bad?: string[];
}

const S: Record<string, Sample> = {
  workDir: { argv: ['-W', 'rel/work'], lib: resolve('rel/work'), bad: ['--work-dir', ''] },
  logFile: { argv: ['--log-file', 'my.log'], lib: 'my.log', bad: ['--log-file', 'sub/my.log'] },
  pidfile: { argv: ['--pidfile', 'root.pid'], lib: resolve('root.pid'), bad: ['--pidfile', ''] },
  tcpEstablished: { argv: ['--tcp-established'], rpc: { tcp_established: true } },
  tcpClose: { argv: ['--tcp-close'], rpc: { tcp_close: true } },
  skipInFlight: { argv: ['--skip-in-flight'], rpc: { tcp_skip_in_flight: true } },
  extUnixSk: { argv: ['--ext-unix-sk=12,34'], rpc: { ext_unix_sk: true, unix_sk_ino: [{ inode: 12 }, { inode: 34 }] }, bad: ['--ext-unix-sk=12,abc'] },
  shellJob: { argv: ['-j'], rpc: { shell_job: true } },
  fileLocks: { argv: ['-l'], rpc: { file_locks: true } },
  external: { argv: ['--external', 'unix[5]', '--external', 'tty[136:2]'], rpc: { external: ['unix[5]', 'tty[136:2]'] }, bad: ['--external', ''] },
  manageCgroups: { argv: ['--manage-cgroups=full'], rpc: { manage_cgroups: true, manage_cgroups_mode: 'FULL' }, bad: ['--manage-cgroups=most'] },
  emptyNs: { argv: ['--empty-ns', 'net'], rpc: { empty_ns: 0x40000000 }, bad: ['--empty-ns', 'pid'] },
  networkLock: { argv: ['--network-lock', 'nftables'], rpc: { network_lock: 'NFTABLES' }, bad: ['--network-lock', 'pf'] },
  evasiveDevices: { argv: ['--evasive-devices'], rpc: { evasive_devices: true } },
  linkRemap: { argv: ['--link-remap'], rpc: { link_remap: true } },
  ghostLimit: { argv: ['--ghost-limit', '2M'], rpc: { ghost_limit: 2 * 1024 * 1024 }, bad: ['--ghost-limit', 'lots'] },
  forceIrmap: { argv: ['--force-irmap'], rpc: { force_irmap: true } },
  irmapScanPath: { argv: ['--irmap-scan-path', '/usr', '--irmap-scan-path', '/etc'], rpc: { irmap_scan_paths: ['/usr', '/etc'] }, bad: ['--irmap-scan-path', ''] },
  timeout: { argv: ['--timeout', '30'], rpc: { timeout: 30 }, bad: ['--timeout', 'soon'] },
  freezeCgroup: { argv: ['--freeze-cgroup', '/sys/fs/cgroup/app'], rpc: { freeze_cgroup: '/sys/fs/cgroup/app' }, bad: ['--freeze-cgroup', ''] },
  trackMem: { argv: ['--track-mem'], rpc: { track_mem: true } },
  autoDedup: { argv: ['--auto-dedup'], rpc: { auto_dedup: true } },
  cpuCap: { argv: ['--cpu-cap=^fpu,cpu'], rpc: { cpu_cap: 2 | 4 }, bad: ['--cpu-cap=fast'] },
  extMountMap: { argv: ['-M', '/mnt/data:data', '-M', 'auto'], rpc: { ext_mnt: [{ key: '/mnt/data', val: 'data' }], auto_ext_mnt: true }, bad: ['-M', 'nocolon'] },
  enableExternalSharing: { argv: ['--enable-external-sharing'], rpc: { ext_sharing: true } },
  enableExternalMasters: { argv: ['--enable-external-masters'], rpc: { ext_masters: true } },
  skipMnt: { argv: ['--skip-mnt', '/proc/sys'], rpc: { skip_mnt: ['/proc/sys'] }, bad: ['--skip-mnt', ''] },
  enableFs: { argv: ['--enable-fs', 'nfs,fuse'], rpc: { enable_fs: ['nfs,fuse'] }, bad: ['--enable-fs', ''] },
  cgroupRoot: { argv: ['--cgroup-root', '/new', '--cgroup-root', 'cpu:/x'], rpc: { cg_root: [{ path: '/new' }, { ctrl: 'cpu', path: '/x' }] }, bad: ['--cgroup-root', 'relative'] },
  cgroupProps: { argv: ['--cgroup-props', '"cpu":\n - "strategy": "merge"'], rpc: { cgroup_props: '"cpu":\n - "strategy": "merge"' }, bad: ['--cgroup-props', ''] },
  cgroupPropsFile: { argv: ['--cgroup-props-file', 'props.yml'], rpc: { cgroup_props_file: resolve('props.yml') }, bad: ['--cgroup-props-file', ''] },
  cgroupDumpController: { argv: ['--cgroup-dump-controller', 'cpu', '--cgroup-dump-controller', 'memory'], rpc: { cgroup_dump_controller: ['cpu', 'memory'] }, bad: ['--cgroup-dump-controller', ''] },
  cgroupYard: { argv: ['--cgroup-yard', '/run/yard'], rpc: { cgroup_yard: '/run/yard' }, bad: ['--cgroup-yard', ''] },
  root: { argv: ['-r', '/srv/root'], rpc: { root: '/srv/root' }, bad: ['--root', ''] },
  inheritFd: { argv: ['--inherit-fd', 'fd[3]:pipe:[12345]', '--inherit-fd', 'fd[7]:tty[88:1]'], rpc: { inherit_fd: [{ key: 'pipe:[12345]', fd: 3 }, { key: 'tty[88:1]', fd: 7 }] }, bad: ['--inherit-fd', 'fd3:pipe'] },
  joinNs: { argv: ['-J', 'net:/run/netns/blue', '--join-ns', 'user:1234,0,0'], rpc: { join_ns: [{ ns: 'net', ns_file: '/run/netns/blue' }, { ns: 'user', ns_file: '1234', extra_opt: '0,0' }] }, bad: ['--join-ns', 'pid:1'] },
  vethPair: { argv: ['--veth-pair', 'eth0=veth-app'], rpc: { veths: [{ if_in: 'eth0', if_out: 'veth-app' }] }, bad: ['--veth-pair', 'eth0'] },
  weakSysctls: { argv: ['--weak-sysctls'], rpc: { weak_sysctls: true } },
  lsmProfile: { argv: ['--lsm-profile', 'apparmor:unconfined'], rpc: { lsm_profile: 'apparmor:unconfined' }, bad: ['--lsm-profile', 'unconfined'] },
  lsmMountContext: { argv: ['--lsm-mount-context', 'system_u:object_r:container_file_t:s0'], rpc: { lsm_mount_context: 'system_u:object_r:container_file_t:s0' }, bad: ['--lsm-mount-context', ''] },
  mntnsCompatMode: { argv: ['--mntns-compat-mode'], rpc: { mntns_compat_mode: true } },
  skipFileRwxCheck: { argv: ['--skip-file-rwx-check'], rpc: { skip_file_rwx_check: true } },
  unprivileged: { argv: ['--unprivileged'], rpc: { unprivileged: true } },
  displayStats: { argv: ['--display-stats'], rpc: { display_stats: true } },
  config: { argv: ['--config', goodConf], rpc: { config_file: goodConf }, bad: ['--config', join(confDir, 'missing.conf')] },
};

/** A command as the lead builds it: cryo's own flags first, then the table's. */
function command(action: Action): Command {
  const cmd = new Command(action).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  if (action === 'dump') cmd.argument('<pid>').option('-o, --output <file>').option('-R, --leave-running').option('--leave-stopped').option('--force');
  else cmd.option('-i, --input <file>').option('--pid-wait <ms>');
  cmd.option('-D, --images-dir <dir>').option('-v, --log-level <n>').option('--json');
  return addCriuOptions(cmd, action);
}

function parse(action: Action, argv: string[]): Record<string, unknown> {
  const cmd = command(action);
  cmd.parse(action === 'dump' ? ['42', ...argv] : argv, { from: 'user' });
  return cmd.opts();
}

function usage(fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CryoError, `${what}: a CryoError, got ${String(e)}`);
    assert.equal(e.code, 'USAGE', what);
    assert.equal(e.exitCode, 2, what);
    assert.ok(e.hint, `${what}: a hint`);
    assert.match(e.message, /expected|applies to|no RPC field|too large/, what);
    return true;
  });
}

test('the table: unique camelCase names of CRIU flags, every criu_opts field of rpc.proto, no clash with cryo flags', () => {
  const camel = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const names = new Set<string>();
  const flags = new Set<string>();
  for (const s of CRIU_OPTIONS) {
    assert.ok(!names.has(s.name), `${s.name} once`);
    names.add(s.name);
    if (s.flag) {
      assert.ok(!flags.has(s.flag), `${s.flag} once`);
      flags.add(s.flag);
      if (s.name !== 'logLevel') assert.equal(s.name, camel(s.flag), `${s.flag}: library name is its camelCase`);
    }
    if (s.short) assert.ok(!CRYO_OWN_FLAGS.includes(s.short), `${s.short} is not one of cryo's`);
    if (s.flag && s.cli) assert.ok(!CRYO_OWN_FLAGS.includes(s.flag), `${s.flag} is not one of cryo's`);
    assert.ok(s.help && s.default, `${s.name}: help and default`);
    if (s.help.startsWith('dump: ')) assert.equal(s.help.split('; restore: ').length, 2, `${s.name}: help splits once into its dump and restore halves`);
    assert.ok(s.handledBy === 'config' ? !s.field : s.handledBy === 'cryo' || Boolean(s.field), `${s.name}: a field unless RPC lacks it`);
    if (s.repeatOnRestore) assert.ok(s.actions.includes('dump') && s.actions.includes('restore'), `${s.name} repeats: it applies to both`);
  }
  const proto = readFileSync(new URL('../../../proto/rpc/rpc.proto', import.meta.url), 'utf8');
  const body = /message criu_opts \{([^}]*)\}/.exec(proto)![1];
  const fields = [...body.matchAll(/^\s*(?:optional|required|repeated)\s+\S+\s+(\w+)\s*=/gm)].map((m) => m[1]);
  assert.ok(fields.length > 60, 'criu_opts read');
  // fields an entry fills besides its own
  const covered = new Set([...CRIU_OPTIONS.map((s) => s.field), 'images_dir', 'manage_cgroups_mode', 'unix_sk_ino', 'auto_ext_mnt']);
  assert.deepEqual(fields.filter((f) => !covered.has(f)), [], 'every criu_opts field has an entry');
  assert.deepEqual(CRIU_OPTIONS.filter((s) => s.field && !fields.includes(s.field)).map((s) => s.field), [], 'every entry names a real field');
  for (const [name, s] of [['tcpEstablished', true], ['extUnixSk', true], ['shellJob', true], ['fileLocks', true], ['external', true], ['manageCgroups', true], ['tcpClose', undefined], ['ghostLimit', undefined]] as const) {
    assert.equal(CRIU_OPTIONS.find((o) => o.name === name)?.repeatOnRestore, s, `${name} repeatOnRestore`);
  }
});

test('every CLI option has a sample here (a new table entry needs a test)', () => {
  const offered = new Set([...cliCriuOptions('dump'), ...cliCriuOptions('restore')].map((s) => s.name));
  assert.deepEqual([...offered].filter((n) => !S[n]), []);
  assert.deepEqual(Object.keys(S).filter((n) => !offered.has(n)), []);
});

for (const action of ['dump', 'restore'] as const) {
  test(`${action}: every option lands in criu_opts with CRIU's field and value`, () => {
    for (const spec of cliCriuOptions(action)) {
      const sample = S[spec.name];
      const opts = criuOptionsFromCli(parse(action, sample.argv), action);
      const rpc = toRpcOpts(action, opts, { needsLock: false });
      if (sample.rpc) {
        for (const [field, value] of Object.entries(sample.rpc)) assert.deepEqual(rpc[field], value, `${action} ${sample.argv.join(' ')} -> ${field}`);
        // a dump of TCP connections locks the network: with the one detected backend
        if (action === 'dump' && spec.name === 'tcpEstablished') assert.equal(rpc.network_lock, detectNetworkLock().toUpperCase());
        const extra = Object.keys(rpc).filter((k) => k !== 'log_level' && !(k in sample.rpc!) && !(k === 'network_lock' && spec.name === 'tcpEstablished'));
        assert.deepEqual(extra, [], `${action} ${spec.flag}: nothing else set`);
      } else {
        assert.deepEqual((opts as Record<string, unknown>)[spec.name], sample.lib, `${action} ${spec.flag}: the pipeline's value`);
        assert.deepEqual(Object.keys(rpc), ['log_level'], `${action} ${spec.flag}: not passed raw`);
      }
    }
  });

  test(`${action}: a bad value is a usage error (exit 2) naming the flag`, () => {
    for (const spec of cliCriuOptions(action)) {
      const sample = S[spec.name];
      if (sample.bad) {
        usage(() => criuOptionsFromCli(parse(action, sample.bad!), action), `${action} ${sample.bad.join(' ')}`);
      } else {
        // switches: the library refuses anything but a boolean
        usage(() => toRpcOpts(action, { [spec.name]: 'yes' }, { needsLock: false }), `${action} ${spec.name}: 'yes'`);
      }
    }
  });

  test(`${action}: options of the other action only are refused (commander: unknown; library: usage)`, () => {
    const other = cliCriuOptions(action === 'dump' ? 'restore' : 'dump').filter((s) => !s.actions.includes(action));
    assert.ok(other.length > 3);
    for (const spec of other) {
      assert.throws(() => parse(action, S[spec.name].argv), (e: unknown) => e instanceof CommanderError && e.code === 'commander.unknownOption', `${action} ${spec.flag}`);
      const lib = criuOptionsFromCli(parse(action === 'dump' ? 'restore' : 'dump', S[spec.name].argv), action === 'dump' ? 'restore' : 'dump');
      usage(() => toRpcOpts(action, lib, { needsLock: false }), `${action} given ${spec.name}`);
    }
  });
}

test('defaults: log level 4, switches absent, a lock backend only where one is needed (and never on restore)', () => {
  assert.deepEqual(toRpcOpts('dump', {}, { needsLock: false }), { log_level: 4 });
  assert.deepEqual(toRpcOpts('restore', {}, { needsLock: true }), { log_level: 4 }, 'CRIU restores with the method the dump recorded');
  const lock = detectNetworkLock().toUpperCase();
  assert.equal(toRpcOpts('dump', {}, { needsLock: true }).network_lock, lock);
  assert.equal(toRpcOpts('dump', { tcpEstablished: true }, { needsLock: false }).network_lock, lock);
  assert.equal(toRpcOpts('dump', { networkLock: 'skip', tcpEstablished: true }, { needsLock: true }).network_lock, 'SKIP');
  assert.equal(toRpcOpts('dump', { logLevel: 1 }, { needsLock: false }).log_level, 1);
  usage(() => toRpcOpts('dump', { logLevel: 9 }, { needsLock: false }), 'log level 9');
  // an explicit false is sent: it overrides CRIU's default configuration files
  assert.equal(toRpcOpts('restore', { shellJob: false }, { needsLock: false }).shell_job, false);
  assert.equal(toRpcOpts('dump', { manageCgroups: true }, { needsLock: false }).manage_cgroups_mode, undefined);
  // keys that are not table options belong to the caller
  assert.deepEqual(toRpcOpts('dump', { force: true, hooks: {} } as CriuDumpOptions, { needsLock: false }), { log_level: 4 });
  usage(() => toRpcOpts('dump', { ghostLimit: 2 ** 32 }, { needsLock: false }), 'ghost limit too large');
  usage(() => toRpcOpts('dump', { timeout: -1 }, { needsLock: false }), 'negative timeout');
  usage(() => toRpcOpts('dump', { external: 'unix[1]' as unknown as string[] }, { needsLock: false }), 'a string for a list');
  usage(() => toRpcOpts('dump', { ghostFiemap: false } as CriuDumpOptions, { needsLock: false }), 'no RPC field');
});

test('--config: the file must be readable and must not set what the pipeline owns (getopt prefixes too)', () => {
  assert.equal(toRpcOpts('dump', { config: goodConf }, { needsLock: false }).config_file, goodConf);
  for (const [name, text] of [['tree', 'tree 1\n'], ['prefix', '# x\ntre=1\n'], ['running', 'leave-running\n'], ['log', 'tcp-close\n  log-file other.log\n'], ['work', '--work-dir /tmp\n']]) {
    const p = conf(`${name}.conf`, text);
    assert.throws(() => toRpcOpts('dump', { config: p }, { needsLock: false }), (e: unknown) => e instanceof CryoError && e.exitCode === 2 && /which cryo's pipeline owns/.test(e.message) && Boolean(e.hint), name);
  }
  usage(() => toRpcOpts('restore', { config: join(confDir, 'nope.conf') }, { needsLock: false }), 'missing config');
});

test('one network-lock detection: iptables where iptables-restore exists, else nftables, skip without nftables', () => {
  const ipt = hasProgram('iptables-restore');
  assert.equal(detectNetworkLock(), ipt ? 'iptables' : 'nftables');
  assert.equal(detectNetworkLock(true), ipt ? 'iptables' : 'nftables');
  assert.equal(detectNetworkLock(false), ipt ? 'iptables' : 'skip');
});

test('CLI specifics: optional values, --no-X on restore, paths made absolute, cryo flags left alone', () => {
  assert.deepEqual(toRpcOpts('dump', criuOptionsFromCli(parse('dump', ['-x', '--manage-cgroups', '--cpu-cap']), 'dump'), { needsLock: false }), {
    log_level: 4,
    ext_unix_sk: true,
    manage_cgroups: true,
    cpu_cap: 7,
  });
  const r = criuOptionsFromCli(parse('restore', ['--no-shell-job', '--no-tcp-established', '--no-ext-unix-sk', '-v', '2']), 'restore');
  assert.deepEqual(r, { shellJob: false, tcpEstablished: false, extUnixSk: false, logLevel: 2 });
  assert.equal(toRpcOpts('restore', r, { needsLock: false }).ext_unix_sk, false);
  // the lead's own flags still parse as theirs
  const d = parse('dump', ['-D', 'ckpt', '-o', 'a.ckpt', '-R', '--json', '--force', '--log-file', 'x.log']);
  assert.equal(d.imagesDir, 'ckpt');
  assert.equal(d.output, 'a.ckpt');
  assert.equal(d.logFile, 'x.log');
  // a flag the command already defines stays the command's
  const cmd = new Command('dump').option('--tcp-established', 'mine');
  addCriuOptions(cmd, 'dump');
  assert.equal(cmd.options.filter((o) => o.long === '--tcp-established').length, 1);
  assert.match(command('dump').helpInformation(), /--log-file <name>\s+name of CRIU's log file[^]*default:\s+dump\.log/);
  assert.doesNotMatch(command('dump').helpInformation(), /-o, --log-file/);
  assert.match(command('restore').helpInformation(), /--tcp-established[^]*default:\s+as\s+dumped/);
});

test('cpu caps follow CRIU: default fpu,ins; ^ inverts; none; all', () => {
  assert.equal(parseCpuCap(true), 7);
  assert.equal(parseCpuCap('none'), 0);
  assert.equal(parseCpuCap('^none'), 7);
  assert.equal(parseCpuCap('cpu'), 7);
  assert.equal(parseCpuCap('^ins'), 1);
  assert.equal(parseCpuCap('^fpu,^ins'), 0);
});

test('restoreOptionsFromDump records exactly the repeat-on-restore options, as given', () => {
  const dump: CriuDumpOptions = {
    tcpEstablished: true, extUnixSk: [12], shellJob: true, fileLocks: false, external: ['unix[5]'], manageCgroups: 'full', emptyNs: 'net',
    tcpClose: true, ghostLimit: '4M', timeout: 3, linkRemap: true,
  };
  assert.deepEqual(restoreOptionsFromDump(dump), { tcpEstablished: true, extUnixSk: true, shellJob: true, manageCgroups: 'full', emptyNs: 'net' });
  // externals as the restore needs them: unix sockets by --ext-unix-sk, auto mounts by mnt[], named ones by the user's own mapping
  assert.deepEqual(restoreOptionsFromDump({ external: ['unix[5]', 'mnt[]:ms', 'mnt[/data]:data', 'dev[8/1]:disk', 'tty[136:2]'] }), { extUnixSk: true, external: ['mnt[]'] });
  assert.deepEqual(restoreOptionsFromDump({ external: ['mnt[/data]:data'] }), {});
  assert.deepEqual(restoreOptionsFromDump({}), {});
  // what it records is valid restore input
  assert.doesNotThrow(() => toRpcOpts('restore', restoreOptionsFromDump(dump), { needsLock: false }));
});

test('requests with every option set encode and decode to the same criu_opts', () => {
  for (const action of ['dump', 'restore'] as const) {
    const argv = cliCriuOptions(action).flatMap((s) => S[s.name].argv).filter((a, i, all) => !(a === '--tcp-close' && all.indexOf(a) !== i));
    const opts = toRpcOpts(action, criuOptionsFromCli(parse(action, argv), action), { needsLock: true });
    const req = { type: action === 'dump' ? ('DUMP' as const) : ('RESTORE' as const), opts: { ...opts, images_dir_fd: 5, ...(action === 'dump' ? { pid: 42 } : {}) } };
    const back = decodeCriuRequest(encodeCriuRequest(req));
    assert.deepEqual(back.opts, req.opts, `${action}: every field survives the wire`);
    assert.ok(Object.keys(opts).length > (action === 'dump' ? 35 : 30), `${action}: ${Object.keys(opts).length} fields set`);
  }
});

/** The table in docs/criu-options.md, as CRIU_OPTIONS gives it. */
function docTable(): string {
  const kindText: Record<string, string> = { bool: 'bool', uint: 'uint32', size: 'size K/M/G → uint32', logLevel: 'int 0-4', string: 'string', path: 'path (made absolute) → string', strings: 'repeated string', networkLock: 'enum iptables/nftables/skip', manageCgroups: 'bool + enum mode', preDumpMode: 'enum splice/read → SPLICE/VM_READ', cpuCap: 'caps list → uint32 bits', emptyNs: 'net → CLONE_NEWNET bits', extUnixSk: 'bool [+ unix_sk_ino{inode}]', inheritFd: '`fd[N]:RES` → {key, fd}', extMountMap: '`KEY:VAL` → {key, val}; `auto` → auto_ext_mnt', cgroupRoot: '`[CTRL:]PATH` → {ctrl, path}', joinNs: '`NS:PATH[,EXTRA]` → {ns, ns_file, extra_opt}', vethPair: '`IN=OUT` → {if_in, if_out}' };
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = CRIU_OPTIONS.map((s) =>
    [s.flag ? `\`${s.short ? `${s.short}, ` : ''}${s.flag}\`` : '—', `\`${s.name}\``, s.field ? `\`${s.field}\`` : '—', kindText[s.kind], s.actions.join(', '), s.repeatOnRestore ? 'yes' : '', `${s.handledBy}${s.cli ? '' : ' (not on the CLI)'}`, cell(s.default), cell(s.help)].join(' | '),
  );
  return ['| CRIU flag | library | criu_opts field | value | actions | repeat on restore | handled by | default | what |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |', ...rows.map((r) => `| ${r} |`)].join('\n');
}

test('docs/criu-options.md ends with the table as CRIU_OPTIONS gives it', () => {
  const doc = readFileSync(new URL('../../../docs/criu-options.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('| CRIU flag | library |')).trimEnd();
  assert.equal(table, docTable(), 'stale: replace the table at the end of docs/criu-options.md with the expected one');
});
