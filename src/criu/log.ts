// Reading CRIU's log: the raw error and warning lines, for failure reports and plain-words explanations.
// Lines look like "(00.012345) Error (criu/cr-dump.c:1234): Can't ..." or, from a restored task,
// "(00.012345)      7: Error (criu/files.c:12): ...". Data stays raw: callers decide what to show.
import { readFileSync } from 'node:fs';

export interface CriuLog {
  /** "Error (" lines, in log order, raw (timestamp and pid prefix kept); harmless lines left out */
  errors: string[];
  /** "Warn (" lines, raw; harmless lines left out */
  warnings: string[];
  /** every line of the log */
  lines: string[];
}

const ERROR_RE = /\bError\s+\(/;
const WARN_RE = /\bWarn\s+\(/;

/** Lines every CRIU run on these machines prints that never explain a failure. */
const HARMLESS: RegExp[] = [/rlimit: Can't setup RLIMIT_NOFILE/];

export function isHarmlessLogLine(line: string): boolean {
  return HARMLESS.some((re) => re.test(line));
}

/** Classifies the lines of a CRIU log text. */
export function parseCriuLog(text: string): CriuLog {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const line of lines) {
    if (isHarmlessLogLine(line)) continue;
    if (ERROR_RE.test(line)) errors.push(line);
    else if (WARN_RE.test(line)) warnings.push(line);
  }
  return { errors, warnings, lines };
}

/** Reads and classifies a CRIU log file; an absent or unreadable file gives an empty log. */
export function readCriuLog(path: string): CriuLog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { errors: [], warnings: [], lines: [] };
  }
  return parseCriuLog(text);
}

/** The first `n` real error lines of a CRIU log text (never the harmless RLIMIT_NOFILE line). */
export function firstErrors(text: string, n = 5): string[] {
  return parseCriuLog(text).errors.slice(0, n);
}

/** The message part of a log line: "Error (criu/x.c:1): Can't foo" → "Can't foo". */
export function logMessage(line: string): string {
  line = line.trim().split('\n')[0];
  const m = /\b(?:Error|Warn)\s+\([^)]*\):\s*(.*)$/.exec(line);
  return (m ? m[1] : line.replace(/^\(\s*[\d.]+\)\s*(?:\d+:\s*)?/, '')).trim();
}
