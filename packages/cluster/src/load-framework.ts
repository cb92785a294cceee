import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { Framework } from './framework.js';

/** Imports the framework module a master was given (a file URL, a path, or a specifier) and checks its exports. */
export async function loadFramework(specifier: string): Promise<Framework> {
  const url = isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier;
  const mod = (await import(url)) as Partial<Framework>;
  if (typeof mod.startAgent !== 'function' || typeof mod.startWorker !== 'function') {
    throw new ClutchError(ClusterErrorCode.INVALID_FRAMEWORK, `The framework ${specifier} must export startAgent() and startWorker()`);
  }
  return mod as Framework;
}
