/**
 * The off-thread module hooks (`module.register`), for Node versions without `module.registerHooks`
 * (Node 20). They read compiled JavaScript from the cache; only a cache miss loads esbuild, here.
 */
import type { MessagePort } from 'node:worker_threads';
import { transformFile, transformSettings } from './cache.js';
import { cachedSource, isTsUrl, readManifest, tsCandidates, type HookState } from './resolve-ts.js';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';

let state: HookState = { cacheDir: '', manifest: {} };
let baseDir = '';
let port: MessagePort | undefined;

export function initialize(data: { cacheDir: string; baseDir: string; port?: MessagePort }): void {
  state = { cacheDir: data.cacheDir, manifest: readManifest(data.cacheDir) };
  baseDir = data.baseDir;
  port = data.port;
}

type Next<A extends unknown[], R> = (...args: A) => Promise<R>;
type Resolved = { url: string; format?: string | null; shortCircuit?: boolean };
type Loaded = { format: string; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean };

export async function resolve(specifier: string, context: { parentURL?: string }, next: Next<[string, { parentURL?: string }], Resolved>): Promise<Resolved> {
  try {
    return await next(specifier, context);
  } catch (err) {
    for (const candidate of tsCandidates(specifier, context.parentURL)) {
      try {
        return await next(candidate, context);
      } catch {
        // The next one.
      }
    }
    throw err;
  }
}

export async function load(url: string, context: object, next: Next<[string, object], Loaded>): Promise<Loaded> {
  if (!isTsUrl(url)) return next(url, context);
  const cached = cachedSource(state, url);
  if (cached !== null) return { format: 'module', source: cached, shortCircuit: true };
  const file = fileURLToPath(url);
  port?.postMessage(file);
  const code = await transformFile(file, await readFile(file, 'utf8'), await transformSettings(baseDir));
  return { format: 'module', source: code, shortCircuit: true };
}
