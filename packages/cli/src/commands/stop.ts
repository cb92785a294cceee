import { ClusterErrorCode, ExitCode } from '@clutch/cluster';
import { intFlag, parseFlags } from '../args.js';
import { findProject } from '../project.js';
import { askMaster } from '../reach-master.js';
import { exitCodeOf } from '../exit-code-of.js';
import { waitForExit } from '../wait-exit.js';

export const STOP_USAGE = `Usage: app stop [dir] [options]

Stops, gracefully, the cluster started from dir (default: the current directory) with the same
title. Touches no other project's processes. Exits 0 once every process is gone (or when none
runs); 6 when it is gone but a process had to be killed past the timeout; 4 when the cluster runs
but cannot be reached from here (another user's).

Options:
  --title NAME    the cluster's title (default: the project's package name)
  --timeout MS    how long each process may take to stop before SIGKILL (default: the cluster's --stop-timeout)
  -h, --help      show this help`;

export async function stop(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { title: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 1);
  if (values.help) {
    process.stdout.write(`${STOP_USAGE}\n`);
    return ExitCode.OK;
  }
  const timeout = intFlag('timeout', values.timeout, 1);
  const project = findProject(positionals[0]);
  const title = values.title ?? project.name;
  try {
    // The master answers once its children are gone; allow for every worker, then the agent.
    const reply = (await askMaster(project.baseDir, title, { cmd: 'stop', ...(timeout ? { timeout } : {}) }, 10 * 60_000)) as {
      pid: number;
      killed?: Array<{ role: string; pid: number }>;
    };
    await waitForExit(reply.pid, 10_000);
    process.stdout.write(`stopped ${title} (master ${reply.pid})\n`);
    const killed = reply.killed ?? [];
    if (killed.length === 0) return ExitCode.OK;
    // Not a clean stop: what those processes had in flight was cut. A deploy script should know.
    process.stderr.write(
      `app stop: ${killed.map((k) => `${k.role} ${k.pid}`).join(', ')} did not stop within the stop timeout and had to be killed (SIGKILL); raise --timeout (or --stop-timeout) if its work needs longer\n`,
    );
    return ExitCode.STOP_FORCED;
  } catch (err) {
    const e = err as Error & { code?: string };
    const code = exitCodeOf(err, 'stop');
    if (code === null) throw err;
    if (e.code === ClusterErrorCode.NOT_RUNNING) process.stdout.write(`${title} is not running (${project.baseDir})\n`);
    else process.stderr.write(`app stop failed [${e.code}]: ${e.message}\n`);
    return code;
  }
}
