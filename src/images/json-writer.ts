// Entries as crit's JSON, field by field straight from the decoded objects: a generic reference walk
// and, per (message type, pretty, hex), a generated writer with the rendering decided once.
import { base64Lines, decodeDev, DICT_MAPS, FLAG_MAPS, formatIp, hex, mapFlags, quopriEncode } from './crit-values.js';
import { nl, numberText, type Out, quote, writeJ, type J } from './py-json.js';
import type { FieldInfo, MessageType } from './schema.js';
import type { Entry } from './wire.js';

function castValue(f: FieldInfo, v: unknown, pretty: boolean, isHex: boolean): J | undefined {
  switch (f.kind) {
    case 'message': return entryToJ(f.messageType!, v as Entry, pretty, isHex || f.opts.hex === true);
    case 'bytes': return f.opts.conv === 'unix_name' ? quopriEncode(v as Buffer) : base64Lines(v as Buffer);
    case 'enum': return f.enumType!.byNumber.get(v as number);
    case 'bool': return v as boolean;
    case 'string': return v as string;
    case 'double': case 'float': return v as number;
  }
  const n = v as number | bigint;
  if (pretty) {
    if (isHex || f.opts.hex) return hex(n);
    if (f.opts.dev) return decodeDev(f, n);
    if (f.opts.flags) {
      const map = FLAG_MAPS[f.opts.flags];
      return map ? mapFlags(n, map) : hex(n);
    }
    if (f.opts.dict) {
      const name = DICT_MAPS[f.opts.dict]?.[f.name]?.[Number(n)];
      return name ?? n;
    }
  }
  return n;
}

export function entryToJ(type: MessageType, e: Entry, pretty: boolean, isHex = false): { [k: string]: J } {
  const out: { [k: string]: J } = {};
  for (const f of type.fields) {
    const v = e[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      // crit only renders 1 (IPv4) or 4+ (IPv6) words as an address
      if (pretty && f.opts.ipadd && (arr.length === 1 || arr.length >= 4)) {
        out[f.name] = [formatIp(arr as number[])];
        continue;
      }
      const vals: J[] = [];
      for (const x of arr) {
        const c = castValue(f, x, pretty, isHex);
        if (c !== undefined) vals.push(c);
      }
      if (vals.length) out[f.name] = vals;
    } else {
      const c = castValue(f, v, pretty, isHex);
      if (c !== undefined) out[f.name] = c;
    }
  }
  return out;
}

const KEYS = new WeakMap<FieldInfo, string>();
export function keyOf(f: FieldInfo): string {
  let k = KEYS.get(f);
  if (k === undefined) KEYS.set(f, (k = `${quote(f.name)}: `));
  return k;
}

// Entries are written field by field, without building an intermediate object tree.
const OPENS: string[] = [];
const COMMAS: string[] = [];
/** what starts the next key at this nesting level: '{' or ',' plus the newline and indent when pretty */
export function sepOf(first: boolean, pretty: boolean, level: number): string {
  if (!pretty) return first ? '{' : ', ';
  return first ? (OPENS[level] ??= `{${nl(level + 1)}`) : (COMMAS[level] ??= `,${nl(level + 1)}`);
}

/** Write one scalar as crit renders it; false (and nothing written) for what crit would not list. */
export function writeScalar(o: Out, f: FieldInfo, v: unknown, pretty: boolean, isHex: boolean): void {
  switch (f.kind) {
    case 'bytes':
      if (f.opts.conv === 'unix_name') o.str(quopriEncode(v as Buffer));
      else o.ascii(`"${base64Lines(v as Buffer).replaceAll('\n', '\\n')}"`);
      return;
    case 'enum': o.ascii(`"${f.enumType!.byNumber.get(v as number)}"`); return;
    case 'bool': o.ascii(v ? 'true' : 'false'); return;
    case 'string': o.str(v as string); return;
    case 'double': case 'float': o.ascii(numberText(v as number)); return;
  }
  if (pretty) {
    const n = v as number | bigint;
    if (isHex || f.opts.hex) { o.ascii(`"${hex(n)}"`); return; }
    if (f.opts.dev) { o.ascii(`"${decodeDev(f, n)}"`); return; }
    if (f.opts.flags) {
      const map = FLAG_MAPS[f.opts.flags];
      o.ascii(`"${map ? mapFlags(n, map) : hex(n)}"`);
      return;
    }
    if (f.opts.dict) {
      const name = DICT_MAPS[f.opts.dict]?.[f.name]?.[Number(n)];
      if (name !== undefined) { o.ascii(`"${name}"`); return; }
    }
  }
  if (typeof v === 'number') o.int(v);
  else o.ascii((v as bigint).toString());
}

