// The CryoError for a CRIU failure answer: errno by name and text, CRIU's message or its log's first real error.
import { constants as osConstants } from 'node:os';
import { CryoError, type ErrorCode } from '../../errors.js';
import { strerror } from '../../kernel/socket.js';
import { isHarmlessLogLine, logMessage, readCriuLog } from '../log.js';
import type { CriuResponse } from './types.js';

// Node's table lacks Linux-only names CRIU uses (e.g. EBADRQC for a request without an images dir)
const LINUX_ERRNO: Record<string, number> = {
  ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47, ELNRNG: 48, EUNATCH: 49, ENOCSI: 50, EL2HLT: 51,
  EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55, EBADRQC: 56, EBADSLT: 57, EBFONT: 59, ENONET: 64,
  ENOPKG: 65, EREMOTE: 66, EADV: 68, ESRMNT: 69, ECOMM: 70, EDOTDOT: 73, ENOTUNIQ: 76, EBADFD: 77,
  EREMCHG: 78, ELIBACC: 79, ELIBBAD: 80, ELIBSCN: 81, ELIBMAX: 82, ELIBEXEC: 83, ERESTART: 85,
  ESTRPIPE: 86, EUSERS: 87, ESOCKTNOSUPPORT: 94, EPFNOSUPPORT: 96, ESHUTDOWN: 108, ETOOMANYREFS: 109,
  EHOSTDOWN: 112, EUCLEAN: 117, ENOTNAM: 118, ENAVAIL: 119, EISNAM: 120, EREMOTEIO: 121, ENOMEDIUM: 123,
  EMEDIUMTYPE: 124, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128, EKEYREJECTED: 129, ERFKILL: 132,
  EHWPOISON: 133,
};
const ERRNO_NAMES = new Map<number, string>(
  Object.entries({ ...LINUX_ERRNO, ...osConstants.errno }).map(([k, v]) => [v, k]),
);

/** 3 → "ESRCH (No such process)". */
export function describeErrno(errnum: number): string {
  const name = ERRNO_NAMES.get(errnum) ?? `errno ${errnum}`;
  let text = '';
  try {
    text = strerror(errnum);
  } catch {
    // no libc binding: the name alone is still useful
  }
  return text ? `${name} (${text})` : name;
}

export interface CriuFailureDetails {
  crErrno?: number;
  crErrmsg?: string;
  logPath?: string;
  logErrors: string[];
  [k: string]: unknown;
}

/** The log's path and its error lines, for a failure's details. */
export function logFacts(logPath: string | undefined): { logPath?: string; logErrors: string[] } {
  if (!logPath) return { logErrors: [] };
  return { logPath, logErrors: readCriuLog(logPath).errors };
}

/** The CryoError for a criu_resp with success=false. */
export function criuFailure(
  resp: CriuResponse,
  opts: { code?: ErrorCode; what?: string; logPath?: string } = {},
): CryoError {
  const facts = logFacts(opts.logPath);
  const parts: string[] = [];
  if (resp.cr_errno) parts.push(describeErrno(resp.cr_errno));
  // CRIU's errmsg is the first error it logged, which here is often the harmless RLIMIT_NOFILE line
  const errmsg = resp.cr_errmsg && !isHarmlessLogLine(resp.cr_errmsg) ? logMessage(resp.cr_errmsg) : '';
  if (errmsg) parts.push(errmsg);
  else if (facts.logErrors.length > 0) parts.push(logMessage(facts.logErrors[0]));
  const what = opts.what ?? `criu ${resp.type.toLowerCase().replace(/_/g, '-')}`;
  const message = `${what} failed${parts.length ? `: ${parts.join(': ')}` : ''}`;
  const details: CriuFailureDetails = {
    crErrno: resp.cr_errno,
    crErrmsg: resp.cr_errmsg,
    ...facts,
  };
  return new CryoError(opts.code ?? 'RPC', oneLine(message), {
    hint: facts.logPath ? `see CRIU's log: ${facts.logPath}` : 'pass a log directory (and a higher log level) to see why',
    details: details as Record<string, unknown>,
  });
}

/** Folds a multi-line message into one line. */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
