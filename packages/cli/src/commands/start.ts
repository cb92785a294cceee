import { availableParallelism } from 'node:os';
import { ClusterErrorCode, ExitCode, Master, createLogger } from '@clutch/cluster';
import { intFlag, parseFlags } from '../args.js';
import { findProject, resolveFramework } from '../project.js';

export const START_USAGE = `Usage: app start [dir] [options]

Starts the project in dir (default: the current directory) in the foreground: a master, one agent
and the app workers. Ctrl-C, SIGTERM or SIGQUIT stop it gracefully.

Options:
  --port N            HTTP port (0 takes a free one); wins over config.cluster.listen.port
  --workers N         number of app workers (default: the number of CPUs)
  --env NAME          config environment (default: $CLUTCH_ENV, else prod)
  --title NAME        the cluster's title (default: the project's package name)
  --timeout MS        how long the whole start may take (default: 60000)
  --stop-timeout MS   how long each process may take to stop before SIGKILL (default: 10000)
  -h, --help          show this help`;

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/** `app start`: runs the master in this process until a signal stops it. */
export async function start(args: string[]): Promise<number | null> {
  const { values, positionals } = parseFlags(
    args,
    {
      port: { type: 'string' },
      workers: { type: 'string' },
      env: { type: 'string' },
      title: { type: 'string' },
      timeout: { type: 'string' },
      'stop-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    1,
  );
  if (values.help) {
    process.stdout.write(`${START_USAGE}\n`);
    return ExitCode.OK;
  }
  const port = intFlag('port', values.port, 0, 65535);
  const workers = intFlag('workers', values.workers, 1, 1024) ?? availableParallelism();
  const startTimeout = intFlag('timeout', values.timeout, 1);
  const stopTimeout = intFlag('stop-timeout', values['stop-timeout'], 1);
  const project = findProject(positionals[0]);
  const framework = resolveFramework(project.baseDir);
  // Relative paths in the project's code mean the project's folder, as with egg and pm2.
  process.chdir(project.baseDir);

  const logger = createLogger('master');
  const master = new Master(
    {
      baseDir: project.baseDir,
      framework,
      workers,
      env: values.env ?? process.env.CLUTCH_ENV ?? 'prod',
      title: values.title ?? project.name,
      ...(port !== undefined ? { port } : {}),
      ...(startTimeout !== undefined ? { startTimeout } : {}),
      ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    },
    logger,
  );

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info('received %s again; already stopping', signal);
      return;
    }
    stopping = true;
    logger.info('received %s, stopping', signal);
    void master.stop().then(() => process.exit(ExitCode.OK));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  // The master keeps the service up: a bug in its own code is logged loudly, not fatal. Were the
  // master to die anyway, its children notice the closed IPC channel and exit on their own.
  const uncaught = (err: unknown) => logger.error('[%s] %s', ClusterErrorCode.MASTER_UNCAUGHT, err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', uncaught);

  try {
    await master.start();
  } catch (err) {
    // A signal during the start is a stop, not a failure: onSignal exits once everything is gone.
    if (stopping) return null;
    const e = err as Error & { code?: string; cause?: unknown };
    const cause = e.cause instanceof Error ? e.cause : undefined;
    process.stderr.write(`app start failed [${e.code ?? 'UNKNOWN'}]: ${e.message}\n`);
    if (cause?.stack) process.stderr.write(`caused by: ${cause.stack}\n`);
    return ExitCode.START_FAILED;
  }
  return null;
}
