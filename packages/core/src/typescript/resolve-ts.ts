/**
 * What the module hooks do, in one place for both ways of installing them (in-thread
 * `module.registerHooks` where Node has it, the off-thread `module.register` on Node 20): a `.ts`
 * file loads as the JavaScript the master compiled into the cache; `./x.js` and `./x` find `x.ts`,
 * as TypeScript's own resolution does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cacheKey, readEntrySync, type TransformSettings } from './cache.js';

export interface HookState {
  cacheDir: string;
  /** The project's compiler settings, as the master read them from tsconfig.json (part of every entry's key). */
  settings: TransformSettings;
}

export function isTsUrl(url: string): boolean {
  return url.startsWith('file:') && /\.m?ts$/.test(url) && !/\.d\.m?ts$/.test(url);
}

/**
 * A `.ts` URL's file, its source as it is on disk now, and the compiled JavaScript of exactly that
 * source from the cache — or null: a file the master did not compile (it changed since, the cache
 * could not be written, no master ran), or an entry that is not intact. The caller compiles then.
 */
export function lookUp(state: HookState, url: string): { file: string; source: string; code: string | null } {
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  return { file, source, code: readEntrySync(state.cacheDir, cacheKey(file, source, state.settings)) };
}

/** Other specifiers to try for a relative one that did not resolve: `./x.js` → `./x.ts`, `./x` → `./x.ts`, `./x/index.ts`. */
export function tsCandidates(specifier: string, parentURL: string | undefined): string[] {
  if (
    !parentURL?.startsWith('file:') ||
    !(specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:'))
  )
    return [];
  const candidates: string[] = [];
  if (/\.js$/.test(specifier)) candidates.push(specifier.replace(/\.js$/, '.ts'));
  else if (/\.mjs$/.test(specifier)) candidates.push(specifier.replace(/\.mjs$/, '.mts'));
  else if (!/\.[cm]?[jt]s$|\.json$|\.node$/.test(specifier)) candidates.push(`${specifier}.ts`, `${specifier}/index.ts`);
  return candidates.filter((c) => {
    try {
      return existsSync(fileURLToPath(new URL(c, parentURL)));
    } catch {
      return false;
    }
  });
}
