// Provision CRIU (and optionally crit) from Debian's packages into a private per-user prefix.
//
// The machine's own Debian source is reused with a newer suite through a private apt state
// (lists, cache, sources file, empty dpkg status), so nothing of the system is touched and no
// host name is written anywhere: the URIs are read from the machine's configuration. The
// dependency closure is resolved by apt itself, downloaded, unpacked with dpkg-deb, and the
// binary is started through the prefix's own dynamic loader, so the system's libc is never
// replaced.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { cacheDir, compareVersions, criuCheck, criuVersion, VERSION_FILE } from './find.js';

/** Suites tried in order for a CRIU new enough for this kernel. */
const DEFAULT_SUITES = ['testing', 'unstable'];
/** CRIU older than this cannot dump inet sockets on kernel 6.16+ (see DESIGN.md). */
const MIN_CRIU_VERSION = '4.2';

export interface AptSource {
  uri: string;
  signedBy?: string;
}

export interface ProvisionOptions {
  /** where provisioned builds live (default: $XDG_CACHE_HOME/cryo) */
  dir?: string;
  /** suites to try, in order (default: testing, unstable) */
  suites?: string[];
  /** also provision crit (python3-pycriu) for image comparison; installs Debian's python3-protobuf */
  crit?: boolean;
  /** progress lines */
  log?: (line: string) => void;
}

export interface ProvisionResult {
  criu: string;
  version: string;
  crit?: string;
  /** false when an earlier provisioned build was reused (no network touched) */
  downloaded: boolean;
}

/** Parses the machine's apt sources (deb822 .sources and one-line .list) for Debian archive URIs. */
export function readDebianSources(etc = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const files: string[] = [];
  if (existsSync(join(etc, 'sources.list'))) files.push(join(etc, 'sources.list'));
  const dir = join(etc, 'sources.list.d');
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) files.push(join(dir, f));
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (file.endsWith('.sources')) out.push(...parseDeb822(text));
    else if (file.endsWith('.list')) out.push(...parseOneLine(text));
  }
  // only the main Debian archive carries testing/unstable; the security archive does not
  const seen = new Set<string>();
  return out.filter((s) => {
    if (/security/.test(s.uri) || seen.has(s.uri)) return false;
    seen.add(s.uri);
    return true;
  });
}

function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    if (fields.get('enabled') === 'no') continue;
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    if (!isDebianSuiteList(fields.get('suites') ?? '')) continue;
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
      out.push({ uri, signedBy: fields.get('signed-by') });
    }
  }
  return out;
}

function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (!m || !isDebianSuiteList(m[3])) continue;
    const signed = /signed-by=(\S+)/.exec(m[1] ?? '');
    out.push({ uri: m[2], signedBy: signed?.[1] });
  }
  return out;
}

const DEBIAN_CODENAMES = /^(bookworm|trixie|forky|duke|bullseye|buster|sid|stable|testing|unstable|oldstable)(-updates|-backports|-security)?$/;

function isDebianSuiteList(suites: string): boolean {
  return suites.split(/\s+/).some((s) => DEBIAN_CODENAMES.test(s));
}

/** A private apt: its own lists, cache and sources; an empty dpkg status so the closure is complete. */
class PrivateApt {
  readonly opts: string[];
  constructor(readonly state: string, sources: AptSource[], suite: string) {
    mkdirSync(join(state, 'lists', 'partial'), { recursive: true });
    mkdirSync(join(state, 'cache', 'archives', 'partial'), { recursive: true });
    const list = sources
      .map((s) => `deb ${s.signedBy ? `[signed-by=${s.signedBy}] ` : ''}${s.uri} ${suite} main\n`)
      .join('');
    writeFileSync(join(state, 'sources.list'), list);
    writeFileSync(join(state, 'status'), '');
    this.opts = [
      '-o', `Dir::State::Lists=${join(state, 'lists')}`,
      '-o', `Dir::Etc::sourcelist=${join(state, 'sources.list')}`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', `Dir::Cache=${join(state, 'cache')}`,
      '-o', `Dir::State::status=${join(state, 'status')}`,
      '-o', 'APT::Get::List-Cleanup=0',
      '-o', 'APT::Sandbox::User=root',
      '-o', 'Debug::NoLocking=1',
      '-o', 'Acquire::Retries=3',
    ];
  }

  run(tool: string, args: string[], cwd?: string): SpawnSyncReturns<string> {
    return spawnSync(tool, [...this.opts, ...args], { encoding: 'utf8', cwd, maxBuffer: 64 << 20, timeout: 600_000 });
  }

  update(): void {
    const r = this.run('apt-get', ['-q', 'update']);
    if (r.status !== 0) throw envError('apt-get update failed for the private package lists', r);
  }

