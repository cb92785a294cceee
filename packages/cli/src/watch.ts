import { watch, type FSWatcher } from 'node:fs';
import { extname, sep } from 'node:path';

const IGNORED_DIRS = new Set(['node_modules', 'logs', 'run', '.git', 'dist', 'coverage']);
const WATCHED_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']);

/** Whether a changed file (relative to the project) can affect the running code. */
export function isSourceChange(file: string): boolean {
  const parts = file.split(sep);
  if (parts.some((p) => IGNORED_DIRS.has(p) || p.startsWith('.'))) return false;
  return WATCHED_EXTENSIONS.has(extname(file)) && !file.endsWith('.d.ts');
}

/** Files under app/ (but app/schedule) and app.ts run only in workers; anything else may run in the agent. */
export function touchesAgent(file: string): boolean {
  const parts = file.split(sep);
  if (parts[0] === 'app' && parts.length > 1) return parts[1] === 'schedule';
  return !/^app\.[cm]?[jt]s$/.test(file);
}

/**
 * Watches a project folder (recursively) and calls `onChange` with the changed files, debounced.
 * A change while `onChange` still runs is kept and delivered after it, never interleaved.
 */
export function watchProject(dir: string, onChange: (files: string[]) => Promise<void>, debounceMs = 300): FSWatcher {
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const flush = async () => {
    if (running || changed.size === 0) return;
    running = true;
    const files = [...changed];
    changed = new Set();
    try {
      await onChange(files);
    } finally {
      running = false;
      if (changed.size > 0) timer = setTimeout(flush, debounceMs);
    }
  };
  return watch(dir, { recursive: true }, (_event, file) => {
    if (!file || !isSourceChange(file)) return;
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  });
}
