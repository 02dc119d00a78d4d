// Which files belong to the installed system (docs/portable.md, "The system rule"): a portable dump
// leaves them out, the target is expected to have its own. A path is system when it lies under one
// of SYSTEM_PREFIXES, or when an installed Debian package owns it (a line of /var/lib/dpkg/info/*.list).
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
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
  // a list is one path per line: search each for "\nPATH\n" rather than splitting 30 MB into lines;
  // one buffer reused for every list (fresh ones per list cost a 40 ms GC pause while the tree is stopped)
  const needles = ask.map((p) => ({ p, b: Buffer.from(`\n${p}\n`) }));
  let buf: Buffer = Buffer.allocUnsafe(1 << 20);
  for (const n of names) {
    let len: number;
    try {
      [buf, len] = readInto(join(dpkgInfo, n), buf);
    } catch {
      continue; // a list that vanished mid-read: its package is being removed
    }
    const text = buf.subarray(0, len);
    for (const { p, b } of needles) if (!out.has(p) && text.includes(b)) out.add(p);
  }
  return out;
}

/** The file's bytes framed by "\n" on both sides, in `buf` (or a larger one returned); the framed length. */
function readInto(path: string, buf: Buffer): [Buffer, number] {
  const fd = openSync(path, 'r');
  try {
    buf[0] = 0x0a;
    let len = 1;
    for (;;) {
      if (len + 1 >= buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = readSync(fd, buf, len, buf.length - len - 1, null);
      if (n === 0) break;
      len += n;
    }
    buf[len] = 0x0a;
    return [buf, len + 1];
  } finally {
    closeSync(fd);
  }
}
