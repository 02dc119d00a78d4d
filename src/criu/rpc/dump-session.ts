// CRIU's pre-dump loop on one connection: PRE_DUMP iterations, then the final DUMP.
import { openCriu, type CriuConnection, type CriuExit, type CriuPath, type OpenCriuOptions } from './connection.js';
import { prepareRequest, type CriuCallOptions } from './directories.js';
import type { CriuOpts, CriuRequest, CriuResponse } from './types.js';

/**
 * PRE_DUMP iterations then the final DUMP on one CRIU, as CRIU's pre-dump loop expects. Each call
 * takes the same options as criuCall (imagesDir, logDir, logFile, hooks, signal, ...).
 */
export class CriuDumpSession {
  readonly connection: CriuConnection;
  constructor(connection: CriuConnection) {
    this.connection = connection;
  }

  async preDump(opts: CriuOpts, o: CriuCallOptions = {}): Promise<CriuResponse> {
    return this.#call({ type: 'PRE_DUMP', opts }, o);
  }

  /** The final dump; the session ends with it. */
  async dump(opts: CriuOpts, o: CriuCallOptions = {}): Promise<CriuResponse> {
    try {
      return await this.#call({ type: 'DUMP', opts }, o);
    } finally {
      await this.close();
    }
  }

  async #call(req: CriuRequest, o: CriuCallOptions): Promise<CriuResponse> {
    const p = prepareRequest(req, o);
    try {
      return await this.connection.request(p.req, { ...o, logPath: p.logPath });
    } finally {
      p.cleanup();
    }
  }

  close(): Promise<CriuExit> {
    return this.connection.close();
  }
}

/** Opens a CRIU for a pre-dump session. */
export function openDumpSession(criu: CriuPath, opts: OpenCriuOptions = {}): CriuDumpSession {
  return new CriuDumpSession(openCriu(criu, opts));
}
