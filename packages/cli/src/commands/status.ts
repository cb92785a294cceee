import { ClusterErrorCode, ExitCode, type ClusterStatus, type ProcessStatus } from '@clutch/cluster';
import { parseFlags } from '../args.js';
import { findProject } from '../project.js';
import { askMaster } from '../reach-master.js';

export const STATUS_USAGE = `Usage: app status [dir] [options]

Shows the master, the agent and the workers of the cluster started from dir: pid, state, uptime,
restarts, memory and log lines dropped. Exits 3 when no such cluster runs, 4 when it runs but
cannot be reached from here (another user's).

Options:
  --title NAME    the cluster's title (default: the project's package name)
  --json          print { "master": {…}, "agent": {…}, "workers": [ … ] }
  -h, --help      show this help`;

/** The exit code of `status` when nothing runs (as LSB init scripts do). */
export const NOT_RUNNING_EXIT = 3;

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function row(role: string, p: ProcessStatus, drops: boolean): string {
  const mem = p.rss === null ? '-' : `${(p.rss / 1024 / 1024).toFixed(1)} MB`;
  const cells = [role.padEnd(10), String(p.pid).padEnd(8), p.state.padEnd(10), duration(p.uptime).padEnd(8), String(p.restarts).padEnd(9), mem.padEnd(10)];
  if (drops) cells.push(p.logs.dropped > 0 ? `${p.logs.dropped} (${p.logs.lastError ?? '?'})` : '0');
  return cells.join(' ').trimEnd();
}

export async function status(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { title: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, 1);
  if (values.help) {
    process.stdout.write(`${STATUS_USAGE}\n`);
    return ExitCode.OK;
  }
  const project = findProject(positionals[0]);
  const title = values.title ?? project.name;
  let s: ClusterStatus;
  try {
    s = (await askMaster(project.baseDir, title, { cmd: 'status' }, 10_000)) as ClusterStatus;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === ClusterErrorCode.UNREACHABLE) {
      process.stderr.write(`app status failed [${e.code}]: ${e.message}\n`);
      return ExitCode.UNREACHABLE;
    }
    if (e.code !== ClusterErrorCode.NOT_RUNNING) throw err;
    process.stderr.write(`${title} is not running (${project.baseDir})\n`);
    return NOT_RUNNING_EXIT;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return ExitCode.OK;
  }
  const all = [s.master, ...(s.agent ? [s.agent] : []), ...s.workers];
  // The column appears only once some process could not write its logs.
  const drops = all.some((p) => p.logs.dropped > 0);
  const lines = [
    `${s.master.title} (${s.master.env}) ${s.master.url ?? ''}  ${s.master.baseDir}`,
    ['role'.padEnd(10), 'pid'.padEnd(8), 'state'.padEnd(10), 'uptime'.padEnd(8), 'restarts'.padEnd(9), 'memory'.padEnd(10), ...(drops ? ['logs dropped'] : [])].join(' ').trimEnd(),
    row('master', s.master, drops),
    ...(s.agent ? [row('agent', s.agent, drops)] : []),
    ...s.workers.map((w) => row(`worker ${w.slot}`, w, drops)),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.OK;
}
