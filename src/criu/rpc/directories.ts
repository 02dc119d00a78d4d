// The directories of one request: images_dir_fd / work_dir_fd opened for CRIU (it reopens them through
// /proc/<our pid>/fd/<n>), the log's bare name and full path; cleanup() closes the fds after the call.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { CryoError, usageError } from '../../errors.js';
import type { OpenCriuOptions, RequestOptions } from './connection.js';
import type { CriuOpts, CriuRequest } from './types.js';

/** A directory opened for images_dir_fd / work_dir_fd (O_RDONLY|O_DIRECTORY); close() it after the call. */
export function openDirFd(dir: string): { fd: number; close(): void } {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CryoError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'FAILED', `cannot open directory ${dir}: ${err.code ?? err.message}`, {
      cause: e,
      hint: err.code === 'ENOENT' ? 'check the path' : undefined,
    });
  }
  let open = true;
  return {
    fd,
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

export interface CriuCallOptions extends RequestOptions, OpenCriuOptions {
  /** the images directory, opened here and passed as images_dir_fd */
  imagesDir?: string;
  /** where CRIU writes its log (and stats): opened here and passed as work_dir_fd; default the images dir */
  logDir?: string;
  /** the log's bare file name; default "<type>.log" (dump.log, restore.log, ...) when a directory is known */
  logFile?: string;
}

export interface PreparedRequest {
  req: CriuRequest;
  logPath?: string;
  cleanup(): void;
}

function defaultLogName(type: string): string {
  return `${type.toLowerCase().replace(/_/g, '-')}.log`;
}

/** Opens the call's directories and fills images_dir_fd / work_dir_fd / log_file; cleanup() closes them. */
export function prepareRequest(req: CriuRequest, o: CriuCallOptions): PreparedRequest {
  const opened: Array<{ close(): void }> = [];
  const cleanup = () => opened.forEach((d) => d.close());
  try {
    const opts: CriuOpts = { ...req.opts };
    if (o.imagesDir !== undefined) {
      const d = openDirFd(o.imagesDir);
      opened.push(d);
      opts.images_dir_fd = d.fd;
    }
    if (o.logDir !== undefined) {
      const d = openDirFd(o.logDir);
      opened.push(d);
      opts.work_dir_fd = d.fd;
    }
    const imagesPath = o.imagesDir ?? (opts.images_dir_fd === undefined || opts.images_dir_fd < 0 ? opts.images_dir : undefined);
    const dir = o.logDir ?? (opts.work_dir_fd === undefined ? imagesPath : undefined);
    const logFile = o.logFile ?? opts.log_file ?? (dir !== undefined ? defaultLogName(req.type) : undefined);
    if (logFile !== undefined) {
      if (logFile.includes('/')) throw usageError(`expected a bare log file name, got "${logFile}"`, 'put the directory in logDir');
      opts.log_file = logFile;
    }
    const logPath = o.logPath ?? (dir !== undefined && logFile !== undefined ? join(dir, logFile) : undefined);
    const hasOpts = req.opts !== undefined || Object.keys(opts).length > 0;
    return { req: hasOpts ? { ...req, opts } : req, logPath, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