// Entries are written field by field, straight from the decoded objects.
export function writeEntry(o: Out, type: MessageType, e: Entry, pretty: boolean, isHex: boolean, level: number, extra?: () => J): void {
  let first = true;
  const fields = type.fields;
  for (let fi = 0; fi < fields.length; fi++) {
    const f = fields[fi];
    const v = e[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      let arr = v as unknown[];
      if (arr.length === 0) continue;
      // crit only renders 1 (IPv4) or 4+ (IPv6) words as an address
      if (pretty && f.opts.ipadd && (arr.length === 1 || arr.length >= 4)) {
        o.ascii(sepOf(first, pretty, level));
        first = false;
        o.ascii(keyOf(f));
        writeJ(o, [formatIp(arr as number[])], pretty, level + 1);
        continue;
      }
      if (f.kind === 'enum') {
        arr = arr.filter((x) => f.enumType!.byNumber.has(x as number));
        if (arr.length === 0) continue;
      }
      o.ascii(sepOf(first, pretty, level));
      first = false;
      o.ascii(keyOf(f));
      o.ascii('[');
      const deeper = pretty ? nl(level + 2) : '';
      const hexInside = isHex || f.opts.hex === true;
      for (let i = 0; i < arr.length; i++) {
        if (pretty) o.ascii(i ? `,${deeper}` : deeper);
        else if (i) o.ascii(', ');
        if (f.kind === 'message') writeEntry(o, f.messageType!, arr[i] as Entry, pretty, hexInside, level + 2);
        else writeScalar(o, f, arr[i], pretty, isHex);
      }
      o.ascii(pretty ? `${nl(level + 1)}]` : ']');
    } else if (f.kind === 'message') {
      o.ascii(sepOf(first, pretty, level));
      first = false;
      o.ascii(keyOf(f));
      writeEntry(o, f.messageType!, v as Entry, pretty, isHex || f.opts.hex === true, level + 1);
    } else {
      // proto2 keeps unknown enum values out of the listed fields: crit does not show them
      if (f.kind === 'enum' && !f.enumType!.byNumber.has(v as number)) continue;
      o.ascii(sepOf(first, pretty, level));
      first = false;
      o.ascii(keyOf(f));
      writeScalar(o, f, v, pretty, isHex);
    }
  }
  if (extra) {
    o.ascii(sepOf(first, pretty, level));
    first = false;
    o.ascii('"extra": ');
    writeJ(o, extra(), pretty, level + 1);
  }
  o.ascii(first ? '{}' : (pretty ? `${nl(level)}}` : '}'));
}

// ------------------------------------------------------------------ specialised writers
// One generated function per (message type, pretty, hex) writes an entry with direct property reads and
// the rendering decided once: several times faster than the generic walk on a cold start, same output
// (the unit tests compare both on every fixture).

type EntryWriter = (o: Out, e: Entry, level: number, extra?: () => J) => void;
const WRITERS = new Map<string, EntryWriter>();

const HELPERS = {
  sepOf, keyOf, hex, mapFlags, decodeDev, formatIp, quopriEncode, base64Lines, numberText, writeJ, writeScalar,
  writeEntry: (o: Out, type: MessageType, e: Entry, pretty: boolean, isHex: boolean, level: number) =>
    writerFor(type, pretty, isHex)(o, e, level),
};

function scalarCode(f: FieldInfo, i: number, pretty: boolean, isHex: boolean): string {
  const F = `F[${i}]`;
  switch (f.kind) {
    case 'bytes':
      return f.opts.conv === 'unix_name' ? `o.str(H.quopriEncode(v));`
        : `o.ascii('"' + H.base64Lines(v).replaceAll('\\n', '\\\\n') + '"');`;
    case 'enum': return `o.ascii('"' + name + '"');`;
    case 'bool': return `o.ascii(v ? 'true' : 'false');`;
    case 'string': return `o.str(v);`;
    case 'double': case 'float': return `o.ascii(H.numberText(v));`;
    case 'message': return '';
  }
  const plain = `if (typeof v === 'number') o.int(v); else o.ascii(v.toString());`;
  if (!pretty) return plain;
  if (isHex || f.opts.hex) return `o.ascii('"' + H.hex(v) + '"');`;
  if (f.opts.dev) return `o.ascii('"' + H.decodeDev(${F}, v) + '"');`;
  if (f.opts.flags) {
    return FLAG_MAPS[f.opts.flags] ? `o.ascii('"' + H.mapFlags(v, M[${i}]) + '"');` : `o.ascii('"' + H.hex(v) + '"');`;
  }
  if (f.opts.dict && DICT_MAPS[f.opts.dict]?.[f.name]) {
    return `{ const d = M[${i}][Number(v)]; if (d !== undefined) o.ascii('"' + d + '"'); else { ${plain} } }`;
  }
  return plain;
}

