import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '@clutch/cluster';
import { ClutchError, CoreErrorCode } from '../errors.js';

/** Project files may be written in TypeScript or JavaScript; the first that exists wins. */
export const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

let typeScript: Promise<void> | null = null;
let project: { baseDir: string; logger: Logger | null } = { baseDir: process.cwd(), logger: null };

/** Which project this process loads (its compiled TypeScript cache) and where to say how. Called first thing in a boot. */
export function configureTypeScript(baseDir: string, logger: Logger): void {
  project = { baseDir, logger };
}

/**
 * TypeScript loads as the JavaScript the master compiled into the project's cache
 * (typescript/cache.ts), through module hooks installed the first time a process imports a `.ts`
 * file: a project written in JavaScript pays nothing, and one in TypeScript carries no transpiler.
 */
function ensureTypeScript(): Promise<void> {
  typeScript ??= import('../typescript/install.js').then(({ installTypeScript }) => installTypeScript(project.baseDir, project.logger));
  return typeScript;
}

export function isModuleFile(file: string): boolean {
  return !file.endsWith('.d.ts') && (MODULE_EXTENSIONS as readonly string[]).includes(extname(file));
}

/** Finds `base` + one of the module extensions; null when none exists. */
export async function resolveModuleFile(base: string): Promise<string | null> {
  for (const ext of MODULE_EXTENSIONS) {
    const file = base + ext;
    const info = await stat(file).catch(() => null);
    if (info?.isFile()) return file;
  }
  return null;
}

/**
 * A CommonJS file compiled from TypeScript or Babel (`exports.__esModule = true; exports.default = …`)
 * means its `default`, as bundlers and egg's loader read it; Node's import() hands over the whole
 * `module.exports`.
 */
export function unwrapDefault(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && (value as { __esModule?: unknown }).__esModule === true && 'default' in value) return value.default;
  return value;
}

/** Imports a project file and returns its default export, wrapping failures in a coded error naming the file. */
export async function importDefault(file: string, code: CoreErrorCode = CoreErrorCode.LOADER_IMPORT_FAILED): Promise<unknown> {
  if (TS_EXTENSIONS.has(extname(file))) await ensureTypeScript();
  try {
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return unwrapDefault(mod.default);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const where = err instanceof SyntaxError ? await syntaxErrorAt(file, err) : null;
    throw new ClutchError(code, `Failed to load ${where ?? file}: ${reason}`, { cause: err });
  }
}

/**
 * Where a syntax error is, as `file:line:column`. Node puts it atop the stack for CommonJS (the line,
 * and a caret under the column), but not for an ES module: there esbuild (the TypeScript compiler's,
 * already here) parses the file to find it. An error in a file it imports names only the file.
 */
async function syntaxErrorAt(file: string, err: SyntaxError): Promise<string | null> {
  const head = /^(.+):(\d+)\n(.*)\n( *)\^/.exec(err.stack ?? '');
  if (head) return `${head[1]!.replace(/^file:\/\//, '')}:${head[2]}:${head[4]!.length + 1}`;
  try {
    const { transform } = await import('esbuild');
    const { readFile } = await import('node:fs/promises');
    await transform(await readFile(file, 'utf8'), { loader: 'js', format: 'esm', sourcefile: file, logLevel: 'silent' });
  } catch (parsed) {
    const at = (parsed as { errors?: Array<{ location?: { file: string; line: number; column: number } | null }> }).errors?.[0]?.location;
    if (at) return `${at.file}:${at.line}:${at.column + 1}`;
  }
  return null;
}
