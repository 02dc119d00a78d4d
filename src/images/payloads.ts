// The raw payloads that follow an entry in some images, one handler per kind (as pycriu has them): how
// to read it, write it, render it as crit's JSON, parse it back, and the size `show --nopl` reports.
import type { Request } from './types.js';
import type { ExtraKind } from './magic.js';
import type { J } from './py-json.js';
import { messageType, type MessageType } from './schema.js';
import { encodeMessage, EncodeError, type Entry } from './wire.js';

/** What a handler reads through (the framing parser): bounded, and failing as BAD_IMAGE. */
export interface PayloadInput {
  /** exactly n bytes */
  bytes(n: number, what: string): Generator<Request, Uint8Array, Uint8Array>;
  /** a size field of the entry, checked against the payload limit */
  size(n: unknown, what: string): number;
  /** a u32 size, then one message of `type` */
  message(type: MessageType, what: string): Generator<Request, Entry, Uint8Array>;
}

/** What a handler writes through (the encoder). */
export interface PayloadOutput {
  raw(b: Uint8Array): void;
  /** a u32 size, then the message */
  message(type: MessageType, e: Entry, path: string): void;
}

/** crit's renderings of a payload's parts, supplied by the JSON writer (json.ts). */
export interface JsonRender {
  bytes(b: Uint8Array): J;
  entry(type: MessageType, e: Entry): J;
}

/** The way back, supplied by json-to-image.ts; errors name the JSON path. */
export interface JsonParse {
  bytes(x: unknown, path: string): Buffer;
  entry(type: MessageType, x: unknown, path: string): Entry;
  error(message: string, path: string): Error;
}

export interface PayloadHandler {
  /** the payload after entry `e` (undefined: there is none) */
  read(input: PayloadInput, e: Entry): Generator<Request, unknown, Uint8Array>;
  /** write `e.extra` after the entry; EncodeError when it does not fit */
  write(out: PayloadOutput, e: Entry, path: string): void;
  /** crit's JSON for `e.extra` */
  toJson(x: unknown, json: JsonRender): J;
  /** `e.extra` from crit's JSON */
  fromJson(x: unknown, path: string, json: JsonParse): unknown;
  /** the payload size crit's `show --nopl` reports */
  size(e: Entry): number;
}

const roundUp = (x: number, y: number): number => Math.ceil(x / y) * y;

function bytesOf(v: unknown, path: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new EncodeError('expected bytes', path);
}

/** bytes padded with zeros to `size`; the declared length must fit the bytes given (a JSON's size is untrusted) */
function padded(d: Uint8Array, used: number, size: number, path: string): Buffer {
  if (!Number.isSafeInteger(used) || used < 0 || used > d.length) throw new EncodeError(`the declared size ${used} does not fit the ${d.length} bytes given`, path);
  const out = Buffer.alloc(size);
  out.set(d.subarray(0, used));
  return out;
}

const bytesToJ = (x: unknown, json: JsonRender): J => (typeof x === 'string' ? x : json.bytes(x as Uint8Array));
const isBytes = (x: unknown): boolean => x instanceof Uint8Array || typeof x === 'string';
const bytesFromJ = (x: unknown, path: string, json: JsonParse): Buffer => json.bytes(x, path);

/** A payload of raw bytes whose length the entry gives. */
function rawBytes(what: string, length: (input: PayloadInput, e: Entry) => number, size: (e: Entry) => number): PayloadHandler {
  return {
    *read(input, e) {
      return Buffer.from(yield* input.bytes(length(input, e), what));
    },
    write(out, e, path) {
      if (e.extra !== undefined) out.raw(bytesOf(e.extra, `${path}.extra`));
    },
    toJson: bytesToJ,
    fromJson: bytesFromJ,
    size,
  };
}

const ipcMsg = (): MessageType => messageType('ipc_msg');

