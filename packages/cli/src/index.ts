/** The `dimmer` CLI as a library: `main(argv, io)` returns the exit code; the bin wires it to the process. */

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.ts';
export type { CliIo, OutputStream } from './io.ts';
export { buildProgram, CLI_VERSION, main } from './main.ts';
