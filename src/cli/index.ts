/** The command-line interface: `main(argv)` for tests and embedders, `runFromProcess()` for the binary (bin.ts). */
export { main, reportError, runFromProcess } from './main.js';
