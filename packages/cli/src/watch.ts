import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { extname, join, sep } from 'node:path';

const IGNORED_DIRS = new Set(['node_modules', 'logs', 'run', 'dist', 'coverage']);
const WATCHED_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']);

function ignoredDir(name: string): boolean {
  return IGNORED_DIRS.has(name) || name.startsWith('.');
}

/** Whether a changed file (relative to the project) can affect the running code. */
export function isSourceChange(file: string): boolean {
  const parts = file.split(sep);
  if (parts.slice(0, -1).some(ignoredDir) || parts.at(-1)!.startsWith('.')) return false;
  return WATCHED_EXTENSIONS.has(extname(file)) && !file.endsWith('.d.ts');
}

/** Files under app/ (but app/schedule) and app.ts run only in workers; anything else may run in the agent. */
export function touchesAgent(file: string): boolean {
  const parts = file.split(sep);
  if (parts[0] === 'app' && parts.length > 1) return parts[1] === 'schedule';
  return !/^app\.[cm]?[jt]s$/.test(file);
}

export interface ProjectWatcher {
  close(): void;
}

/**
 * Watches a project and calls `onChange` with the changed files (relative paths), debounced. A
 * change while `onChange` still runs is kept and delivered after it, never interleaved. Ignored
 * folders (node_modules, logs, run, dist, coverage, dot-folders) are never watched at all — a
 * recursive watch on the project would put an inotify watch on every file under node_modules.
 */
export function watchProject(
  dir: string,
  onChange: (files: string[]) => Promise<void>,
  options: { onError: (err: Error) => void; debounceMs?: number },
): ProjectWatcher {
  const debounceMs = options.debounceMs ?? 300;
  /** Each watched top-level folder, with the inode it had: one removed and made again is watched anew. */
  const watchers = new Map<string, { watcher: FSWatcher; ino: number }>();
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
  const note = (file: string) => {
    if (!isSourceChange(file)) return;
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  };
  /**
   * The files a folder came with, walked by hand: ignored folders skipped, symbolic links never
   * followed (a link to `..` would make the walk endless, and it runs in the master).
   */
  const walk = (rel: string): void => {
    let entries;
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return; // Gone already.
    }
    for (const entry of entries) {
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        if (!ignoredDir(entry.name)) walk(join(rel, entry.name));
      } else if (entry.isFile()) note(join(rel, entry.name));
    }
  };
  const add = (name: string, isNew: boolean, renew = false) => {
    if (ignoredDir(name)) return;
    let ino: number;
    try {
      ino = statSync(join(dir, name)).ino;
    } catch {
      return; // Gone already.
    }
    const seen = watchers.get(name);
    if (seen?.ino === ino && !renew) return;
    // Removed and made again: the old watch is dead.
    seen?.watcher.close();
    try {
      const w = watch(join(dir, name), { recursive: true }, (_event, file) => file && note(join(name, file)));
      w.on('error', options.onError);
      watchers.set(name, { watcher: w, ino });
      // A folder that appeared while running (a checkout, a copy) may have its files already: they
      // were written before this watch began, so they are changes no event will report.
      if (isNew) walk(name);
    } catch (err) {
      options.onError(err as Error);
    }
  };
  // The project's own top level: its files, and folders that appear later.
  const top = watch(dir, (event, name) => {
    if (!name) return;
    let isDir = false;
    try {
      isDir = readdirSync(dir, { withFileTypes: true }).some((e) => e.name === name && e.isDirectory());
    } catch {
      // The project folder itself went away; the error handler hears about it.
    }
    // A 'rename' of a folder is it appearing or going: a watched one may have been removed and made
    // again between two looks (even with the same inode number), so its watch is made anew.
    if (isDir) add(name, true, event === 'rename');
    else {
      const gone = watchers.get(name);
      if (gone) {
        // A watched folder was removed: its watch goes with it, and one made again is added anew.
        gone.watcher.close();
        watchers.delete(name);
      }
      note(name);
    }
  });
  top.on('error', options.onError);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) add(entry.name, false);
  return {
    close() {
      clearTimeout(timer);
      top.close();
      for (const { watcher } of watchers.values()) watcher.close();
    },
  };
}
