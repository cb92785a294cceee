/**
 * TypeScript at the cost of JavaScript: the project's `.ts` files are turned into JavaScript once
 * per change of a file — by the master, before it forks (and again before a reload's new
 * processes) — into a content-addressed cache under `run/ts-cache/`. The agent and the workers then
 * read JavaScript from the cache: none of them carries a transpiler (tsx and esbuild cost every
 * process ~30 MB and ~140 ms, and a cold esbuild service each).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { TransformOptions } from 'esbuild';

/** Where the compiled files live, under the project. */
export const CACHE_DIR = join('run', 'ts-cache');
/** Bumped when what the cache holds changes meaning (esbuild options, the entry's layout): old entries are then recompiled. */
const FORMAT = 'clutch-ts-2';
const SKIP = new Set(['node_modules', 'run', 'logs', 'dist', 'coverage']);
/** An entry no current file needs is removed once it is this old (a running cluster's late imports may still want it). */
const PRUNE_AFTER_MS = 60 * 60_000;

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

/**
 * The cache entry's name for `file` with `source`, compiled with `settings`. The path is part of it:
 * two files with the same text (egg's boilerplates ship identical config.local.ts and
 * config.prod.ts) compile to different JavaScript — the source map names the file — and never share
 * an entry. The same file with the same text always lands in the same entry, whoever compiles it.
 */
export function cacheKey(file: string, source: string, settings: TransformSettings): string {
  return createHash('sha256')
    .update(FORMAT)
    .update('\0')
    .update(JSON.stringify(settings))
    .update('\0')
    .update(file)
    .update('\0')
    .update(source)
    .digest('hex')
    .slice(0, 32);
}

const digest = (code: string): string => createHash('sha256').update(code).digest('hex').slice(0, 32);

/**
 * An entry as it is stored: the JavaScript, then a last line naming its key and the digest of the
 * JavaScript above it, so that a reader can tell an entry it can trust from a torn, corrupt or
 * foreign file. At the end, not the top: the inline source map's line numbers stay right.
 */
export function encodeEntry(key: string, code: string): string {
  return `${code}\n// ${FORMAT} ${key} ${digest(code)}\n`;
}

/** The JavaScript of an entry read back, or null when it is not exactly what `key` was written as. */
export function decodeEntry(key: string, text: string): string | null {
  const end = text.length - 1;
  const eol = text.lastIndexOf('\n', end - 1);
  if (eol < 0 || text[end] !== '\n') return null;
  const [marker, format, entryKey, sum] = text.slice(eol + 1, end).split(' ');
  if (marker !== '//' || format !== FORMAT || entryKey !== key) return null;
  const code = text.slice(0, eol);
  return digest(code) === sum ? code : null;
}

/** Reads the entry for `key` from `dir`; null when it is missing or cannot be trusted. */
export function readEntrySync(dir: string, key: string): string | null {
  let text: string;
  try {
    text = readFileSync(join(dir, `${key}.js`), 'utf8');
  } catch {
    return null;
  }
  return decodeEntry(key, text);
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
  /** Why entries could not be written (a full disk, a directory owned by someone else), or null. The processes then compile in memory. */
  unwritable: NodeJS.ErrnoException | null;
}

let tmpSeq = 0;

/** Writes `text` to `path` through a temp file of its own and one rename: a reader sees the whole entry or none. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${++tmpSeq}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Brings the project's cache up to date: every `.ts`/`.mts` file under `baseDir` (not
 * node_modules, run, logs, dist or dot-folders) with no trustworthy entry is compiled and its entry
 * written. A cache that cannot be written is reported, not fatal — each process then finds no entry
 * for what changed, and compiles it in memory: what serves is always the code on disk. esbuild's
 * service is stopped afterwards: the master does not keep a transpiler running either.
 */
export async function compileProject(baseDir: string): Promise<CompileResult> {
  const began = performance.now();
  const dir = join(baseDir, CACHE_DIR);
  const files = await listTypeScript(baseDir, []);
  if (files.length === 0) return { files: 0, compiled: 0, ms: 0, unwritable: null };
  let unwritable: NodeJS.ErrnoException | null = null;
  await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => (unwritable = err));
  const settings = await transformSettings(baseDir);
  const current = new Set<string>();
  let compiled = 0;
  let transformed = false;
  try {
    await Promise.all(
      files.map(async (file) => {
        const source = await readFile(file, 'utf8');
        const key = cacheKey(file, source, settings);
        current.add(`${key}.js`);
        if (unwritable || readEntrySync(dir, key) !== null) return;
        let code: string;
        transformed = true;
        try {
          code = await transformFile(file, source, settings);
        } catch {
          // No entry: the process that imports it compiles it, and its boot error names the file,
          // line and column.
          return;
        }
        try {
          await writeAtomic(join(dir, `${key}.js`), encodeEntry(key, code));
          compiled++;
        } catch (err) {
          unwritable ??= err as NodeJS.ErrnoException;
        }
      }),
    );
  } finally {
    if (transformed) await import('esbuild').then((esbuild) => esbuild.stop()).catch(() => {});
  }
  if (!unwritable) await prune(dir, current);
  return { files: files.length, compiled, ms: Math.round(performance.now() - began), unwritable };
}

/** Removes entries no file needs any more once they are old enough, and temp files left by a process that died mid-write. */
async function prune(dir: string, current: Set<string>): Promise<void> {
  const cutoff = Date.now() - PRUNE_AFTER_MS;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (current.has(name)) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (info && info.mtimeMs < cutoff) await rm(path, { force: true }).catch(() => {});
  }
}
