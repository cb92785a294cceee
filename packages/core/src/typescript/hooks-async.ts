/**
 * The off-thread module hooks (`module.register`), for Node versions without `module.registerHooks`
 * (Node 20). They read compiled JavaScript from the cache; only a cache miss loads esbuild, here.
 */
import type { MessagePort } from 'node:worker_threads';
import { transformFile, type TransformSettings } from './cache.js';
import { isTsUrl, lookUp, tsCandidates, type HookState } from './resolve-ts.js';

let state: HookState = { cacheDir: '', settings: { tsconfigRaw: { compilerOptions: {} } } };
let port: MessagePort | undefined;

export function initialize(data: { cacheDir: string; settings: TransformSettings; port?: MessagePort }): void {
  state = { cacheDir: data.cacheDir, settings: data.settings };
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
  const { file, source, code } = lookUp(state, url);
  if (code !== null) return { format: 'module', source: code, shortCircuit: true };
  port?.postMessage(file);
  return { format: 'module', source: await transformFile(file, source, state.settings), shortCircuit: true };
}
