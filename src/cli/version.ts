// `cryo --version`: cryo's own version (package.json) and the CRIU a command would use, without running it.
import { readFileSync } from 'node:fs';
import { isCryoError } from '../errors.js';

/** cryo's version from package.json (dist/src/cli/version.js -> ../../../package.json). */
function readCryoVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Two lines: `cryo X.Y.Z` and the CRIU found (path and where from), or that there is none. */
export async function renderVersion(criu?: string): Promise<string> {
  const { findCriu } = await import('../criu/find.js');
  let line: string;
  try {
    // skipCheck: `criu check` takes a second or more; a version line must be fast
    const c = findCriu({ criu, skipCheck: true });
    line = `criu ${c.version} (${c.path}, ${c.source === 'option' ? '--criu' : c.source === 'env' ? '$CRYO_CRIU' : c.source})`;
  } catch (e) {
    if (!isCryoError(e)) throw e;
    line = criu || process.env.CRYO_CRIU ? `criu: ${e.message} (run \`cryo setup\`)` : 'criu: none found (run `cryo setup`)';
  }
  return `cryo ${readCryoVersion()}\n${line}\n`;
}
