import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '@clutch/cluster';
import { parseFlags } from '../args.js';
import { findProject } from '../project.js';

export const TYPINGS_USAGE = `Usage: app typings [dir]

Writes typings/clutch.d.ts: the project's ControllerTree, ServiceTree, AppConfig (from
config/config.default and every config.<env>) and what app/extend adds, from its TypeScript files —
what egg-ts-helper generates for an egg project. Include "typings" in tsconfig.json. app dev keeps
it current; app start never needs it.

Options:
  -h, --help      show this help`;

export async function typings(args: string[]): Promise<number | null> {
  const { values, positionals } = parseFlags(args, { help: { type: 'boolean', short: 'h' } }, 1);
  if (values.help) {
    process.stdout.write(`${TYPINGS_USAGE}\n`);
    return ExitCode.OK;
  }
  const project = findProject(positionals[0]);
  // Loaded here, not at the top: app dev imports this module, and its master carries no framework.
  const { writeTypings } = await import('@clutch/core');
  const { file, changed } = await writeTypings(project.baseDir);
  process.stdout.write(`${changed ? 'wrote' : 'unchanged:'} ${relative(process.cwd(), file) || file}\n`);
  return ExitCode.OK;
}

/**
 * `app dev`'s part: `app typings` in a process of its own — it imports the project's app/extend
 * files to name what they add, and a fresh process sees each save (an import is cached for good).
 * Resolves with what it printed, or rejects with its error output.
 */
export function typingsInChild(baseDir: string): Promise<string> {
  const bin = fileURLToPath(new URL('../../bin/app.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'typings', baseDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(out.trim() || `app typings exited with ${code}`))));
  });
}
