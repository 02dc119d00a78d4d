// cryo's own migration channel: length-prefixed JSON frames over one TLS socket, read in order.
// One frame: u32 length (big-endian), then that many bytes of UTF-8 JSON. A file travels as one
// frame whose `data` is base64 (only metadata images do: pages go through CRIU's page server).
import type { TLSSocket } from 'node:tls';
import { CryoError } from '../errors.js';

/** Upper bound for one frame; a peer announcing more is refused (protobuf-es style safety limit). */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export type ChannelMessage = { t: string } & Record<string, unknown>;

/** A framed message channel over an authenticated TLS socket. */
export class TlsChannel {
  readonly socket: TLSSocket;
  #buf: Buffer = Buffer.alloc(0);
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
    if (this.#closed) return Promise.reject(this.#closed);
    const body = Buffer.from(JSON.stringify(msg));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    this.bytesSent += 4 + body.length;
    return new Promise((resolve, reject) => {
      this.socket.write(Buffer.concat([head, body]), (e) => (e ? reject(e) : resolve()));
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
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    while (this.#buf.length >= 4) {
      const n = this.#buf.readUInt32BE(0);
      if (n > MAX_FRAME_BYTES) {
        this.#fail(new CryoError('FAILED', `migration channel: frame of ${n} bytes exceeds the limit`, { hint: 'the peer is not cryo' }));
        this.socket.destroy();
        return;
      }
      if (this.#buf.length < 4 + n) return;
      const body = this.#buf.subarray(4, 4 + n);
      this.#buf = this.#buf.subarray(4 + n);
      let msg: ChannelMessage;
      try {
        msg = JSON.parse(body.toString('utf8')) as ChannelMessage;
        if (typeof msg?.t !== 'string') throw new Error('no type');
      } catch {
        this.#fail(new CryoError('FAILED', 'migration channel: malformed frame', { hint: 'the peer is not cryo' }));
        this.socket.destroy();
        return;
      }
      const w = this.#waiters.shift();
      if (w) w.resolve(msg);
      else this.#queue.push(msg);
    }
  }

  #fail(e: Error): void {
    this.#closed ??= e;
    for (const w of this.#waiters.splice(0)) w.reject(this.#closed);
  }
}

/** A peer's `failed`/`refused` message as a CryoError. */
export function peerError(m: ChannelMessage): CryoError {
  const code = typeof m.code === 'string' ? m.code : 'FAILED';
  return new CryoError(code as 'FAILED', `destination: ${String(m.message ?? m.t)}`, {
    hint: typeof m.hint === 'string' ? m.hint : 'see the output of cryo receive',
    details: { peer: m },
  });
}
