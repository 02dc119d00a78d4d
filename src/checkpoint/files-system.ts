// Which files belong to the installed system (docs/portable.md, "The system rule"): a portable dump
// leaves them out, the target is expected to have its own. A path is system when it lies under one
// of SYSTEM_PREFIXES, or when an installed Debian package owns it (a line of /var/lib/dpkg/info/*.list).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Directories whose contents the distribution installs and owns. */
const SYSTEM_PREFIXES = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/boot', '/proc', '/sys', '/nix/store'];

const DPKG_INFO = '/var/lib/dpkg/info';

/** True when `path` is `prefix` or lies under it. */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/** The system rule, with the dpkg file lists read once (lazily: only for a path outside the prefixes). */
export class SystemFiles {
  private owned: Set<string> | undefined;

  constructor(private readonly dpkgInfo = DPKG_INFO) {}

  /** Every path the installed Debian packages list (empty when there is no dpkg database). */
  private packageFiles(): Set<string> {
    if (this.owned) return this.owned;
    const owned = new Set<string>();
    let names: string[] = [];
    try {
      names = readdirSync(this.dpkgInfo).filter((n) => n.endsWith('.list'));
    } catch {
      // not a Debian system: the prefixes alone decide
    }
    for (const n of names) {
      try {
        for (const line of readFileSync(join(this.dpkgInfo, n), 'utf8').split('\n')) if (line.startsWith('/')) owned.add(line);
      } catch {
        // a list that vanished mid-read: its package is being removed
      }
    }
    this.owned = owned;
    return owned;
  }

  isSystem(path: string): boolean {
    if (SYSTEM_PREFIXES.some((p) => isUnder(path, p))) return true;
    return this.packageFiles().has(path);
  }
}