export const PAYLOADS: Record<ExtraKind, PayloadHandler> = {
  'pipe-data': rawBytes('pipe data', (input, e) => input.size(e.bytes, 'pipe data'), (e) => Number(e.bytes)),
  'sk-queue': rawBytes('queued packet', (input, e) => input.size(e.length, 'queued packet'), (e) => Number(e.length)),
  'bpfmap-data': rawBytes(
    'bpf map data',
    (input, e) => input.size(input.size(e.keys_bytes, 'bpf map keys') + input.size(e.values_bytes, 'bpf map values'), 'bpf map data'),
    (e) => (e.extra instanceof Uint8Array ? e.extra.length : 0),
  ),
  'tcp-stream': {
    *read(input, e) {
      const inq = Buffer.from(yield* input.bytes(input.size(e.inq_len, 'tcp in-queue'), 'tcp in-queue'));
      const outq = Buffer.from(yield* input.bytes(input.size(e.outq_len, 'tcp out-queue'), 'tcp out-queue'));
      return { inq, outq };
    },
    write(out, e, path) {
      const x = e.extra;
      if (x === undefined) return;
      if (typeof x !== 'object' || x === null) throw new EncodeError('expected {inq, outq}', `${path}.extra`);
      const t = x as { inq?: unknown; outq?: unknown };
      out.raw(bytesOf(t.inq, `${path}.extra.inq`));
      out.raw(bytesOf(t.outq, `${path}.extra.outq`));
    },
    toJson(x, json) {
      if (isBytes(x)) return bytesToJ(x, json);
      const t = x as { inq: Buffer; outq: Buffer };
      return { inq: json.bytes(t.inq), outq: json.bytes(t.outq) };
    },
    fromJson(x, path, json) {
      if (typeof x !== 'object' || x === null) throw json.error('expected {inq, outq}', path);
      const t = x as Record<string, unknown>;
      return { inq: json.bytes(t.inq, `${path}.inq`), outq: json.bytes(t.outq, `${path}.outq`) };
    },
    size: (e) => Number(e.inq_len) + Number(e.outq_len),
  },
  'ipc-shm': {
    *read(input, e) {
      // with in_pagemaps the segment's pages live in pagemap/pages images, nothing follows the entry
      if (e.in_pagemaps === true) return undefined;
      const size = input.size(e.size, 'shm segment');
      const b = yield* input.bytes(roundUp(size, 4), 'shm segment');
      return Buffer.from(b.subarray(0, size));
    },
    write(out, e, path) {
      if (e.in_pagemaps === true || e.extra === undefined) return;
      const size = Number(e.size);
      out.raw(padded(bytesOf(e.extra, `${path}.extra`), size, roundUp(size, 4), `${path}.size`));
    },
    toJson: bytesToJ,
    fromJson: bytesFromJ,
    size: (e) => Number(e.size),
  },
  'ipc-sem': {
    *read(input, e) {
      const n = input.size(input.size(e.nsems, 'semaphore set') * 2, 'semaphore set');
      const b = yield* input.bytes(roundUp(n, 8), 'semaphore set');
      const vals: number[] = [];
      for (let i = 0; i < n; i += 2) vals.push(b[i] | (b[i + 1] << 8));
      return vals;
    },
    write(out, e, path) {
      const x = e.extra;
      if (x === undefined) return;
      if (!Array.isArray(x) || x.length !== e.nsems) throw new EncodeError(`expected ${e.nsems} semaphore values`, `${path}.extra`);
      const b = Buffer.alloc(roundUp(x.length * 2, 8));
      x.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw new EncodeError('expected a u16', `${path}.extra[${i}]`);
        b.writeUInt16LE(v, i * 2);
      });
      out.raw(b);
    },
    toJson: (x, json) => (isBytes(x) ? bytesToJ(x, json) : (x as number[])),
    fromJson(x, path, json) {
      if (!Array.isArray(x)) throw json.error('expected an array of numbers', path);
      return x.map((n, i) => {
        if (typeof n !== 'number') throw json.error('expected a number', `${path}[${i}]`);
        return n;
      });
    },
    size: (e) => 2 * Number(e.nsems),
  },
  'ipc-msg': {
    // crit's layout: [ipc_msg, data, ipc_msg, data, ...]
    *read(input, e) {
      const out: unknown[] = [];
      const qnum = input.size(e.qnum, 'message queue');
      for (let i = 0; i < qnum; i++) {
        const msg = yield* input.message(ipcMsg(), 'message');
        const msize = input.size(msg.msize, 'message');
        const data = yield* input.bytes(roundUp(msize, 8), 'message data');
        out.push(msg, Buffer.from(data.subarray(0, msize)));
      }
      return out;
    },
    write(out, e, path) {
      const x = e.extra;
      if (x === undefined) return;
      if (!Array.isArray(x)) throw new EncodeError('expected [message, data, ...]', `${path}.extra`);
      for (let i = 0; i + 1 < x.length; i += 2) {
        const msg = x[i] as Entry;
        out.message(ipcMsg(), msg, `${path}.extra[${i}]`);
        const msize = Number(msg.msize);
        out.raw(padded(bytesOf(x[i + 1], `${path}.extra[${i + 1}]`), msize, roundUp(msize, 8), `${path}.extra[${i}].msize`));
      }
    },
    toJson: (x, json) => (isBytes(x) ? bytesToJ(x, json)
      : (x as unknown[]).map((v, i) => (i % 2 === 0 ? json.entry(ipcMsg(), v as Entry) : json.bytes(v as Buffer)))),
    fromJson(x, path, json) {
      if (!Array.isArray(x)) throw json.error('expected [message, data, ...]', path);
      return x.map((y, i) => (i % 2 === 0 ? json.entry(ipcMsg(), y, `${path}[${i}]`) : json.bytes(y, `${path}[${i}]`)));
    },
    size(e) {
      let n = 0;
      const arr = e.extra as unknown[];
      for (let i = 0; i + 1 < arr.length; i += 2) n += encodeMessage(ipcMsg(), arr[i] as Entry).length + Number((arr[i] as Entry).msize);
      return n;
    },
  },
};
