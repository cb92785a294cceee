import { ExitCode } from '@clutch/cluster';
import { CliErrorCode, UsageError } from './errors.js';

const USAGE = `Usage: app <command> [dir] [options]

Commands:
  start    start the project's cluster (in the foreground, or --daemon)
  stop     stop the cluster started from a directory
  reload   replace every worker and the agent with the code now on disk, losing no request
  status   show the cluster's processes
  scale    run more or fewer workers, losing no request
  profile  take a CPU profile or heap snapshot of a running process
  dev      run one worker and reload on every file change
  typings  write typings/clutch.d.ts: the project's controllers, services, config and extends, typed

Run "app <command> --help" for a command's options.`;

interface Command {
  run(args: string[]): Promise<number | null>;
  usage: string;
}

/** Each command's module is loaded only when it runs: the master (`app start`) carries no other. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: () => import('./commands/start.js').then((m) => ({ run: m.start, usage: m.START_USAGE })),
  stop: () => import('./commands/stop.js').then((m) => ({ run: m.stop, usage: m.STOP_USAGE })),
  reload: () => import('./commands/reload.js').then((m) => ({ run: m.reload, usage: m.RELOAD_USAGE })),
  status: () => import('./commands/status.js').then((m) => ({ run: m.status, usage: m.STATUS_USAGE })),
  scale: () => import('./commands/scale.js').then((m) => ({ run: m.scale, usage: m.SCALE_USAGE })),
  profile: () => import('./commands/profile.js').then((m) => ({ run: m.profile, usage: m.PROFILE_USAGE })),
  dev: () => import('./commands/dev.js').then((m) => ({ run: m.dev, usage: m.DEV_USAGE })),
  typings: () => import('./commands/typings.js').then((m) => ({ run: m.typings, usage: m.TYPINGS_USAGE })),
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
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  const command = load ? await load() : undefined;
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
    // A coded error says what and where; anything else is a bug worth its stack.
    const text = e.code?.startsWith('CLUTCH_ERR_') ? e.message : (e.stack ?? e.message);
    process.stderr.write(`app ${name} failed [${e.code ?? 'UNKNOWN'}]: ${text}\n`);
    if (process.send && process.connected) {
      // A daemon's launcher waits for this.
      process.send({ action: 'cluster-failed', data: { code: e.code ?? 'UNKNOWN', message: e.message } }, () => process.exit(ExitCode.START_FAILED));
      return;
    }
    process.exit(ExitCode.START_FAILED);
  }
}
