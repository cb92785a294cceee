import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, type ProfileResult, type ProfileTarget } from '@clutch/cluster';
import { durationFlag, intFlag, parseFlags } from '../args.js';
import { CliErrorCode, UsageError } from '../errors.js';
import { exitCodeOf } from '../exit-code-of.js';
import { findProject } from '../project.js';
import { askMaster } from '../reach-master.js';

export const PROFILE_USAGE = `Usage: app profile [dir] (--worker SLOT | --agent | --master) [--cpu DURATION | --heap] [options]

Takes a CPU profile (sampled for DURATION, 10s by default, from 100ms to 10m) or a heap snapshot
of one running process of the cluster started from dir, through node:inspector inside it: no
--inspect, no port, no restart. The process keeps serving while a CPU profile is taken; a heap
snapshot pauses it while V8 writes it. The file opens in Chrome DevTools (Performance or Memory
tab) and is written readable by you only (a heap snapshot holds whatever the process holds).
Prints the file's path. Exits 1 when the process does not run or the profile failed, 3 when no
such cluster runs, 4 when it runs but cannot be reached from here (another user's).

Options:
  --worker SLOT   the worker in that slot (as app status shows it: worker 0, worker 1, …)
  --agent         the agent
  --master        the master
  --cpu DURATION  a CPU profile, sampled this long (2s, 500ms, 1m): a .cpuprofile (the default)
  --heap          a heap snapshot instead: a .heapsnapshot
  --out FILE      where to write it (default: <title>-<process>-<pid>-<time>.<ext> here)
  --title NAME    the cluster's title (default: the project's package name)
  -h, --help      show this help`;

export async function profile(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      worker: { type: 'string' },
      agent: { type: 'boolean' },
      master: { type: 'boolean' },
      cpu: { type: 'string' },
      heap: { type: 'boolean' },
      out: { type: 'string' },
      title: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    1,
  );
  if (values.help) {
    process.stdout.write(`${PROFILE_USAGE}\n`);
    return ExitCode.OK;
  }
  const chosen = [values.worker !== undefined, values.agent === true, values.master === true].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError(CliErrorCode.BAD_VALUE, 'app profile needs exactly one of --worker SLOT, --agent and --master');
  if (values.heap && values.cpu !== undefined) throw new UsageError(CliErrorCode.BAD_VALUE, '--cpu and --heap take different files: ask for one at a time');
  const target: ProfileTarget = values.agent ? 'agent' : values.master ? 'master' : intFlag('worker', values.worker, 0)!;
  const kind = values.heap ? 'heap' : 'cpu';
  const durationMs = durationFlag('cpu', values.cpu);
  const project = findProject(positionals[0]);
  const title = values.title ?? project.name;
  let result: ProfileResult;
  try {
    // The sampling time, then as long as a large snapshot may take to be carried.
    result = (await askMaster(
      project.baseDir,
      title,
      { cmd: 'profile', target, kind, ...(durationMs ? { durationMs } : {}) },
      (durationMs ?? 10_000) + 300_000,
    )) as ProfileResult;
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`app profile failed [${e.code ?? 'UNKNOWN'}]: ${e.message}\n`);
    return exitCodeOf(err, 'profile') ?? ExitCode.START_FAILED;
  }
  const who = result.role === 'worker' ? `worker${result.slot}` : result.role;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = resolve(values.out ?? `${title.replace(/[^\w.-]/g, '_')}-${who}-${result.pid}-${stamp}.${kind === 'cpu' ? 'cpuprofile' : 'heapsnapshot'}`);
  writeFileSync(file, result.data, { mode: 0o600 });
  process.stdout.write(`${file}\n`);
  return ExitCode.OK;
}
