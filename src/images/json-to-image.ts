// crit's (or cryo's) JSON text back to an image (crit's dict2pb over every entry and payload); every
// complaint is a BAD_IMAGE error naming the JSON path.
import { CryoError } from '../errors.js';
import type { Image } from './image.js';
import { JsonParseError, parseJson } from './json-parse.js';
import { b64, entryFromJ, FromJsonError } from './json-to-entry.js';
import { MAGICS } from './magic.js';
import { PAYLOADS, type JsonParse } from './payloads.js';
import { messageType, type MessageType } from './schema.js';

const PARSE: JsonParse = {
  bytes: b64,
  entry: entryFromJ,
  error: (message, path) => new FromJsonError(message, path),
};

/** Build an image from crit's (or cryo's) JSON: text or an already parsed value. */
export function imageFromJson(input: string | unknown, name = '<input>'): Image {
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = parseJson(input);
    } catch (e) {
      const off = e instanceof JsonParseError ? e.offset : 0;
      throw new CryoError('BAD_IMAGE', `${name}: invalid JSON at offset ${off}: ${(e as Error).message}`, {
        hint: 'encode expects the JSON that `cryo decode` or `crit decode` writes',
        details: { file: name, offset: off },
      });
    }
  }
  try {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FromJsonError('expected an object {magic, entries}', '$');
    const o = v as Record<string, unknown>;
    if (typeof o.magic !== 'string') throw new FromJsonError('expected a magic name', '$.magic');
    const info = MAGICS.get(o.magic);
    if (!info) throw new FromJsonError(`unknown magic "${o.magic}"`, '$.magic');
    if (!Array.isArray(o.entries)) throw new FromJsonError('expected an array', '$.entries');
    const entries = o.entries.map((e, i) => {
      const path = `$.entries[${i}]`;
      let mt: MessageType | undefined;
      if (info.framing === 'pagemap') mt = messageType(i === 0 ? 'pagemap_head' : 'pagemap_entry');
      else if (info.framing === 'ghost') mt = messageType(i === 0 ? 'ghost_file_entry' : 'ghost_chunk_entry');
      else if (info.message) mt = messageType(info.message);
      const entry = mt ? entryFromJ(mt, e, path) : {};
      const x = (e as Record<string, unknown>)?.extra;
      if (x !== undefined && x !== null) entry.extra = info.framing === 'entries' && info.extra ? PAYLOADS[info.extra].fromJson(x, `${path}.extra`, PARSE) : b64(x, `${path}.extra`);
      return entry;
    });
    return { magic: info.name, entries };
  } catch (e) {
    if (e instanceof FromJsonError) {
      throw new CryoError('BAD_IMAGE', `${name}: ${e.message}`, {
        hint: 'encode expects the JSON that `cryo decode` or `crit decode` writes', details: { file: name, path: e.path },
      });
    }
    throw e;
  }
}
