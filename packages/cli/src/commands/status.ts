import { ClusterErrorCode, ExitCode, type ClusterStatus, type ProcessStatus } from '@clutch/cluster';
import { intFlag, parseFlags } from '../args.js';
import { findProject } from '../project.js';
import { askMaster } from '../reach-master.js';
import { exitCodeOf } from '../exit-code-of.js';

export const STATUS_USAGE = `Usage: app status [dir] [options]

Shows the master, the agent and the workers of the cluster started from dir: pid, state, uptime,
restarts and the reason of the last one, memory, CPU, event-loop delay, and log lines dropped.
Exits 3 when no such cluster runs, 4 when it runs but cannot be reached from here (another user's).

Options:
  --title NAME    the cluster's title (default: the project's package name)
  --json          print { "master": {…}, "agent": {…}, "workers": [ … ] }
  --watch         redraw the table in place every second (or --interval MS) until Ctrl-C
  -h, --help      show this help`;

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

const COLUMNS = [
  ['role', 10],
  ['pid', 8],
  ['state', 16],
  ['uptime', 8],
  ['restarts', 16],
  ['memory', 10],
  ['cpu', 7],
  ['loop p99', 9],
] as const;

function row(role: string, p: ProcessStatus, drops: boolean): string {
  const restarts = p.restarts > 0 || p.lastRestart ? `${p.restarts}${p.lastRestart ? ` (${p.lastRestart.reason})` : ''}` : '0';
  const cells = [
    role,
    String(p.pid),
    !p.responsive ? `${p.state} (silent)` : p.shed?.active ? `${p.state} (shedding)` : p.state,
    duration(p.uptime),
    restarts,
    p.rss === null ? '-' : `${(p.rss / 1024 / 1024).toFixed(1)} MB`,
    p.cpu === null ? '-' : `${p.cpu.toFixed(0)}%`,
    p.loopDelay === null ? '-' : `${p.loopDelay.p99.toFixed(1)} ms`,
  ].map((cell, i) => cell.padEnd(COLUMNS[i]![1]));
  if (drops) cells.push(p.logs.dropped > 0 ? `${p.logs.dropped} (${p.logs.lastError ?? '?'})` : '0');
  return cells.join(' ').trimEnd();
}

function table(s: ClusterStatus): string {
  const all = [s.master, ...(s.agent ? [s.agent] : []), ...s.workers];
  // The column appears only once some process could not write its logs.
  const drops = all.some((p) => p.logs.dropped > 0);
  const head = [...COLUMNS.map(([name, width]) => name.padEnd(width)), ...(drops ? ['logs dropped'] : [])].join(' ').trimEnd();
  const leader = s.leader
    ? `this cluster ${s.leader.leading ? `leads (token ${s.leader.token})` : 'does not lead'}; ${s.leader.store} store`
    : 'leadership unknown: no agent is up';
  return [
    `${s.master.title} (${s.master.env}) ${s.master.url ?? ''}${s.master.health ? `  health ${s.master.health}` : ''}  ${s.master.baseDir}`,
    leader,
    head,
    row('master', s.master, drops),
    ...(s.agent ? [row('agent', s.agent, drops)] : []),
    ...s.workers.map((w) => row(`worker ${w.slot}`, w, drops)),
  ].join('\n');
}

export async function status(args: string[]): Promise<number | null> {
  const { values, positionals } = parseFlags(
    args,
    { title: { type: 'string' }, json: { type: 'boolean' }, watch: { type: 'boolean' }, interval: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    1,
  );
  if (values.help) {
    process.stdout.write(`${STATUS_USAGE}\n`);
    return ExitCode.OK;
  }
  const every = values.watch ? (intFlag('interval', values.interval, 100) ?? 1_000) : 0;
  const project = findProject(positionals[0]);
  const title = values.title ?? project.name;
  const read = async (): Promise<ClusterStatus | number> => {
    try {
      return (await askMaster(project.baseDir, title, { cmd: 'status' }, 10_000)) as ClusterStatus;
    } catch (err) {
      const e = err as Error & { code?: string };
      const code = exitCodeOf(err, 'status');
      if (code === null) throw err;
      if (e.code === ClusterErrorCode.NOT_RUNNING) process.stderr.write(`${title} is not running (${project.baseDir})\n`);
      else process.stderr.write(`app status failed [${e.code}]: ${e.message}\n`);
      return code;
    }
  };
  const first = await read();
  if (typeof first === 'number') return first;
  if (values.json) {
    process.stdout.write(`${JSON.stringify(first, null, 2)}\n`);
    return ExitCode.OK;
  }
  if (!every) {
    process.stdout.write(`${table(first)}\n`);
    return ExitCode.OK;
  }
  // A live view: the whole screen is redrawn in place; a cluster that stops ends it.
  const draw = (s: ClusterStatus) => process.stdout.write(`\x1b[H\x1b[2J${table(s)}\n\n(every ${every} ms; Ctrl-C to quit)\n`);
  draw(first);
  for (;;) {
    await new Promise((r) => setTimeout(r, every));
    const next = await read();
    if (typeof next === 'number') return next;
    draw(next);
  }
}
