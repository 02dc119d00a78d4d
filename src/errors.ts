/** Exit codes shared by the CLI and the library's errors (listed in the README). */
export const ExitCode = {
  OK: 0,
  /** the operation failed (CRIU refused, nothing found, ...) */
  FAILED: 1,
  /** bad command line or options */
  USAGE: 2,
  /** environment: not root, no working CRIU, missing kernel feature */
  ENVIRONMENT: 3,
  /** bad, truncated or unsupported image or archive */
  BAD_IMAGE: 4,
  /** `cryo check --pid`: the tree is dumpable, but only with the extra options it prints */
  DUMPABLE_WITH_OPTIONS: 5,
  /** `cryo check --pid`: the tree is not dumpable; a blocker no option fixes */
  BLOCKED: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Machine-readable error kinds; each maps to one exit code. */
export type ErrorCode =
  | 'USAGE'
  | 'NO_CRIU'
  | 'NOT_ROOT'
  | 'ENVIRONMENT'
  | 'NO_PROCESS'
  | 'EXISTS'
  | 'NOT_FOUND'
  | 'DUMP_FAILED'
  | 'RESTORE_FAILED'
  | 'RPC'
  | 'FAILED'
  | 'BAD_IMAGE'
  | 'BAD_ARCHIVE';

const EXIT_BY_CODE: Record<ErrorCode, ExitCode> = {
  USAGE: ExitCode.USAGE,
  NO_CRIU: ExitCode.ENVIRONMENT,
  NOT_ROOT: ExitCode.ENVIRONMENT,
  ENVIRONMENT: ExitCode.ENVIRONMENT,
  NO_PROCESS: ExitCode.FAILED,
  EXISTS: ExitCode.FAILED,
  NOT_FOUND: ExitCode.FAILED,
  DUMP_FAILED: ExitCode.FAILED,
  RESTORE_FAILED: ExitCode.FAILED,
  RPC: ExitCode.FAILED,
  FAILED: ExitCode.FAILED,
  BAD_IMAGE: ExitCode.BAD_IMAGE,
  BAD_ARCHIVE: ExitCode.BAD_IMAGE,
};

export interface CryoErrorOptions {
  /** what to do about it, one line */
  hint?: string;
  cause?: unknown;
  /** structured facts (file, offset, CRIU errno, log path, ...) for --json and callers */
  details?: Record<string, unknown>;
  /** override the exit code derived from `code` */
  exitCode?: ExitCode;
}

/** The one error type of cryo: a short first line, a hint, the cause, details. */
export class CryoError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details: Record<string, unknown>;
  readonly exitCode: ExitCode;

  constructor(code: ErrorCode, message: string, options: CryoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CryoError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
    this.exitCode = options.exitCode ?? EXIT_BY_CODE[code];
  }

  /** What a failing `--json` command prints: `{"error": {code, message, hint, exitCode, ...details}}`. */
  toJSON(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { code: this.code, message: this.message, hint: this.hint ?? null, exitCode: this.exitCode };
    // details never override the four named keys
    for (const [k, v] of Object.entries(this.details)) if (!(k in error)) error[k] = v;
    return { error };
  }
}

export function isCryoError(e: unknown): e is CryoError {
  return e instanceof CryoError;
}

/** Shorthand for option validation failures: "expected X, got Y". */
export function usageError(message: string, hint?: string): CryoError {
  return new CryoError('USAGE', message, { hint });
}
