import { ExitCode, type ReloadResult } from '@clutch/cluster';
import { parseFlags } from '../args.js';
import { findProject } from '../project.js';
import { askMaster } from '../reach-master.js';
import { exitCodeOf } from '../exit-code-of.js';

export const RELOAD_USAGE = `Usage: app reload [dir] [options]

Replaces every worker (one at a time, with no request lost) and then the agent of the cluster
started from dir with new processes running the code now on disk. Exits 0 when done; 5, with
the old workers still serving, when a new process fails to boot; 3 when no such cluster runs; 4
when it runs but cannot be reached from here.

Options:
  --title NAME    the cluster's title (default: the project's package name)
  -h, --help      show this help`;

export async function reload(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { title: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 1);
  if (values.help) {
    process.stdout.write(`${RELOAD_USAGE}\n`);
    return ExitCode.OK;
  }
  const project = findProject(positionals[0]);
  const title = values.title ?? project.name;
  try {
    const result = (await askMaster(project.baseDir, title, { cmd: 'reload' }, 30 * 60_000)) as ReloadResult;
    process.stdout.write(`reloaded ${title} in ${result.ms}ms: agent ${result.agent}, workers ${result.workers.join(', ')}\n`);
    return ExitCode.OK;
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`app reload failed [${e.code ?? 'UNKNOWN'}]: ${e.message}\n`);
    return exitCodeOf(err, 'reload') ?? ExitCode.RELOAD_FAILED;
  }
}
