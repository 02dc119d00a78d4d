export { CryoError, ExitCode } from './errors.js';
