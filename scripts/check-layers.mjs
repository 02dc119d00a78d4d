// Only src/cli may touch the process's output, exit status and signals (docs/architecture.md):
// a library caller owns those. dependency-cruiser sees imports, not globals, so this reads the text.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// the project root: this repository, or the directory given (the lint tests plant violations in a copy)
const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const FORBIDDEN = /\bprocess\s*\.\s*(stdout|stderr|exitCode|on\s*\(|once\s*\(|exit\s*\()/g;

/** Every .ts file under `dir`, depth first. */
function listSources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listSources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const src = join(root, 'src');
const cli = join(src, 'cli');
const found = [];
for (const file of listSources(src).filter((f) => !f.startsWith(cli + '/'))) {
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(line)) return; // a comment naming them is fine
    for (const m of line.matchAll(FORBIDDEN)) found.push(`${relative(root, file)}:${i + 1}: process.${m[1].replace(/\s/g, '')}`);
  });
}
if (found.length) {
  console.error(`check-layers: ${found.length} use(s) of process output, exit status or signals outside src/cli:`);
  for (const f of found) console.error(`  ${f}`);
  console.error('hint: return data or take a Writable/callback; let src/cli write, set the exit code and handle signals');
  process.exitCode = 1;
} else {
  console.log('check-layers: no process output, exit status or signal handling outside src/cli');
}
