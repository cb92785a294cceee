import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ExitCode, LOG_FORMAT_ENV } from '@clutch/cluster';
import { intFlag, parseFlags, sizeFlag } from '../args.js';
import { CliErrorCode, UsageError } from '../errors.js';
import { launchDaemon } from '../daemon.js';
import { configEnv, findProject, resolveFramework } from '../project.js';
import { runMaster } from '../run-master.js';

export const START_USAGE = `Usage: app start [dir] [options]

Starts the project in dir (default: the current directory): a master, one agent and the app
workers. In the foreground by default: Ctrl-C, SIGTERM or SIGQUIT stop it gracefully.

Options:
  --port N            HTTP port (0 takes a free one); wins over config.cluster.listen
  --workers N         number of app workers (default: the number of CPUs)
  --max-workers N     the most workers app scale may ask for (default: 4 per CPU, at least --workers)
  --env NAME          config environment (default: $CLUTCH_ENV, else $EGG_SERVER_ENV, else prod)
  --title NAME        the cluster's title (default: the project's package name)
  --daemon            run in the background, logging to <dir>/logs; return once it is ready
  --timeout MS        how long the whole start may take (default: 60000)
  --stop-timeout MS   how long each process may take to stop before SIGKILL (default: 10000)
  --health-port N     serve /livez, /readyz and /metrics on this port (0 takes a free one)
  --drain-delay MS    on a stop, /readyz answers 503 and the workers keep serving this long first (default: 0)
  --stall-timeout MS  replace a worker or agent whose event loop is silent this long (default: 30000; 0: off)
  --max-memory SIZE   recycle a worker whose RSS stays above SIZE (bytes, or 512MB, 1GB)
  --log-format F      text (default) or json: one JSON object per line, from every process
  --scheduling S      rr (default: the master hands connections round) or os (the kernel picks)
  --reuse-port        a SO_REUSEPORT socket per worker (Linux, Node >= 22.12)
  --sticky            sticky sessions: one client address, one worker slot (round-robin only)
  --env-file PATH     variables for every process, in Node's .env format; repeatable (a later file
                      wins), re-read by app reload; a variable already in the environment wins
  -h, --help          show this help

Flags win over the project's config (config.cluster.health, drainDelay, stallTimeout, maxMemory,
config.logger.format, cluster.scheduling, cluster.listen.reusePort, cluster.sticky).`;

const VALUE_FLAGS = [
  'port',
  'workers',
  'max-workers',
  'env',
  'title',
  'timeout',
  'stop-timeout',
  'health-port',
  'drain-delay',
  'stall-timeout',
  'max-memory',
  'log-format',
  'scheduling',
] as const;

/** `app start`: runs the master in this process until a signal or `app stop` stops it. */
export async function start(args: string[]): Promise<number | null> {
  const { values, positionals } = parseFlags(
    args,
    {
      port: { type: 'string' },
      workers: { type: 'string' },
      'max-workers': { type: 'string' },
      env: { type: 'string' },
      title: { type: 'string' },
      daemon: { type: 'boolean' },
      timeout: { type: 'string' },
      'stop-timeout': { type: 'string' },
      'health-port': { type: 'string' },
      'drain-delay': { type: 'string' },
      'stall-timeout': { type: 'string' },
      'max-memory': { type: 'string' },
      'log-format': { type: 'string' },
      scheduling: { type: 'string' },
      'reuse-port': { type: 'boolean' },
      sticky: { type: 'boolean' },
      'env-file': { type: 'string', multiple: true },
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
  const maxWorkers = intFlag('max-workers', values['max-workers'], workers, 4096);
  const startTimeout = intFlag('timeout', values.timeout, 1);
  const stopTimeout = intFlag('stop-timeout', values['stop-timeout'], 1);
  const healthPort = intFlag('health-port', values['health-port'], 0, 65535);
  const drainDelay = intFlag('drain-delay', values['drain-delay'], 0);
  const stallTimeout = intFlag('stall-timeout', values['stall-timeout'], 0);
  const maxMemory = sizeFlag('max-memory', values['max-memory']);
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') {
    throw new UsageError(CliErrorCode.BAD_VALUE, `--log-format must be text or json, got ${JSON.stringify(logFormat)}`);
  }
  const scheduling = values.scheduling;
  if (scheduling !== undefined && scheduling !== 'rr' && scheduling !== 'os') {
    throw new UsageError(CliErrorCode.BAD_VALUE, `--scheduling must be rr or os, got ${JSON.stringify(scheduling)}`);
  }
  // Every process reads it from the environment, from its first line on (the master's too).
  if (logFormat) process.env[LOG_FORMAT_ENV] = logFormat;
  // Relative to where the command runs, as any path on a command line.
  const envFiles = values['env-file']?.map((file) => resolve(file));
  const project = findProject(positionals[0]);
  const framework = resolveFramework(project.baseDir);

  if (values.daemon) {
    const forward = [project.baseDir];
    for (const name of VALUE_FLAGS) if (values[name] !== undefined) forward.push(`--${name}`, String(values[name]));
    if (values['reuse-port']) forward.push('--reuse-port');
    if (values.sticky) forward.push('--sticky');
    for (const file of envFiles ?? []) forward.push('--env-file', file);
    return launchDaemon(project.baseDir, forward);
  }

  // Relative paths in the project's code mean the project's folder, as with egg and pm2.
  process.chdir(project.baseDir);
  await runMaster({
    baseDir: project.baseDir,
    framework,
    workers,
    env: configEnv(values.env, 'prod'),
    title: values.title ?? project.name,
    ...(port !== undefined ? { port } : {}),
    ...(maxWorkers !== undefined ? { maxWorkers } : {}),
    ...(startTimeout !== undefined ? { startTimeout } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    ...(healthPort !== undefined ? { healthPort } : {}),
    ...(drainDelay !== undefined ? { drainDelay } : {}),
    ...(stallTimeout !== undefined ? { stallTimeout } : {}),
    ...(maxMemory !== undefined ? { maxMemory } : {}),
    ...(scheduling ? { scheduling } : {}),
    ...(values['reuse-port'] ? { reusePort: true } : {}),
    ...(values.sticky ? { sticky: true } : {}),
    ...(envFiles ? { envFiles } : {}),
  });
  return null;
}
