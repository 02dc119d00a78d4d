// cryo's own migration channel: length-prefixed frames over one TLS socket, read in order. One frame:
// u32 length (big-endian), u8 kind (0: UTF-8 JSON message, 1: raw bytes), then the body. A file is a
// JSON {t: 'file', name, size} followed by one raw frame, delivered as one message with `data` (a
// Buffer); only metadata images travel here, the pages go through CRIU's page server.
import type { TLSSocket } from 'node:tls';
import { CryoError } from '../errors.js';

/** Upper bound for one frame; a peer announcing more is refused (protobuf-es style safety limit). */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export type ChannelMessage = { t: string } & Record<string, unknown>;

/** A framed message channel over an authenticated TLS socket. */
export class TlsChannel {
  readonly socket: TLSSocket;
  #chunks: Buffer[] = [];
  #have = 0;
  #file: ChannelMessage | undefined;
  #queue: ChannelMessage[] = [];
  #waiters: Array<{ resolve: (m: ChannelMessage) => void; reject: (e: Error) => void }> = [];
  #closed: Error | undefined;
  /** bytes written to the peer (frames, headers included) */
  bytesSent = 0;

  constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', (e) => this.#fail(new CryoError('FAILED', `migration channel: ${e.message}`, { hint: 'the peer went away or the link broke', cause: e })));
    socket.on('close', () => this.#fail(new CryoError('FAILED', 'migration channel closed by the peer', { hint: 'the peer ended or the link broke' })));
  }

  /** Sends one message (resolves once it is handed to the kernel). */
  send(msg: ChannelMessage): Promise<void> {
    return this.#write([frame(0, Buffer.from(JSON.stringify(msg)))]);
  }

  /** Sends a file as one message: its header, then its bytes raw. */
  sendFile(name: string, data: Buffer): Promise<void> {
    return this.#write([frame(0, Buffer.from(JSON.stringify({ t: 'file', name, size: data.length }))), frame(1, Buffer.alloc(0), data.length), data]);
  }

  #write(parts: Buffer[]): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    for (const p of parts) this.bytesSent += p.length;
    return new Promise((resolve, reject) => {
      this.socket.write(Buffer.concat(parts), (e) => (e ? reject(e) : resolve()));
    });
  }

  /** The next message; rejects when the channel closes first, or after `timeoutMs`. */
  next(timeoutMs?: number): Promise<ChannelMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const w = {
        resolve: (m: ChannelMessage) => { clearTimeout(timer); resolve(m); },
        reject: (e: Error) => { clearTimeout(timer); reject(e); },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          reject(new CryoError('FAILED', `the peer did not answer within ${timeoutMs} ms`, { hint: 'check the peer and the link' }));
        }, timeoutMs);
      }
      this.#waiters.push(w);
    });
  }

  /** The next message, which must be of type `t` (a peer's `failed` becomes its error). */
  async expect(t: string, timeoutMs?: number): Promise<ChannelMessage> {
    const m = await this.next(timeoutMs);
    if (m.t === t) return m;
    if (m.t === 'failed' || m.t === 'refused') throw peerError(m);
    throw new CryoError('FAILED', `migration protocol: expected '${t}', got '${m.t}'`, { hint: 'both hosts must run the same cryo version' });
  }

  /** Whether the channel is still open. */
  get open(): boolean {
    return this.#closed === undefined;
  }

  /** Ends the channel (orderly) and then destroys the socket. */
  close(): void {
    this.#closed ??= new CryoError('FAILED', 'migration channel closed');
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  #onData(d: Buffer): void {
    this.#chunks.push(d);
    this.#have += d.length;
    for (;;) {
      if (this.#have < 5) return;
      const head = this.#peek(5);
      const n = head.readUInt32BE(0);
      const kind = head[4];
      if (n > MAX_FRAME_BYTES || (kind !== 0 && kind !== 1)) {
        this.#fail(new CryoError('FAILED', `migration channel: bad frame (${n} bytes, kind ${kind})`, { hint: 'the peer is not cryo' }));
        this.socket.destroy();
        return;
      }
      if (this.#have < 5 + n) return;
      const body = this.#take(5 + n).subarray(5);
      if (kind === 1) {
        const file = this.#file;
        this.#file = undefined;
        if (!file) return this.#malformed();
        this.#deliver({ ...file, data: body });
        continue;
      }
      let msg: ChannelMessage;
      try {
        msg = JSON.parse(body.toString('utf8')) as ChannelMessage;
        if (typeof msg?.t !== 'string') throw new Error('no type');
      } catch {
        return this.#malformed();
      }
      if (msg.t === 'file') this.#file = msg;
      else this.#deliver(msg);
    }
  }

  /** The first `n` buffered bytes, without consuming them (joins chunks only as far as needed). */
  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length < n) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!.subarray(0, n);
  }

  /** Consumes `n` buffered bytes (one copy for a frame spread over many chunks). */
  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#have -= n;
    return out;
  }

  #malformed(): void {
    this.#fail(new CryoError('FAILED', 'migration channel: malformed frame', { hint: 'the peer is not cryo' }));
    this.socket.destroy();
  }

  #deliver(msg: ChannelMessage): void {
    const w = this.#waiters.shift();
    if (w) w.resolve(msg);
    else this.#queue.push(msg);
  }

  #fail(e: Error): void {
    this.#closed ??= e;
    for (const w of this.#waiters.splice(0)) w.reject(this.#closed);
  }
}

/** One frame's header and body; a raw frame's body may follow separately (`size` set, `body` empty). */
function frame(kind: 0 | 1, body: Buffer, size = body.length): Buffer {
  const head = Buffer.alloc(5 + body.length);
  head.writeUInt32BE(size, 0);
  head[4] = kind;
  body.copy(head, 5);
  return head;
}

/** A peer's `failed`/`refused` message as a CryoError. */
function peerError(m: ChannelMessage): CryoError {
  const code = typeof m.code === 'string' ? m.code : 'FAILED';
  return new CryoError(code as 'FAILED', `destination: ${String(m.message ?? m.t)}`, {
    hint: typeof m.hint === 'string' ? m.hint : 'see the output of cryo receive',
    details: { peer: m },
  });
}
