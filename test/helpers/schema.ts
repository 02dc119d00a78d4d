// Validates cryo's JSON output against the published schemas (schemas/*.schema.json, read at run
// time from the repository root), and picks the schema a CLI call's stdout must match.
import { AssertionError } from 'node:assert';
import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

// the same root as repoRoot in trees.ts (not imported from there: trees.ts imports this module)
export const schemasDir = join(fileURLToPath(new URL('../../../', import.meta.url)), 'schemas');

/** A schema's name is its file name without `.schema.json`; `NAME#/$defs/X` names one of its definitions. */
export type SchemaName = string;

interface Loaded {
  ajv: InstanceType<typeof Ajv2020.default>;
  ids: Map<string, string>;
  validators: Map<string, ValidateFunction>;
}

let loaded: Loaded | undefined;

/** Compiles every schema once, in ajv's strict mode (unknown keywords, loose types and undefined required properties are errors). */
function loadSchemas(dir = schemasDir): Loaded {
  if (loaded && dir === schemasDir) return loaded;
  const ajv = new Ajv2020.default({ strict: true, allErrors: true });
  const ids = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort()) {
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { $id?: string };
    if (typeof schema.$id !== 'string') throw new Error(`${file}: no $id`);
    ajv.addSchema(schema);
    ids.set(file.slice(0, -'.schema.json'.length), schema.$id);
  }
  const l: Loaded = { ajv, ids, validators: new Map() };
  if (dir === schemasDir) loaded = l;
  return l;
}

/** The names of every published schema (file names without `.schema.json`). */
export function schemaNames(): string[] {
  return [...loadSchemas().ids.keys()];
}

function validatorFor(name: SchemaName, l = loadSchemas()): ValidateFunction {
  const cached = l.validators.get(name);
  if (cached) return cached;
  const [file, fragment] = name.split('#', 2) as [string, string | undefined];
  const id = l.ids.get(file);
  if (!id) throw new Error(`no schema named "${file}" in ${schemasDir} (have: ${[...l.ids.keys()].join(', ')})`);
  const v = l.ajv.getSchema(fragment === undefined ? id : `${id}#${fragment}`);
  if (!v) throw new Error(`schema ${name}: no such definition`);
  l.validators.set(name, v);
  return v;
}

function show(value: unknown): string {
  const s = JSON.stringify(value);
  if (s === undefined) return 'nothing';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function valueAt(root: unknown, pointer: string): unknown {
  let at = root;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  }
  return at;
}

/** One line per problem: where (instance path), what was expected, what was there. */
function describe(errors: ErrorObject[], value: unknown): string[] {
  const out = new Set<string>();
  for (const e of errors) {
    const where = e.instancePath || '(top level)';
    const p = e.params as Record<string, unknown>;
    let what = e.message ?? e.keyword;
    if (e.keyword === 'additionalProperties') what = `has a property the schema does not allow: "${String(p.additionalProperty)}"`;
    else if (e.keyword === 'required') what = `lacks the required property "${String(p.missingProperty)}"`;
    else if (e.keyword === 'enum') what = `must be one of ${show(p.allowedValues)}`;
    else if (e.keyword === 'const') what = `must be ${show(p.allowedValue)}`;
    else if (e.keyword === 'false schema') what = 'must not be present here';
    const at = valueAt(value, e.instancePath);
    // name the offending part, not the whole object
    const got = e.keyword === 'additionalProperties' ? show((at as Record<string, unknown>)[String(p.additionalProperty)])
      : e.keyword === 'required' ? `keys ${show(Object.keys(at as object))}` : show(at);
    out.add(`  ${where}: ${what} (schema ${e.schemaPath}; got ${got})`);
  }
  return [...out];
}

/** The problems of `value` against schema `name` (empty when it is valid). */
export function schemaErrors(name: SchemaName, value: unknown): string[] {
  const v = validatorFor(name);
  return v(value) ? [] : describe(v.errors ?? [], value);
}

/** Throws an AssertionError listing every problem when `value` does not match schema `name`. */
export function assertMatchesSchema(name: SchemaName, value: unknown, what = 'value'): void {
  const problems = schemaErrors(name, value);
  if (problems.length) {
    throw new AssertionError({ message: `${what} does not match schemas/${name.split('#')[0]}.schema.json${name.includes('#') ? ` (${name.split('#')[1]})` : ''}:\n${problems.join('\n')}` });
  }
}

