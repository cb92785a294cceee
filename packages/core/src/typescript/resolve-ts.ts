/**
 * What the module hooks do, in one place for both ways of installing them (in-thread
 * `module.registerHooks` where Node has it, the off-thread `module.register` on Node 20): a `.ts`
 * file loads as the JavaScript the master compiled into the cache; `./x.js` and `./x` find `x.ts`,
 * as TypeScript's own resolution does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from './cache.js';

export interface HookState {
  cacheDir: string;
  manifest: Manifest['files'];
}

/** Reads the manifest the master wrote; none yet (no master: a test's own process) is an empty one. */
export function readManifest(cacheDir: string): Manifest['files'] {
  try {
    return (JSON.parse(readFileSync(join(cacheDir, 'manifest.json'), 'utf8')) as Manifest).files;
  } catch {
    return {};
  }
}

export function isTsUrl(url: string): boolean {
  return url.startsWith('file:') && /\.m?ts$/.test(url) && !/\.d\.m?ts$/.test(url);
}

/** The compiled JavaScript of a `.ts` URL from the cache, or null on a miss (a file the master did not see, or changed since). */
export function cachedSource(state: HookState, url: string): string | null {
  const file = fileURLToPath(url);
  const name = state.manifest[file];
  if (!name) return null;
  try {
    return readFileSync(join(state.cacheDir, name), 'utf8');
  } catch {
    return null;
  }
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
