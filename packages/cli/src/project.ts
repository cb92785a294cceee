import { statSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { CliErrorCode, UsageError } from './errors.js';

export interface Project {
  baseDir: string;
  name: string;
}

/** Resolves and checks the project directory given on the command line (default: the current one). */
export function findProject(dir: string | undefined): Project {
  const baseDir = resolve(dir ?? '.');
  if (!statSync(baseDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(CliErrorCode.NO_PROJECT, `No project directory at ${baseDir}`);
  }
  let name = basename(baseDir);
  try {
    const pkg = JSON.parse(readFileSync(join(baseDir, 'package.json'), 'utf8')) as { name?: unknown };
    if (typeof pkg.name === 'string' && pkg.name) name = pkg.name;
  } catch {
    // A project without package.json still runs; its folder name stands for its name.
  }
  return { baseDir, name };
}

/**
 * The config environment a command runs with: `--env`, else $CLUTCH_ENV, else egg's $EGG_SERVER_ENV,
 * else the command's own default. A variable set but empty (`CLUTCH_ENV=` in a unit file or a shell)
 * counts as unset, as egg reads EGG_SERVER_ENV; an empty `--env ''` is still refused by the cluster.
 */
export function configEnv(flag: string | undefined, fallback: string): string {
  return flag ?? (process.env.CLUTCH_ENV || process.env.EGG_SERVER_ENV || fallback);
}

/**
 * The framework a project runs on: its own @clutch/core when it has one (the version it was
 * written against), else the one this CLI ships with. Its `framework` entry is what the processes
 * load: each imports only its own role's half.
 */
export function resolveFramework(baseDir: string): string {
  try {
    return createRequire(join(baseDir, 'package.json')).resolve('@clutch/core/framework');
  } catch {
    try {
      return import.meta.resolve('@clutch/core/framework');
    } catch (err) {
      throw new UsageError(CliErrorCode.NO_FRAMEWORK, `Cannot find @clutch/core from ${baseDir}: ${(err as Error).message}`);
    }
  }
}
