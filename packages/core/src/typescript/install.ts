import { readFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import type { Logger } from '@clutch/cluster';
import { CACHE_DIR, esbuildOptions, settingsFromTsconfig, type TransformSettings } from './cache.js';
import { isTsUrl, lookUp, tsCandidates, type HookState } from './resolve-ts.js';

type SyncHooks = {
  resolve(specifier: string, context: { parentURL?: string }, next: (s: string, c: { parentURL?: string }) => { url: string }): { url: string };
  load(
    url: string,
    context: object,
    next: (u: string, c: object) => { format: string; source?: unknown },
  ): { format: string; source?: unknown; shortCircuit?: boolean };
};

/**
 * Installs the module hooks that load the project's TypeScript as the JavaScript in the cache, and
 * says once which way this process loads it. In-thread hooks (`module.registerHooks`, Node ≥ 22.15)
 * where Node has them; off-thread ones (`module.register`) on Node 20. A file the cache lacks — no
 * master compiled it (a test's own process), or it changed since — is compiled here, and that is said.
 */
export async function installTypeScript(baseDir: string, logger: Logger | null): Promise<void> {
  const cacheDir = join(baseDir, CACHE_DIR);
  // Read once, as the master read it when it compiled: part of every entry's key.
  const settings = settingsFromTsconfig(readOrNull(join(baseDir, 'tsconfig.json')));
  const misses = new Set<string>();
  const miss = (file: string) => {
    if (misses.size === 0) logger?.warn('typescript: %s is not in the compiled cache; compiling it in this process (esbuild)', file);
    misses.add(file);
  };
  const registerHooks = (module as unknown as { registerHooks?: (hooks: SyncHooks) => void }).registerHooks;
  if (registerHooks) {
    const state: HookState = { cacheDir, settings };
    registerHooks({
      resolve(specifier, context, next) {
        try {
          return next(specifier, context);
        } catch (err) {
          for (const candidate of tsCandidates(specifier, context.parentURL)) {
            try {
              return next(candidate, context);
            } catch {
              // The next one.
            }
          }
          throw err;
        }
      },
      load(url, context, next) {
        if (!isTsUrl(url)) return next(url, context);
        const { file, source, code } = lookUp(state, url);
        if (code !== null) return { format: 'module', source: code, shortCircuit: true };
        miss(file);
        return { format: 'module', source: compileSync(file, source, state.settings), shortCircuit: true };
      },
    });
  } else {
    const { MessageChannel } = await import('node:worker_threads');
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (file: string) => miss(file));
    port1.unref();
    module.register(new URL('./hooks-async.js', import.meta.url), { data: { cacheDir, settings, port: port2 }, transferList: [port2] });
  }
  // Stack traces show the .ts lines (the cache carries inline source maps).
  process.setSourceMapsEnabled(true);
  logger?.info(
    'typescript: loaded as the JavaScript the master compiled (from %s; %s hooks, no transpiler here)',
    CACHE_DIR,
    registerHooks ? 'in-thread' : 'off-thread',
  );
}

let esbuildSync: typeof import('esbuild') | null = null;

function compileSync(file: string, source: string, settings: TransformSettings): string {
  // Loaded on the first miss only, with require: a load hook cannot await an import.
  esbuildSync ??= module.createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  return esbuildSync.transformSync(source, esbuildOptions(file, settings)).code;
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