export function writerFor(type: MessageType, pretty: boolean, isHex: boolean): EntryWriter {
  const key = `${type.name}|${pretty ? 1 : 0}|${isHex ? 1 : 0}`;
  let w = WRITERS.get(key);
  if (w) return w;
  const fields = type.fields;
  const M = fields.map((f) => (f.opts.flags ? FLAG_MAPS[f.opts.flags] : f.opts.dict ? DICT_MAPS[f.opts.dict]?.[f.name] : undefined));
  const E = fields.map((f) => f.enumType?.byNumber);
  const K = fields.map((f) => keyOf(f));
  const subs: (EntryWriter | undefined)[] = [];
  const S = fields.map((f, i) => () => (subs[i] ??= writerFor(f.messageType!, pretty, isHex || f.opts.hex === true)));
  let body = 'let first = true; let v;\n';
  fields.forEach((f, i) => {
    body += `v = e[${JSON.stringify(f.name)}];\nif (v !== undefined && v !== null) {\n`;
    if (f.repeated) {
      body += `if (v.length !== 0) first = H.writeRepeated(o, F[${i}], v, first, ${pretty}, ${isHex}, level);\n`;
    } else if (f.kind === 'message') {
      body += `o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii(K[${i}]); S[${i}]()(o, v, level + 1);\n`;
    } else if (f.kind === 'enum') {
      body += `const name = E[${i}].get(v);\nif (name !== undefined) { o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii(K[${i}]); ${scalarCode(f, i, pretty, isHex)} }\n`;
    } else {
      body += `o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii(K[${i}]); ${scalarCode(f, i, pretty, isHex)}\n`;
    }
    body += '}\n';
  });
  body += `if (extra) { o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii('"extra": '); H.writeJ(o, extra(), ${pretty}, level + 1); }\n`;
  body += `o.ascii(first ? '{}' : ${pretty ? "H.nl(level) + '}'" : "'}'"});`;
  // eslint-disable-next-line no-new-func
  const make = new Function('H', 'F', 'M', 'E', 'K', 'S', `return function write(o, e, level, extra) {\n${body}\n};`);
  w = make({ ...HELPERS, nl, writeRepeated }, fields, M, E, K, S) as EntryWriter;
  WRITERS.set(key, w);
  return w;
}

/** A non-empty repeated field, rendered as crit does; returns the new `first`. */
function writeRepeated(o: Out, f: FieldInfo, v: unknown[], first: boolean, pretty: boolean, isHex: boolean, level: number): boolean {
  let arr = v;
  // crit only renders 1 (IPv4) or 4+ (IPv6) words as an address
  if (pretty && f.opts.ipadd && (arr.length === 1 || arr.length >= 4)) {
    o.ascii(sepOf(first, pretty, level));
    o.ascii(keyOf(f));
    writeJ(o, [formatIp(arr as number[])], pretty, level + 1);
    return false;
  }
  if (f.kind === 'enum') {
    arr = arr.filter((x) => f.enumType!.byNumber.has(x as number));
    if (arr.length === 0) return first;
  }
  o.ascii(sepOf(first, pretty, level));
  o.ascii(keyOf(f));
  o.ascii('[');
  const deeper = pretty ? nl(level + 2) : '';
  const sub = f.kind === 'message' ? writerFor(f.messageType!, pretty, isHex || f.opts.hex === true) : undefined;
  for (let i = 0; i < arr.length; i++) {
    if (pretty) o.ascii(i ? `,${deeper}` : deeper);
    else if (i) o.ascii(', ');
    if (sub) sub(o, arr[i] as Entry, level + 2);
    else writeScalar(o, f, arr[i], pretty, isHex);
  }
  o.ascii(pretty ? `${nl(level + 1)}]` : ']');
  return false;
}