  candidate(pkg: string): string | undefined {
    const r = this.run('apt-cache', ['policy', pkg]);
    const m = /Candidate:\s*(\S+)/.exec(r.stdout ?? '');
    return m && m[1] !== '(none)' ? m[1] : undefined;
  }

  /** Every package the given ones need at run time, found by apt rather than a hand list. */
  closure(pkgs: string[]): string[] {
    const r = this.run('apt-cache', [
      'depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks',
      '--no-replaces', '--no-enhances', ...pkgs,
    ]);
    if (r.status !== 0) throw envError(`apt-cache could not resolve the dependencies of ${pkgs.join(', ')}`, r);
    const names = new Set<string>();
    for (const line of r.stdout.split('\n')) {
      if (!line || line.startsWith(' ') || line.startsWith('<')) continue;
      names.add(line.trim());
    }
    return [...names].sort();
  }

  download(pkgs: string[], into: string): void {
    mkdirSync(into, { recursive: true });
    const r = this.run('apt-get', ['-q', 'download', ...pkgs], into);
    if (r.status !== 0) throw envError('apt-get download failed', r);
  }
}

function envError(message: string, r: SpawnSyncReturns<string>): CryoError {
  const tail = `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim().split('\n').filter(Boolean).slice(-1)[0];
  return new CryoError('ENVIRONMENT', tail ? `${message}: ${tail}` : message, {
    hint: 'cryo setup needs root, apt and dpkg-deb, and access to the machine\'s Debian package source',
  });
}

function unpackAll(debDir: string, root: string): void {
  mkdirSync(root, { recursive: true });
  for (const f of readdirSync(debDir).filter((n) => n.endsWith('.deb')).sort()) {
    const r = spawnSync('dpkg-deb', ['-x', join(debDir, f), root], { encoding: 'utf8' });
    if (r.status !== 0) throw envError(`dpkg-deb could not unpack ${f}`, r);
  }
}

/** The launcher: the prefix's own loader and libraries, never the system's libc. */
function writeCriuWrapper(prefix: string): string {
  const lib = join(prefix, 'root/usr/lib/x86_64-linux-gnu');
  const bin = join(prefix, 'bin');
  mkdirSync(bin, { recursive: true });
  const path = join(bin, 'criu');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    path,
    `#!/bin/sh\n# criu provisioned by cryo setup: runs with its own loader and libraries\nexec ${q(join(lib, 'ld-linux-x86-64.so.2'))} --library-path ${q(lib)} ${q(join(prefix, 'root/usr/sbin/criu'))} "$@"\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

function writeCritWrapper(prefix: string): string {
  const bin = join(prefix, 'bin');
  mkdirSync(bin, { recursive: true });
  const path = join(bin, 'crit');
  const py = join(prefix, 'root/usr/lib/python3/dist-packages');
  writeFileSync(
    path,
    `#!/bin/sh\n# crit provisioned by cryo setup: the system python3 with Debian's python3-protobuf\nPYTHONPATH='${py}'\${PYTHONPATH:+:\$PYTHONPATH} exec /usr/bin/python3 -m crit "$@"\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

function provisionedDirs(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && !n.endsWith('.tmp'))
    .sort((a, b) => compareVersions(b.slice(prefix.length), a.slice(prefix.length)));
}

/** A provisioned criu that still works, newest first; no network. */
function reuseCriu(dir: string): { path: string; version: string } | undefined {
  for (const name of provisionedDirs(dir, 'criu-')) {
    const path = join(dir, name, 'bin', 'criu');
    const version = existsSync(path) ? criuVersion(path) : undefined;
    if (version && compareVersions(version, MIN_CRIU_VERSION) >= 0) {
      // what findCriu reads instead of running `criu --version` on every command
      writeFileSync(join(dir, name, VERSION_FILE), `${version}\n`);
      return { path, version };
    }
  }
  return undefined;
}

function reuseCrit(dir: string): string | undefined {
  for (const name of provisionedDirs(dir, 'crit-')) {
    const path = join(dir, name, 'bin', 'crit');
    if (existsSync(path) && spawnSync(path, ['--help'], { encoding: 'utf8' }).status === 0) return path;
  }
  return undefined;
}

/**
 * Makes a working CRIU (4.2+) available under the cache dir. A second call touches no network.
 * Throws CryoError ENVIRONMENT when it cannot.
 */
export function provisionCriu(opts: ProvisionOptions = {}): ProvisionResult {
  const dir = opts.dir ?? cacheDir();
  const log = opts.log ?? (() => {});
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof process.getuid === 'function' && process.getuid() !== 0 && (code === 'EACCES' || code === 'EPERM')) {
      throw new CryoError('NOT_ROOT', 'cryo setup needs root (it provisions CRIU, which runs only as root)', { hint: 'run `sudo cryo setup`', cause: e });
    }
    throw new CryoError('ENVIRONMENT', `cannot create the cache directory ${dir}: ${code ?? (e as Error).message}`, { hint: 'set XDG_CACHE_HOME to a writable directory', cause: e });
  }
  let criu = reuseCriu(dir);
  let crit = opts.crit ? reuseCrit(dir) : undefined;
  const needCrit = opts.crit && !crit;
  if (criu && !needCrit) return { criu: criu.path, version: criu.version, crit, downloaded: false };

  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CryoError('NOT_ROOT', 'provisioning CRIU needs root (apt-get download and CRIU itself need it)', {
      hint: 'run `sudo cryo setup`',
    });
  }
  const sources = readDebianSources();
  if (!sources.length) {
    throw new CryoError('ENVIRONMENT', 'no Debian package source is configured on this machine', {
      hint: 'cryo setup reads the Debian archive URIs from /etc/apt/sources.list(.d); or install CRIU 4.2+ yourself and pass --criu',
    });
  }

  const state = join(dir, 'apt-state');
  let lastError: unknown;
  for (const suite of opts.suites ?? DEFAULT_SUITES) {
    const apt = new PrivateApt(join(state, suite), sources, suite);
    log(`reading the ${suite} package lists of ${sources.map((s) => s.uri).join(', ')}`);
    try {
      apt.update();
    } catch (e) {
      lastError = e;
      continue;
    }
    const candidate = apt.candidate('criu');
    if (!candidate || compareVersions(candidate, MIN_CRIU_VERSION) < 0) {
      log(`${suite} has criu ${candidate ?? 'none'}; need ${MIN_CRIU_VERSION}+`);
      continue;
    }
    if (!criu) {
      const target = join(dir, `criu-${candidate}`);
      const tmp = `${target}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      const pkgs = apt.closure(['criu']);
      log(`downloading criu ${candidate} and its ${pkgs.length - 1} dependencies from ${suite}`);
      apt.download(pkgs, join(tmp, 'debs'));
      unpackAll(join(tmp, 'debs'), join(tmp, 'root'));
      rmSync(join(tmp, 'debs'), { recursive: true, force: true });
      // wrapper paths are absolute: write them for the final location, check before moving
      rmSync(target, { recursive: true, force: true });
      renameSync(tmp, target);
      const path = writeCriuWrapper(target);
      const version = criuVersion(path);
      const check = criuCheck(path);
      if (!version || !check.ok) {
        rmSync(target, { recursive: true, force: true });
        lastError = new CryoError('ENVIRONMENT', `criu ${candidate} from ${suite} does not pass \`criu check\` here`, {
          hint: `CRIU said: ${check.output.split('\n').find((l) => /Error/.test(l)) ?? check.output.split('\n')[0]}`,
        });
        continue;
      }
      log(`criu ${version} passes \`criu check\``);
      writeFileSync(join(target, VERSION_FILE), `${version}\n`);
      criu = { path, version };
    }
    if (needCrit) crit = provisionCrit(apt, dir, log);
    break;
  }
  if (!criu) {
    throw lastError instanceof CryoError
      ? lastError
      : new CryoError('ENVIRONMENT', `no CRIU ${MIN_CRIU_VERSION}+ found in suites ${(opts.suites ?? DEFAULT_SUITES).join(', ')}`, {
          hint: 'install CRIU 4.2 or newer yourself and pass --criu PATH or set CRYO_CRIU',
          cause: lastError,
        });
  }
  return { criu: criu.path, version: criu.version, crit, downloaded: true };
}

function provisionCrit(apt: PrivateApt, dir: string, log: (l: string) => void): string {
  const version = apt.candidate('python3-pycriu');
  if (!version) throw new CryoError('ENVIRONMENT', 'python3-pycriu is not available', { hint: 'crit is optional; skip --crit' });
  // crit runs on the system's python3 with the system's python3-protobuf (a new package, replaces nothing)
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import google.protobuf'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    log('installing Debian\'s python3-protobuf for crit');
    const install = () => spawnSync('apt-get', ['install', '-y', '-q', 'python3-protobuf'], {
      encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 << 20,
    });
    let r = install();
    if (r.status !== 0) {
      // a fresh machine may have no package lists yet
      spawnSync('apt-get', ['-q', 'update'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      r = install();
    }
    if (r.status !== 0) throw envError('apt-get install python3-protobuf failed', r);
  }
  const target = join(dir, `crit-${version}`);
  const tmp = `${target}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  log(`downloading python3-pycriu ${version} (crit)`);
  apt.download(['python3-pycriu'], join(tmp, 'debs'));
  unpackAll(join(tmp, 'debs'), join(tmp, 'root'));
  rmSync(join(tmp, 'debs'), { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  return writeCritWrapper(target);
}
