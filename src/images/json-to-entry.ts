// crit's JSON for one entry back to an entry (crit's dict2pb): names to numbers, renderings parsed
// back, 64-bit values exact. Complaints are FromJsonError naming the JSON path.
import { DICT_MAPS, encodeDev, FLAG_MAPS, parseIp, parsePyInt, quopriDecode } from './crit-values.js';
import type { FieldInfo, MessageType } from './schema.js';
import type { Entry } from './wire.js';

export class FromJsonError extends Error {
  constructor(message: string, readonly path: string) {
    super(`${path}: ${message}`);
  }
}

function intFromJ(f: FieldInfo, v: unknown, path: string): number | bigint {
  let b: bigint;
  if (typeof v === 'string') {
    try {
      if (f.opts.dev) b = encodeDev(f, v);
      else if (f.opts.flags && FLAG_MAPS[f.opts.flags]) {
        const map = new Map(FLAG_MAPS[f.opts.flags]);
        b = v === '' ? 0n : v.split('|').map((x) => x.trim()).reduce((acc, x) => {
          const bit = map.get(x);
          return acc + (bit !== undefined ? BigInt(bit) : parsePyInt(x));
        }, 0n);
      } else if (f.opts.dict && DICT_MAPS[f.opts.dict]?.[f.name]) {
        const entry = Object.entries(DICT_MAPS[f.opts.dict][f.name]).find(([, name]) => name === v);
        b = entry ? BigInt(entry[0]) : parsePyInt(v);
      } else b = parsePyInt(v);
    } catch (e) {
      throw new FromJsonError((e as Error).message, path);
    }
  } else if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isFinite(v)) b = BigInt(Math.trunc(v));
  else if (typeof v === 'boolean') b = v ? 1n : 0n;
  else throw new FromJsonError(`expected an integer, got ${v === null ? 'null' : typeof v}`, path);
  return f.is64 ? b : Number(b);
}

function valueFromJ(f: FieldInfo, v: unknown, path: string): unknown {
  switch (f.kind) {
    case 'message': return entryFromJ(f.messageType!, v, path);
    case 'bytes':
      if (typeof v !== 'string') throw new FromJsonError('expected a string', path);
      return f.opts.conv === 'unix_name' ? quopriDecode(v) : Buffer.from(v, 'base64');
    case 'enum': {
      if (typeof v === 'string') {
        const n = f.enumType!.byName.get(v);
        if (n === undefined) throw new FromJsonError(`unknown ${f.enumType!.name} value "${v}"`, path);
        return n;
      }
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      throw new FromJsonError(`expected an enum name, got ${typeof v}`, path);
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1) return v === 1;
      throw new FromJsonError(`expected true or false, got ${typeof v}`, path);
    case 'string':
      if (typeof v !== 'string') throw new FromJsonError(`expected a string, got ${typeof v}`, path);
      return v;
    case 'double': case 'float':
      if (typeof v !== 'number') throw new FromJsonError(`expected a number, got ${typeof v}`, path);
      return v;
  }
  return intFromJ(f, v, path);
}

export function entryFromJ(type: MessageType, v: unknown, path: string): Entry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FromJsonError('expected an object', path);
  const o = v as Record<string, unknown>;
  const out: Entry = {};
  for (const f of type.fields) {
    if (!Object.prototype.hasOwnProperty.call(o, f.name)) continue;
    const x = o[f.name];
    const fpath = `${path}.${f.name}`;
    if (f.repeated) {
      if (!Array.isArray(x)) throw new FromJsonError('expected an array', fpath);
      if (f.opts.ipadd && typeof x[0] === 'string') {
        try {
          out[f.name] = parseIp(x[0]);
        } catch (e) {
          throw new FromJsonError((e as Error).message, fpath);
        }
        continue;
      }
      out[f.name] = x.map((y, i) => valueFromJ(f, y, `${fpath}[${i}]`));
    } else out[f.name] = valueFromJ(f, x, fpath);
  }
  return out;
}

export function b64(v: unknown, path: string): Buffer {
  if (typeof v !== 'string') throw new FromJsonError('expected a base64 string', path);
  return Buffer.from(v, 'base64');
}
