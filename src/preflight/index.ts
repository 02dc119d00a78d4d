export { preflight } from './preflight.js';
export type { PreflightIssue, PreflightOptions, PreflightProcess, PreflightReport } from './types.js';
