import { ClusterErrorCode, ExitCode, type ScaleResult } from '@clutch/cluster';
import { parseFlags } from '../args.js';
import { CliErrorCode, UsageError } from '../errors.js';
import { exitCodeOf } from '../exit-code-of.js';
import { findProject } from '../project.js';
import { askMaster } from '../reach-master.js';

export const SCALE_USAGE = `Usage: app scale [dir] <n> [options]

Runs n workers in the cluster started from dir from now on, with no request lost: new workers take
connections once they listen; the workers of the highest slots leave the rotation and drain, as in
a reload. The next reload keeps the count. n goes from 1 to the cluster's maxWorkers (--max-workers
at the start; by default four per CPU, and never fewer than --workers). Exits 0 when done; 2 for
an n out of range; 1 when a new worker failed to boot (the cluster keeps the workers it had) or the
cluster is busy (starting, stopping, reloading); 3 when no such cluster runs; 4 when it runs but
cannot be reached from here.

Options:
  --title NAME    the cluster's title (default: the project's package name)
  -h, --help      show this help`;

export async function scale(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { title: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 2);
  if (values.help) {
    process.stdout.write(`${SCALE_USAGE}\n`);
    return ExitCode.OK;
  }
  // `app scale 4` and `app scale ./dir 4`: the count is the last argument.
  const raw = positionals.at(-1);
  // The upper bound is the master's (maxWorkers): it answers CLUTCH_ERR_CLUSTER_SCALE_OUT_OF_RANGE.
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < 1)
    throw new UsageError(CliErrorCode.BAD_VALUE, `app scale needs the number of workers (1 or more) last, got ${JSON.stringify(raw ?? '')}`);
  const workers = Number(raw);
  const project = findProject(positionals.length > 1 ? positionals[0] : undefined);
  const title = values.title ?? project.name;
  try {
    const result = (await askMaster(project.baseDir, title, { cmd: 'scale', workers }, 30 * 60_000)) as ScaleResult;
    const what = [result.added.length > 0 && `started ${result.added.join(', ')}`, result.retired.length > 0 && `retired ${result.retired.join(', ')}`]
      .filter(Boolean)
      .join('; ');
    process.stdout.write(`scaled ${title} from ${result.from} to ${result.to} workers in ${result.ms}ms${what ? ` (${what})` : ''}\n`);
    return ExitCode.OK;
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`app scale failed [${e.code ?? 'UNKNOWN'}]: ${e.message}\n`);
    if (e.code === ClusterErrorCode.SCALE_OUT_OF_RANGE) return ExitCode.USAGE;
    return exitCodeOf(err, 'scale') ?? ExitCode.START_FAILED;
  }
}
