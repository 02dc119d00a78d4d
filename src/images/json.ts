// crit-compatible JSON: the same keys, value renderings and whitespace as `crit decode [--pretty]`
// (Python's json.dump, ensure_ascii, indent 4 when pretty), with 64-bit integers exact both ways.
// This file writes whole images; the parts live in py-json (serializer), crit-values (renderings),
// json-writer (entries), json-parse and json-to-image (the way back).
import { CryoError } from '../errors.js';
import { base64Lines } from './crit-values.js';
import type { Image } from './image.js';
import { entryToJ, writeEntry, writerFor } from './json-writer.js';
import { MAGICS, type ExtraKind } from './magic.js';
import { PAYLOADS, type JsonRender } from './payloads.js';
import { nl, Out, quote, writeJ, type J } from './py-json.js';
import { messageType, type MessageType } from './schema.js';
import type { Entry } from './wire.js';

// what the CLI's info command takes from here (py-json is loaded with this file anyway)
export { stringifyJson } from './py-json.js';

export interface JsonOptions {
  /** crit's --pretty: indent 4 and field-specific renderings (hex, IPs, flags, devices, dict names) */
  pretty?: boolean;
}

// crit renders a payload's messages with the plain (not pretty) rendering, its bytes as base64 lines
const RENDER: JsonRender = { bytes: base64Lines, entry: (type, e) => entryToJ(type, e, false) };

function extraToJ(kind: ExtraKind | undefined, x: unknown): J {
  if (kind) return PAYLOADS[kind].toJson(x, RENDER);
  if (x instanceof Uint8Array) return base64Lines(x);
  if (typeof x === 'string') return x;
  throw new Error('cannot render a payload that is not bytes');
}

/** The payload size crit's `show --nopl` reports for an entry's extra. */
export function payloadSize(magic: string, e: Entry): number {
  const kind = MAGICS.get(magic)?.extra;
  if (kind) return PAYLOADS[kind].size(e);
  return e.extra instanceof Uint8Array ? e.extra.length : 0;
}

/** Which entry writer imageToJson uses: 'generated' (default) or the generic reference walk. */
let useGenerated = true;
export function setJsonWriterForTests(kind: 'generated' | 'generic'): void {
  useGenerated = kind === 'generated';
}

function writeImage(o: Out, img: Image, pretty: boolean): void {
  if (img.magic === 'RAW') {
    throw new CryoError('BAD_IMAGE', 'a raw image (pages-*.img and the like) has no entries to render as JSON', {
      hint: 'raw images hold memory pages or tool output; inspect them with other tools',
    });
  }
  const info = MAGICS.get(img.magic);
  if (!info) throw new CryoError('BAD_IMAGE', `unknown magic name ${JSON.stringify(img.magic)}`);
  o.ascii(pretty ? `{${nl(1)}"magic": ${quote(img.magic)},${nl(1)}"entries": ` : `{"magic": ${quote(img.magic)}, "entries": `);
  const entries = img.entries;
  if (entries.length === 0) o.ascii('[]');
  else {
    o.ascii('[');
    const sep = pretty ? `,${nl(2)}` : ', ';
    const main = info.message ? messageType(info.message) : undefined;
    for (let i = 0; i < entries.length; i++) {
      o.ascii(i ? sep : (pretty ? nl(2) : ''));
      const e = entries[i];
      let mt: MessageType | undefined = main;
      if (info.framing === 'pagemap') mt = messageType(i === 0 ? 'pagemap_head' : 'pagemap_entry');
      else if (info.framing === 'ghost') mt = messageType(i === 0 ? 'ghost_file_entry' : 'ghost_chunk_entry');
      const extra = e.extra !== undefined ? () => extraToJ(info.extra, e.extra) : undefined;
      if (mt) {
        if (useGenerated) writerFor(mt, pretty, false)(o, e, 2, extra);
        else writeEntry(o, mt, e, pretty, false, 2, extra);
      }
      else writeJ(o, extra ? { extra: extra() } : {}, pretty, 2);
    }
    o.ascii(pretty ? `${nl(1)}]` : ']');
  }
  o.ascii(pretty ? '\n}' : '}');
}

/** An image as crit's JSON text (no trailing newline; crit adds one only on stdout). */
export function imageToJson(img: Image, opts: JsonOptions = {}): string {
  return imageToJsonBuffer(img, opts).toString('latin1');
}

/** The same as imageToJson, as ASCII bytes (what the CLI writes). */
export function imageToJsonBuffer(img: Image, opts: JsonOptions = {}): Buffer {
  // about what a VMA entry takes, so large images are rarely copied while growing
  const o = new Out(Math.min(1 << 28, Math.max(1 << 16, (img.entries?.length ?? 0) * (opts.pretty ? 420 : 140))));
  writeImage(o, img, opts.pretty === true);
  return o.result();
}
