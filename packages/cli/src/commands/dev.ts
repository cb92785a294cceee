import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '@clutch/cluster';
import { intFlag, parseFlags } from '../args.js';
import { configEnv, findProject, resolveFramework } from '../project.js';
import { runMaster } from '../run-master.js';
import { touchesAgent, watchProject } from '../watch.js';
import { typingsInChild } from './typings.js';

export const DEV_USAGE = `Usage: app dev [dir] [options]

Runs the project for development: one worker, env local, and a reload on every change — the
worker when files under app/ change, the agent too when anything else (agent.ts, config/, …) does.
A change that breaks the boot is reported and the running code keeps serving. In a TypeScript
project (one with a tsconfig.json) it also rewrites typings/clutch.d.ts at the start and on every
change, as app typings does.

Options:
  --port N        HTTP port (0 takes a free one)
  --env NAME      config environment (default: $CLUTCH_ENV, else $EGG_SERVER_ENV, else local)
  --title NAME    the cluster's title (default: the project's package name)
  -h, --help      show this help`;

export async function dev(args: string[]): Promise<number | null> {
  const { values, positionals } = parseFlags(
    args,
    { port: { type: 'string' }, env: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    1,
  );
  if (values.help) {
    process.stdout.write(`${DEV_USAGE}\n`);
    return ExitCode.OK;
  }
  const port = intFlag('port', values.port, 0, 65535);
  const project = findProject(positionals[0]);
  const framework = resolveFramework(project.baseDir);
  process.chdir(project.baseDir);
  const { master, logger, ready } = await runMaster({
    baseDir: project.baseDir,
    framework,
    workers: 1,
    env: configEnv(values.env, 'local'),
    title: values.title ?? project.name,
    ...(port !== undefined ? { port } : {}),
  });
  if (!(await ready)) return null;
  // egg-bin dev runs egg-ts-helper the same way: the typings follow the files as they are saved.
  const typed = existsSync(join(project.baseDir, 'tsconfig.json'));
  const refreshTypings = (): Promise<void> =>
    typingsInChild(project.baseDir).then(
      (said) => {
        if (said.startsWith('wrote')) logger.info('typings: %s', said);
      },
      (err: Error) => logger.warn('app typings failed: %s; the project still runs', err.message),
    );
  if (typed) await refreshTypings();
  // An agent-side change is owed a reload of the agent until one that includes it succeeds: a
  // worker error in the same save must not leave the agent on the old code once it is fixed.
  let agentOwed = false;
  watchProject(
    project.baseDir,
    async (files) => {
      if (files.some(touchesAgent)) agentOwed = true;
      const agent = agentOwed;
      logger.info('changed: %s; reloading the worker%s', files.join(', '), agent ? ' and the agent' : '');
      const typings = typed ? refreshTypings() : Promise.resolve();
      // A failed reload is logged by the master; the running processes keep serving.
      await master.reload({ workers: true, agent }).then(
        () => {
          if (agent) agentOwed = false;
        },
        () => {},
      );
      await typings;
    },
    { onError: (err) => logger.error('watching %s failed: %s; changes may be missed until app dev restarts', project.baseDir, err.message) },
  );
  return null;
}
