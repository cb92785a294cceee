import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_LOG, ExitCode, LOG_DIR_ENV, type ParentMessage } from '@clutch/cluster';
import { DETACHED_ENV, failureText } from './run-master.js';

const APP_BIN = fileURLToPath(new URL('../bin/app.js', import.meta.url));

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * `app start --daemon`: runs `app start` (without --daemon) detached, in its own session, with
 * every process logging to files under <dir>/logs. Resolves with the exit code once the cluster is
 * ready (0, the URL printed) or has failed (the error printed).
 */
export function launchDaemon(baseDir: string, startArgs: string[]): Promise<number> {
  const logs = join(baseDir, 'logs');
  mkdirSync(logs, { recursive: true, mode: 0o750 });
  // Raw output that bypasses the loggers (a crash report printed by Node itself) lands here.
  const raw = openSync(join(logs, 'stdout.log'), 'a', 0o640);
  // The node flags `app start` was run with (--max-old-space-size, --enable-source-maps, …) hold
  // for the daemon too; the master passes them on to its children.
  const child = spawn(process.execPath, [...process.execArgv, APP_BIN, 'start', ...startArgs], {
    cwd: baseDir,
    detached: true,
    stdio: ['ignore', raw, raw, 'ipc'],
    env: { ...process.env, [LOG_DIR_ENV]: logs, [DETACHED_ENV]: '1' },
  });
  return new Promise((resolve) => {
    child.on('message', (message: ParentMessage) => {
      if (message.action === 'cluster-ready') {
        const { url, pid, agent, workers, health } = message.data;
        process.stdout.write(
          `started on ${url} (${health ? `health on ${health}; ` : ''}daemon master ${pid}, agent ${agent}, ${workers.length} workers); logs in ${logs}\n`,
        );
        child.disconnect();
        child.unref();
        resolve(ExitCode.OK);
      } else if (message.action === 'cluster-failed') {
        process.stderr.write(`app start failed ${failureText(message.data)}logs in ${logs}\n`);
        resolve(ExitCode.START_FAILED);
      }
    });
    child.once('exit', (code) => {
      const last = tail(join(logs, ERROR_LOG), 20) || tail(join(logs, 'stdout.log'), 20);
      process.stderr.write(`app start failed: the daemon exited with code ${code} before it was ready\n${last}\nlogs in ${logs}\n`);
      resolve(code === ExitCode.USAGE ? ExitCode.USAGE : ExitCode.START_FAILED);
    });
  });
}
