/**
 * TypeScript at the cost of JavaScript: the project's `.ts` files are turned into JavaScript once
 * per change of a file — by the master, before it forks (and again before a reload's new
 * processes) — into a content-addressed cache under `run/ts-cache/`. The agent and the workers then
 * read JavaScript from the cache: none of them carries a transpiler (tsx and esbuild cost every
 * process ~30 MB and ~140 ms, and a cold esbuild service each).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { TransformOptions } from 'esbuild';

/** Where the compiled files and the manifest live, under the project. */
export const CACHE_DIR = join('run', 'ts-cache');
export const MANIFEST = 'manifest.json';
/** Bumped when what the cache holds changes meaning (esbuild options): old entries are then recompiled. */
const FORMAT = 'clutch-ts-1';
const SKIP = new Set(['node_modules', 'run', 'logs', 'dist', 'coverage']);

/** Source file (absolute path) → compiled file name in the cache directory. */
export interface Manifest {
  format: string;
  files: Record<string, string>;
}

/** The esbuild options a project's tsconfig.json asks for (decorators, class fields). */
export interface TransformSettings {
  tsconfigRaw: { compilerOptions: Record<string, unknown> };
}

/** tsconfig.json allows comments and trailing commas. */
function parseJsonc(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(/\/\*[\s\S]*?\*\/|(^|[^:"'])\/\/.*$/gm, '$1').replace(/,(\s*[}\]])/g, '$1'));
  }
}

/** The compiler options esbuild honours from a tsconfig.json's text (its `extends` is not followed); null: none. */
export function settingsFromTsconfig(text: string | null): TransformSettings {
  let options: Record<string, unknown> = {};
  try {
    if (text !== null) options = (parseJsonc(text) as { compilerOptions?: Record<string, unknown> }).compilerOptions ?? {};
  } catch {
    // An unreadable tsconfig.json: esbuild's defaults, standard decorators.
  }
  const keep = [
    'experimentalDecorators',
    'useDefineForClassFields',
    'verbatimModuleSyntax',
    'preserveValueImports',
    'importsNotUsedAsValues',
    'jsx',
    'jsxFactory',
    'jsxFragmentFactory',
    'jsxImportSource',
  ];
  return { tsconfigRaw: { compilerOptions: Object.fromEntries(keep.filter((k) => k in options).map((k) => [k, options[k]])) } };
}

export async function transformSettings(baseDir: string): Promise<TransformSettings> {
  return settingsFromTsconfig(await readFile(join(baseDir, 'tsconfig.json'), 'utf8').catch(() => null));
}

/** How every file is compiled: ESM, an inline source map (stack traces show the .ts lines). */
export function esbuildOptions(file: string, settings: TransformSettings): TransformOptions {
  return { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline', sourcefile: file, tsconfigRaw: settings.tsconfigRaw };
}

export function isTypeScript(file: string): boolean {
  const ext = extname(file);
  return (ext === '.ts' || ext === '.mts') && !file.endsWith('.d.ts') && !file.endsWith('.d.mts');
}

async function listTypeScript(dir: string, out: string[]): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.') || (entry.isDirectory() && SKIP.has(entry.name))) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listTypeScript(path, out);
    else if (entry.isFile() && isTypeScript(path)) out.push(path);
  }
  return out;
}

/** The cache file name for `source` compiled with `settings`: the same input always lands in the same file. */
export function cacheName(source: string, settings: TransformSettings): string {
  return `${createHash('sha256').update(FORMAT).update('\0').update(JSON.stringify(settings)).update('\0').update(source).digest('hex').slice(0, 32)}.js`;
}

/** Compiles one file with esbuild. */
export async function transformFile(file: string, source: string, settings: TransformSettings): Promise<string> {
  const { transform } = await import('esbuild');
  return (await transform(source, esbuildOptions(file, settings))).code;
}

export interface CompileResult {
  files: number;
  compiled: number;
  ms: number;
}

/**
 * Brings the project's cache up to date: every `.ts`/`.mts` file under `baseDir` (not
 * node_modules, run, logs, dist or dot-folders) that changed since it was last compiled is compiled
 * again; then the manifest is replaced in one rename. esbuild's service is stopped afterwards: the
 * master does not keep a transpiler running either.
 */
export async function compileProject(baseDir: string): Promise<CompileResult> {
  const began = performance.now();
  const dir = join(baseDir, CACHE_DIR);
  const files = await listTypeScript(baseDir, []);
  if (files.length === 0) return { files: 0, compiled: 0, ms: 0 };
  await mkdir(dir, { recursive: true });
  const settings = await transformSettings(baseDir);
  const manifest: Manifest = { format: FORMAT, files: {} };
  let compiled = 0;
  try {
    await Promise.all(
      files.map(async (file) => {
        const source = await readFile(file, 'utf8');
        const name = cacheName(source, settings);
        manifest.files[file] = name;
        if (await stat(join(dir, name)).catch(() => null)) return;
        let code: string;
        try {
          code = await transformFile(file, source, settings);
        } catch {
          // Left out of the manifest: the process that imports it compiles it, and its boot error
          // names the file, line and column.
          delete manifest.files[file];
          return;
        }
        const tmp = join(dir, `.${name}.${process.pid}.tmp`);
        await writeFile(tmp, code);
        await rename(tmp, join(dir, name));
        compiled++;
      }),
    );
  } finally {
    if (compiled > 0) await import('esbuild').then((esbuild) => esbuild.stop()).catch(() => {});
  }
  const tmp = join(dir, `.${MANIFEST}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(manifest)}\n`);
  await rename(tmp, join(dir, MANIFEST));
  return { files: files.length, compiled, ms: Math.round(performance.now() - began) };
}
