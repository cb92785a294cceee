import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { Framework } from './framework.js';
import type { Logger } from './logger.js';

/** Imports the framework module a master was given (a file URL, a path, or a specifier) and checks its exports. */
export async function loadFramework(specifier: string): Promise<Framework> {
  const url = isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier;
  const mod = (await import(url)) as Partial<Framework>;
  if (typeof mod.startAgent !== 'function' || typeof mod.startWorker !== 'function') {
    throw new ClutchError(ClusterErrorCode.INVALID_FRAMEWORK, `The framework ${specifier} must export startAgent() and startWorker()`);
  }
  return mod as Framework;
}

/**
 * The framework's work done once in the master rather than in every child (compiling the
 * project's TypeScript). A failure is logged, not fatal: the children can still do it themselves.
 */
export async function prepareProject(framework: string, baseDir: string, logger: Logger): Promise<void> {
  try {
    await (await loadFramework(framework)).prepare?.({ baseDir, logger });
  } catch (err) {
    logger.warn('preparing the project failed (each process will do it itself): %s', err instanceof Error ? err.message : err);
  }
}
