import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { ClutchError, CoreErrorCode } from '../../errors.js';
import { unwrapDefault } from '../../loader/import-module.js';

const require = createRequire(import.meta.url);

/** How a file's path becomes property names: egg's `caseStyle`. */
export type CaseStyle = 'camel' | 'upper' | 'lower' | ((path: string) => string[]);

/** egg's FileLoader options, those the common plugins pass. */
export interface FileLoaderOptions {
  /** A folder, or several (later ones override earlier ones when `override` is set). */
  directory: string | string[];
  /** The object the properties go on. */
  target: Record<string | symbol, unknown>;
  /** What a function export is called with when `call` is on (the app). */
  inject?: unknown;
  /** Call a plain function export with `inject` and keep what it returns (default true). */
  call?: boolean;
  /** Let a later file replace a property (default false: a clash is an error). */
  override?: boolean;
  caseStyle?: CaseStyle;
  /** Glob-free: file names (relative to the directory, without extension) or RegExps to skip. */
  ignore?: string | RegExp | Array<string | RegExp>;
  /** Turns each export into what is stored (before `call`). */
  initializer?: (exported: unknown, info: { path: string; pathName: string }) => unknown;
  /** Keeps an export only when it returns true. */
  filter?: (exported: unknown) => boolean;
}

/** The files FileLoader reads: JavaScript only, loaded synchronously as egg's loader does. */
const LOADABLE = new Set(['.js', '.cjs', '.mjs']);

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

function propertiesOf(path: string, caseStyle: CaseStyle): string[] {
  if (typeof caseStyle === 'function') return caseStyle(path);
  return path.split('/').map((part) => {
    const camel = part.replace(/[_-][a-z]/gi, (s) => s.slice(1).toUpperCase());
    if (caseStyle === 'upper') return camel.charAt(0).toUpperCase() + camel.slice(1);
    if (caseStyle === 'lower') return camel.charAt(0).toLowerCase() + camel.slice(1);
    return camel;
  });
}

function ignored(path: string, rules: FileLoaderOptions['ignore']): boolean {
  const list = rules === undefined ? [] : Array.isArray(rules) ? rules : [rules];
  return list.some((rule) => (typeof rule === 'string' ? path === rule.replace(/\.(js|ts)$/, '') || path.startsWith(`${rule}/`) : rule.test(path)));
}

function listFiles(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; name: string; parentPath?: string; path?: string }>)
      .filter((e) => e.isFile() && !e.name.endsWith('.d.ts'))
      .map((e) => join(e.parentPath ?? e.path ?? dir, e.name))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * egg's FileLoader (`app.loader.FileLoader`): loads every JavaScript file of a folder, synchronously,
 * onto `target` — `user/profile.js` at `target.user.profile` (caseStyle `upper`: `User.Profile`) —
 * calling a plain function export with `inject`, as egg-sequelize and egg-router-plus expect.
 */
export class FileLoader {
  readonly options: Required<Pick<FileLoaderOptions, 'call' | 'override' | 'caseStyle'>> & FileLoaderOptions;

  constructor(options: FileLoaderOptions) {
    this.options = { call: true, override: false, caseStyle: 'camel', ...options };
  }

  /** Loads the files and returns the target. */
  load(): FileLoaderOptions['target'] {
    const { target, directory, override } = this.options;
    for (const item of this.parse(directory)) {
      let node = target as Record<string, unknown>;
      item.properties.forEach((property, index) => {
        if (index < item.properties.length - 1) {
          node = (node[property] ??= {}) as Record<string, unknown>;
          return;
        }
        if (property in node && !override)
          throw new ClutchError(
            CoreErrorCode.EGG_LOADER_FAILED,
            `FileLoader: ${item.fullpath} would replace ${item.properties.join('.')}, loaded from another file`,
          );
        node[property] = item.exports;
      });
    }
    return target;
  }

  /** What each file gives: its property path and what it exports (initialized, called, filtered). */
  parse(directory: string | string[]): Array<{ fullpath: string; properties: string[]; exports: unknown }> {
    const items: Array<{ fullpath: string; properties: string[]; exports: unknown }> = [];
    for (const dir of Array.isArray(directory) ? directory : [directory]) {
      for (const fullpath of listFiles(dir)) {
        const ext = extname(fullpath);
        if (ext === '.ts' || ext === '.mts' || ext === '.cts')
          throw new ClutchError(
            CoreErrorCode.EGG_LOADER_FAILED,
            `FileLoader: ${fullpath} is TypeScript; egg's FileLoader loads synchronously, so the files it reads must be JavaScript`,
          );
        if (!LOADABLE.has(ext)) continue;
        const path = relative(dir, fullpath).slice(0, -ext.length).split(sep).join('/');
        if (ignored(path, this.options.ignore)) continue;
        const properties = propertiesOf(path, this.options.caseStyle);
        const exports = this.#exportsOf(fullpath, properties.join('.'));
        if (exports == null) continue;
        if (this.options.filter && this.options.filter(exports) !== true) continue;
        items.push({ fullpath, properties, exports });
      }
    }
    return items;
  }

  #exportsOf(fullpath: string, pathName: string): unknown {
    let exported: unknown;
    try {
      exported = unwrapDefault(require(fullpath));
    } catch (err) {
      throw new ClutchError(CoreErrorCode.EGG_LOADER_FAILED, `FileLoader: ${fullpath} failed to load: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    if (this.options.initializer) exported = this.options.initializer(exported, { path: fullpath, pathName });
    if (isClass(exported) || Object.prototype.toString.call(exported) === '[object AsyncFunction]') return exported;
    if (this.options.call && typeof exported === 'function') {
      const result: unknown = (exported as (inject: unknown) => unknown)(this.options.inject);
      if (result != null) return result;
    }
    return exported;
  }
}
