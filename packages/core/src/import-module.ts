import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClutchError, CoreErrorCode } from './errors.js';

/** Project files may be written in TypeScript or JavaScript; the first that exists wins. */
export const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

let typeScript: Promise<void> | null = null;

/**
 * TypeScript loads through tsx's ESM hooks, imported and registered the first time a process loads
 * a `.ts` file: a project written in JavaScript pays nothing for it (tsx costs ~140 ms and ~30 MB).
 */
function ensureTypeScript(): Promise<void> {
  typeScript ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
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

/** Imports a project file and returns its default export, wrapping failures in a coded error naming the file. */
export async function importDefault(file: string, code: string = CoreErrorCode.LOADER_IMPORT_FAILED): Promise<unknown> {
  if (TS_EXTENSIONS.has(extname(file))) await ensureTypeScript();
  try {
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return mod.default;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ClutchError(code, `Failed to load ${file}: ${reason}`, { cause: err });
  }
}