/** True for `{"error": {...}}`: what a failing command given --json prints. */
export function isErrorObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const e = (value as Record<string, unknown>).error;
  return e !== null && typeof e === 'object' && !Array.isArray(e);
}

const GLOBAL_WITH_VALUE = new Set(['--criu']);
/** Commands whose stdout is always JSON (crit's formats), with no --json option. */
const ALWAYS_JSON = new Set(['decode', 'show', 'info']);

/** The command name and its own arguments (before any `--`) of a cryo argv (without node and main.js). */
function parseCall(argv: string[]): { command?: string; args: string[] } {
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (a === '--') return { args: [] };
    else if (!a.startsWith('-')) break;
  }
  const rest = argv.slice(i + 1);
  const end = rest.indexOf('--');
  return { command: argv[i], args: end < 0 ? rest : rest.slice(0, end) };
}

function optionValue(args: string[], ...names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    for (const n of names) {
      if (a === n) return args[i + 1];
      if (n.startsWith('--') && a.startsWith(`${n}=`)) return a.slice(n.length + 1);
    }
  }
  return undefined;
}

/**
 * The schema the stdout of `cryo ARGV` must match: undefined when stdout is not JSON by contract
 * (no --json, help, `dump -o -` whose stdout is the archive, `decode -o FILE`).
 * A non-zero exit whose stdout is an error object selects the error schema.
 */
export function schemaForCall(argv: string[], status: number | null, stdout: string): SchemaName | undefined {
  const all = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length);
  if (all.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) return undefined;
  const { command, args } = parseCall(argv);
  if (command === undefined) return undefined;
  if (ALWAYS_JSON.has(command)) {
    if (status !== 0) return undefined;
    if (command === 'decode' && ![undefined, '-'].includes(optionValue(args, '-o', '--out'))) return undefined;
    return command;
  }
  if (!args.includes('--json')) return undefined;
  if (command === 'dump' && optionValue(args, '-o', '--output') === '-') return undefined;
  if (status !== 0 && stdout.trim() !== '') {
    try {
      if (isErrorObject(JSON.parse(stdout))) return 'error';
    } catch {
      // not JSON: the command's schema reports it
    }
  }
  if (command === 'check' && (args.includes('-i') || args.includes('--input') || args.some((a) => a.startsWith('--input=')))) return 'check-input';
  if (command === 'check') return args.includes('--pid') || args.some((a) => a.startsWith('--pid=')) ? 'check-pid' : 'check';
  if (command === 'mem') return optionValue(args, '--dump') !== undefined ? 'mem#/$defs/dump' : 'mem#/$defs/search';
  return loadSchemas().ids.has(command) ? command : undefined;
}

/**
 * Validates the stdout of `cryo ARGV` against the schema schemaForCall picks; throws an
 * AssertionError naming the call. A failing call that printed nothing passes (today's commands
 * print their error on stderr only); json-shapes.test.ts asserts the error object itself.
 */
export function assertCliJson(argv: string[], result: { status: number | null; stdout: string }): void {
  const name = schemaForCall(argv, result.status, result.stdout);
  if (name === undefined) return;
  const call = `cryo ${argv.join(' ')} (exit ${result.status})`;
  if (result.stdout.trim() === '') {
    if (result.status !== 0) return;
    throw new AssertionError({ message: `${call} printed nothing on stdout; expected JSON matching schemas/${name.split('#')[0]}.schema.json` });
  }
  let value: unknown;
  try {
    value = JSON.parse(result.stdout);
  } catch (e) {
    throw new AssertionError({ message: `${call}: stdout is not one JSON value (${(e as Error).message}): ${show(result.stdout)}` });
  }
  assertMatchesSchema(name, value, `stdout of ${call}`);
}

/**
 * spawnSync, plus assertCliJson when the command is the built CLI (`node .../cli/main.js ARGS`):
 * a drop-in for tests that spawn the CLI themselves.
 */
export function spawnCliSync(command: string, args: readonly string[], options: SpawnSyncOptions & { encoding: BufferEncoding }): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, options);
  if (args[0]?.endsWith('cli/main.js')) assertCliJson(args.slice(1), { status: r.status, stdout: r.stdout });
  return r;
}
