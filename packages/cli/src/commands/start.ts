import { availableParallelism } from 'node:os';
import { ExitCode } from '@clutch/cluster';
import { intFlag, parseFlags } from '../args.js';
import { launchDaemon } from '../daemon.js';
import { findProject, resolveFramework } from '../project.js';
import { runMaster } from '../run-master.js';

export const START_USAGE = `Usage: app start [dir] [options]

Starts the project in dir (default: the current directory): a master, one agent and the app
workers. In the foreground by default: Ctrl-C, SIGTERM or SIGQUIT stop it gracefully.

Options:
  --port N            HTTP port (0 takes a free one); wins over config.cluster.listen
  --workers N         number of app workers (default: the number of CPUs)
  --env NAME          config environment (default: $CLUTCH_ENV, else prod)
  --title NAME        the cluster's title (default: the project's package name)
  --daemon            run in the background, logging to <dir>/logs; return once it is ready
  --timeout MS        how long the whole start may take (default: 60000)
  --stop-timeout MS   how long each process may take to stop before SIGKILL (default: 10000)
  -h, --help          show this help`;

const VALUE_FLAGS = ['port', 'workers', 'env', 'title', 'timeout', 'stop-timeout'] as const;

/** `app start`: runs the master in this process until a signal or `app stop` stops it. */
export async function start(args: string[]): Promise<number | null> {
  const { values, positionals } = parseFlags(
    args,
    {
      port: { type: 'string' },
      workers: { type: 'string' },
      env: { type: 'string' },
      title: { type: 'string' },
      daemon: { type: 'boolean' },
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

  if (values.daemon) {
    const forward = [project.baseDir];
    for (const name of VALUE_FLAGS) if (values[name] !== undefined) forward.push(`--${name}`, String(values[name]));
    return launchDaemon(project.baseDir, forward);
  }

  // Relative paths in the project's code mean the project's folder, as with egg and pm2.
  process.chdir(project.baseDir);
  await runMaster({
    baseDir: project.baseDir,
    framework,
    workers,
    env: values.env ?? process.env.CLUTCH_ENV ?? 'prod',
    title: values.title ?? project.name,
    ...(port !== undefined ? { port } : {}),
    ...(startTimeout !== undefined ? { startTimeout } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
  });
  return null;
}
