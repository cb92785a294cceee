import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ClusterErrorCode,
  ControlServer,
  ExitCode,
  Master,
  controlSocketPath,
  createLogger,
  logsToFiles,
  masterTitle,
  pidFilePath,
  setUpProcessLogs,
  type ClusterOptions,
  type Logger,
} from '@clutch/cluster';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/** Set by `app start --daemon` for the master it detaches: its launcher disconnects on purpose. */
export const DETACHED_ENV = 'CLUTCH_DETACHED';

export interface RunningMaster {
  master: Master;
  logger: Logger;
  /** Resolves once the cluster is ready; null when the start failed (the process is exiting). */
  ready: Promise<boolean>;
}

function describe(err: unknown): { code: string; message: string; cause?: string } {
  const e = err as Error & { code?: string; cause?: unknown };
  const cause = e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : undefined;
  return { code: e.code ?? 'UNKNOWN', message: e.message, ...(cause ? { cause } : {}) };
}

/**
 * A failed start as the app command prints it: the code and the message on one line, then where it
 * happened — the cause's stack, without its first line when that only repeats the message.
 */
export function failureText(failure: { code: string; message: string; cause?: string }): string {
  let where = '';
  if (failure.cause) {
    const [first = '', ...frames] = failure.cause.split('\n');
    const repeats = frames.length > 0 && failure.message.includes(first.replace(/^\w*Error: /, ''));
    where = repeats ? `${frames.join('\n')}\n` : `caused by: ${failure.cause}\n`;
  }
  return `[${failure.code}]: ${failure.message}\n${where}`;
}

/**
 * Runs a master in this process — the foreground of `app start`, a daemon's body, or `app dev` —
 * with everything around it: the control socket (opened first, so a second start of the same
 * project and title is refused before anything forks), stop signals, SIGUSR1, and the exit.
 */
export async function runMaster(options: Partial<ClusterOptions> & Pick<ClusterOptions, 'baseDir' | 'framework' | 'title'>): Promise<RunningMaster> {
  const logger = createLogger('master');
  setUpProcessLogs('master');
  // What `ps` shows, and what a pid file's reader checks before it trusts a pid.
  process.title = masterTitle(options.title);
  const master = new Master(options, logger);
  let control: ControlServer | null = null;
  let pidFile: string | null = null;
  const exit = (code: number) => {
    try {
      control?.close();
      if (pidFile) rmSync(pidFile, { force: true });
    } catch {
      // A read-only project (EROFS) keeps its pid file; the next reader finds it stale and says so.
    }
    process.exit(code);
  };

  let stopping = false;
  const stop = (timeout?: number) => {
    stopping = true;
    return master.stop(timeout).then(({ killed }) => ({ pid: process.pid, killed }));
  };
  control = await ControlServer.open(
    controlSocketPath(options.baseDir, options.title, (dir, why) =>
      logger.warn('[%s] not using %s for the control socket: %s', ClusterErrorCode.CONTROL_UNSAFE, dir, why),
    ),
    {
      status: () => master.status(),
      stop,
      reload: (o) => master.reload(o),
      scale: (n) => master.scale(n),
      profile: (target, kind, ms) => master.profile(target, kind, ms),
      afterStop: () => exit(ExitCode.OK),
    },
    logger,
  );

  // For tools that signal the master by pid (logrotate's postrotate, systemd's PIDFile).
  pidFile = pidFilePath(options.baseDir, options.title);
  try {
    mkdirSync(dirname(pidFile), { recursive: true });
    writeFileSync(pidFile, `${process.pid}\n`);
  } catch (err) {
    logger.warn('could not write %s: %s', pidFile, (err as Error).message);
    pidFile = null;
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info('received %s again; already stopping', signal);
      return;
    }
    logger.info('received %s, stopping', signal);
    void stop().then(() => exit(ExitCode.OK));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  // Started with an IPC channel by a parent (a test, a supervisor) that has gone away: nothing will
  // stop this cluster any more, so it stops itself. A daemon's launcher leaves on purpose.
  if (process.send && process.env[DETACHED_ENV] !== '1') {
    process.once('disconnect', () => {
      if (stopping) return;
      logger.warn('the parent process is gone; stopping');
      stopping = true;
      void stop().then(() => exit(ExitCode.OK));
    });
  }
  // logrotate signals the master: it reopens its own files (setUpProcessLogs) and tells its children.
  process.on('SIGUSR1', () => {
    if (logsToFiles()) master.reopenLogs();
  });
  // The master keeps the service up: a bug in its own code is logged loudly, not fatal. Were the
  // master to die anyway, its children notice the closed IPC channel and exit on their own.
  const uncaught = (err: unknown) => logger.error('[%s] %s', ClusterErrorCode.MASTER_UNCAUGHT, err);
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', uncaught);

  const ready = master.start().then(
    () => true,
    (err: unknown) => {
      // A signal during the start is a stop, not a failure: onSignal exits once everything is gone.
      if (stopping) return false;
      const failure = describe(err);
      // Said once: in the foreground on stderr (the child that failed did not log it: the master
      // reports it, with its stack); a daemon's in its log, which `app start --daemon` shows.
      const text = failureText(failure);
      if (logsToFiles()) logger.error('start failed %s', text.trimEnd());
      else process.stderr.write(`app start failed ${text}`);
      if (process.send && process.connected) {
        process.send({ action: 'cluster-failed', data: failure }, () => exit(ExitCode.START_FAILED));
      } else {
        exit(ExitCode.START_FAILED);
      }
      return false;
    },
  );
  return { master, logger, ready };
}
