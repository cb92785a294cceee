import { ExitCode } from '@clutch/cluster';
import { start, START_USAGE } from './commands/start.js';
import { CliErrorCode, UsageError } from './errors.js';

const USAGE = `Usage: app <command> [dir] [options]

Commands:
  start    start the project's cluster in the foreground

Run "app <command> --help" for a command's options.`;

type Command = (args: string[]) => Promise<number | null>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  start: { run: start, usage: START_USAGE },
};

/**
 * Runs the `app` command. Resolves when the command has decided its exit code; a command that
 * keeps running (a foreground cluster) resolves with null and exits on its own later.
 */
export async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exitCode = name === undefined ? ExitCode.USAGE : ExitCode.OK;
    return;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(CliErrorCode.UNKNOWN_COMMAND, `Unknown command ${JSON.stringify(name)}`);
    const code = await command.run(args);
    if (code !== null) process.exit(code);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`app: ${err.message} [${err.code}]\n\n${command?.usage ?? USAGE}\n`);
      process.exit(ExitCode.USAGE);
    }
    const e = err as Error & { code?: string };
    process.stderr.write(`app ${name} failed [${e.code ?? 'UNKNOWN'}]: ${e.stack ?? e.message}\n`);
    process.exit(ExitCode.START_FAILED);
  }
}
