// Which files belong to the installed system (docs/portable.md, "The system rule"): a portable dump
// leaves them out, the target is expected to have its own. A path is system when it lies under one
// of SYSTEM_PREFIXES, or when an installed Debian package owns it (a line of /var/lib/dpkg/info/*.list).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Directories whose contents the distribution installs and owns. */
const SYSTEM_PREFIXES = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/boot', '/proc', '/sys', '/nix/store'];
/** Directories Debian packages never ship files in (FHS: users', temporary and runtime data). */
const NEVER_PACKAGED = ['/tmp', '/var/tmp', '/home', '/root', '/run', '/dev/shm', '/srv', '/mnt', '/media'];

const DPKG_INFO = '/var/lib/dpkg/info';

/** True when `path` is `prefix` or lies under it. */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/** The system rule over a batch of paths: dpkg's lists are scanned once, and only for paths the prefixes do not decide. */
export function systemPaths(paths: Iterable<string>, dpkgInfo = DPKG_INFO): Set<string> {
  const out = new Set<string>();
  const ask: string[] = [];
  for (const p of paths) {
    if (SYSTEM_PREFIXES.some((x) => isUnder(p, x))) out.add(p);
    else if (!NEVER_PACKAGED.some((x) => isUnder(p, x))) ask.push(p);
  }
  if (!ask.length) return out;
  let names: string[] = [];
  try {
    names = readdirSync(dpkgInfo).filter((n) => n.endsWith('.list'));
  } catch {
    // not a Debian system: the prefixes alone decide
  }
  // a list is one path per line: search each for "\nPATH\n" rather than splitting 30 MB into lines
  const needles = ask.map((p) => ({ p, b: Buffer.from(`\n${p}\n`) }));
  for (const n of names) {
    let text: Buffer;
    try {
      text = Buffer.concat([Buffer.from('\n'), readFileSync(join(dpkgInfo, n)), Buffer.from('\n')]);
    } catch {
      continue; // a list that vanished mid-read: its package is being removed
    }
    for (const { p, b } of needles) if (!out.has(p) && text.includes(b)) out.add(p);
  }
  return out;
}
