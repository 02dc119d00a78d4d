// What a preflight collects (blockers, findings, the options that fix the dump) and the context every rule gets.
import type { TreeSnapshot } from './snapshot.js';
import type { PreflightIssue } from './types.js';

type Note = (pid: number, kind: string, message: string, fd?: number) => void;

export interface Issues {
  options: string[];
  blockers: PreflightIssue[];
  /** blockers are findings too */
  findings: PreflightIssue[];
  /** adds extra `cryo dump` argv once: a flag, or an option with its value as one unit ("--external unix[1]") */
  addOption(...argv: string[]): void;
  finding: Note;
  blocker: Note;
}

export interface RuleContext {
  tree: TreeSnapshot;
  issues: Issues;
  /** CRIU's ghost-file limit the dump will use, bytes */
  ghostLimit: number;
}

export function createIssues(): Issues {
  const options: string[] = [];
  const blockers: PreflightIssue[] = [];
  const findings: PreflightIssue[] = [];
  const issue = (pid: number, kind: string, message: string, fd?: number): PreflightIssue =>
    fd === undefined ? { pid, kind, message } : { pid, fd, kind, message };
  return {
    options,
    blockers,
    findings,
    addOption(...argv) {
      for (let i = 0; i < options.length; i++) {
        if (options[i] === argv[0] && (argv.length === 1 || options[i + 1] === argv[1])) return;
      }
      options.push(...argv);
    },
    finding(pid, kind, message, fd) {
      findings.push(issue(pid, kind, message, fd));
    },
    blocker(pid, kind, message, fd) {
      const i = issue(pid, kind, message, fd);
      blockers.push(i);
      findings.push(i);
    },
  };
}
