import { runTop, type TopIO } from './runTop.js';

/** Usage text of the `tickwork` command. */
export const CLI_USAGE = `Usage: tickwork <command> [options]

Commands:
  top [url]   live table of a process's diagnostics, latest first (--once for scripts)

Run \`tickwork top --help\` for its options.
`;

/**
 * The `tickwork` command line: dispatches `argv` (the arguments after the
 * program name) to a command. `bin/tickwork.js` calls it with
 * `process.argv.slice(2)` and exits with the code it returns.
 *
 * @param argv - command and its arguments, e.g. `['top', '--once']`
 * @param io - passed to the command; defaults to the real process's streams
 * @returns the exit code: 0 success, 1 failure, 2 bad usage
 */
export async function runCli(argv: readonly string[], io: Partial<TopIO> = {}): Promise<number> {
  const [command, ...rest] = argv;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  if (command === 'top') return runTop(rest, io);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? stderr : stdout).write(CLI_USAGE);
    return command === undefined ? 2 : 0;
  }
  stderr.write(`tickwork: unknown command ${JSON.stringify(command)}\n\n${CLI_USAGE}`);
  return 2;
}
