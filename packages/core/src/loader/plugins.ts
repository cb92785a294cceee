import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { importDefault, resolveModuleFile } from './import-module.js';
import { isPlainObject } from './merge-config.js';

/** One entry of config/plugin.{ts,js}. */
export interface PluginEntry {
  /** Whether the plugin is on (default true). */
  enable?: boolean;
  /** An npm package holding the plugin, resolved from the project. */
  package?: string;
  /** A folder holding the plugin, absolute or relative to the project. */
  path?: string;
  /** The envs in which the plugin is on (default: all). */
  env?: string[];
}

/** A folder whose files load like the project's: config, app.ts, agent.ts, app/service, … */
export interface LoadUnit {
  /** The plugin's name, or the project's name for the project itself. */
  name: string;
  path: string;
  type: 'plugin' | 'app';
}

interface Plugin extends LoadUnit {
  dependencies: string[];
  optionalDependencies: string[];
  /** Which config/plugin key enabled it. */
  key: string;
}

/** The plugins Clutch has built in: on unless config/plugin turns them off (`static: false` or `{ enable: false }`). */
export const BUILTIN_PLUGINS = ['static', 'session', 'security', 'multipart', 'view'] as const;
export type BuiltinPlugin = (typeof BUILTIN_PLUGINS)[number];

/**
 * egg's own plugin packages, as an egg project's config/plugin names them: each is one of the
 * built-ins, or a part of Clutch that is always there (null).
 */
const EGG_PACKAGES: Record<string, BuiltinPlugin | null> = {
  'egg-static': 'static',
  'egg-session': 'session',
  'egg-security': 'security',
  'egg-multipart': 'multipart',
  'egg-view': 'view',
  'egg-view-nunjucks': 'view',
  'egg-schedule': null,
  'egg-onerror': null,
  'egg-watcher': null,
  'egg-development': null,
  'egg-logrotator': null,
};

/** egg's own plugin keys, as an egg project turns them on or off. */
const EGG_KEYS: Record<string, BuiltinPlugin | null> = {
  nunjucks: 'view',
  schedule: null,
  onerror: null,
  watcher: null,
  development: null,
  logrotator: null,
};

/** egg's plugins with no Clutch counterpart, by key and by package: what to use instead. */
const EGG_ELSEWHERE: Record<string, string> = {
  i18n: 'an i18n library (koa-i18n, i18next) as middleware',
  jsonp: 'koa-jsonp as middleware',
};

function eggElsewhere(key: string, entry: PluginEntry): string | undefined {
  if (entry.path) return undefined;
  const name = entry.package ? entry.package.replace(/^(@eggjs\/|egg-)/, '') : key;
  if (entry.package && entry.package === name) return undefined;
  return EGG_ELSEWHERE[name];
}

function builtinOf(key: string, entry: PluginEntry): BuiltinPlugin | null | undefined {
  if (entry.path) return undefined;
  if (entry.package) return entry.package in EGG_PACKAGES ? EGG_PACKAGES[entry.package] : undefined;
  if ((BUILTIN_PLUGINS as readonly string[]).includes(key)) return key as BuiltinPlugin;
  return key in EGG_KEYS ? EGG_KEYS[key] : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

async function readPlugin(key: string, entry: PluginEntry, baseDir: string): Promise<Plugin> {
  let path: string;
  if (entry.path) {
    path = isAbsolute(entry.path) ? entry.path : resolve(baseDir, entry.path);
  } else {
    const pkg = entry.package ?? key;
    // Look in the node_modules folders Node would search, rather than resolving `${pkg}/package.json`:
    // a package whose `exports` does not list its package.json is still a plugin.
    const lookup = createRequire(join(baseDir, 'package.json')).resolve.paths(pkg) ?? [];
    const found = lookup.map((dir) => join(dir, pkg)).find((dir) => existsSync(join(dir, 'package.json')));
    if (!found && /^(egg-|@eggjs\/)/.test(pkg)) {
      throw new ClutchError(
        CoreErrorCode.NOT_PROVIDED,
        `Plugin "${key}": ${pkg} is an egg plugin (and is not installed): egg's plugins do not load in Clutch. See docs/coming-from-egg.md for what is built in and what replaces the rest`,
      );
    }
    if (!found) throw new ClutchError(CoreErrorCode.PLUGIN_INVALID, `Plugin "${key}": package ${pkg} is not installed in ${baseDir}`);
    path = found;
  }
  let meta: unknown;
  let eggPlugin: unknown;
  try {
    ({ clutchPlugin: meta, eggPlugin } = JSON.parse(await readFile(join(path, 'package.json'), 'utf8')) as { clutchPlugin?: unknown; eggPlugin?: unknown });
  } catch {
    throw new ClutchError(CoreErrorCode.PLUGIN_INVALID, `Plugin "${key}": no readable package.json in ${path}`);
  }
  if (meta === undefined && eggPlugin !== undefined) {
    throw new ClutchError(
      CoreErrorCode.NOT_PROVIDED,
      `Plugin "${key}" (${path}) is an egg plugin: egg's plugins do not load in Clutch. See docs/coming-from-egg.md for what is built in and what replaces the rest`,
    );
  }
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || !meta.name) {
    throw new ClutchError(CoreErrorCode.PLUGIN_INVALID, `Plugin "${key}": ${join(path, 'package.json')} needs "clutchPlugin": { "name": … }`);
  }
  return { name: meta.name, path, type: 'plugin', key, dependencies: strings(meta.dependencies), optionalDependencies: strings(meta.optionalDependencies) };
}

/**
 * Orders plugins so each loads after what it depends on; among independent plugins the order of
 * config/plugin stands. A cycle is an error naming it.
 */
function order(plugins: Plugin[]): Plugin[] {
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const done = new Set<string>();
  const visiting: string[] = [];
  const sorted: Plugin[] = [];
  const visit = (p: Plugin) => {
    if (done.has(p.name)) return;
    const at = visiting.indexOf(p.name);
    if (at >= 0) {
      const cycle = [...visiting.slice(at), p.name].join(' → ');
      throw new ClutchError(CoreErrorCode.PLUGIN_CYCLE, `Plugins depend on each other in a cycle: ${cycle}`);
    }
    visiting.push(p.name);
    for (const dep of [...p.dependencies, ...p.optionalDependencies]) {
      const d = byName.get(dep);
      if (d) visit(d);
    }
    visiting.pop();
    done.add(p.name);
    sorted.push(p);
  };
  for (const p of plugins) visit(p);
  return sorted;
}

/** What config/plugin says: the load units, and which built-in plugins are on. */
export interface ResolvedPlugins {
  units: LoadUnit[];
  builtins: Set<BuiltinPlugin>;
}

/**
 * Reads config/plugin.{ts,js} and returns the load units: the enabled plugins in dependency order,
 * then the project itself; and the built-in plugins left on. Missing dependencies, duplicate names
 * and cycles are errors that name the plugins involved. `name: true|false` is `{ enable }`, as egg's.
 */
export async function resolveUnits(baseDir: string, env: string, appName: string): Promise<ResolvedPlugins> {
  const app: LoadUnit = { name: appName, path: baseDir, type: 'app' };
  const builtins = new Set<BuiltinPlugin>(BUILTIN_PLUGINS);
  const file = await resolveModuleFile(join(baseDir, 'config', 'plugin'));
  if (!file) return { units: [app], builtins };
  const declared = await importDefault(file, CoreErrorCode.CONFIG_LOAD_FAILED);
  if (!isPlainObject(declared)) throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `${file} must export default { name: { enable, package | path, env } }`);

  const enabled: Plugin[] = [];
  const disabled = new Set<string>();
  for (const [key, raw] of Object.entries(declared)) {
    const entry = (typeof raw === 'boolean' ? { enable: raw } : raw) as PluginEntry;
    if (!isPlainObject(entry))
      throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `${file}: plugin "${key}" must be true, false or an object { enable, package | path, env }`);
    const on = entry.enable !== false && (!Array.isArray(entry.env) || entry.env.includes(env));
    const elsewhere = eggElsewhere(key, entry);
    if (elsewhere && on) {
      throw new ClutchError(
        CoreErrorCode.NOT_PROVIDED,
        `${file}: plugin "${key}" is egg's ${key}; Clutch does not provide it: use ${elsewhere} (docs/coming-from-egg.md)`,
      );
    }
    const builtin = builtinOf(key, entry);
    if (builtin !== undefined) {
      if (builtin && !on) builtins.delete(builtin);
      continue;
    }
    if (!on) {
      disabled.add(key);
      continue;
    }
    enabled.push(await readPlugin(key, entry, baseDir));
  }
  const seen = new Map<string, Plugin>();
  for (const p of enabled) {
    const twin = seen.get(p.name);
    if (twin)
      throw new ClutchError(CoreErrorCode.PLUGIN_DUPLICATE, `Two plugins are named "${p.name}": "${twin.key}" (${twin.path}) and "${p.key}" (${p.path})`);
    seen.set(p.name, p);
  }
  for (const p of enabled) {
    for (const dep of p.dependencies) {
      if (seen.has(dep)) continue;
      const why = disabled.has(dep) ? 'which is disabled' : 'which is not in config/plugin';
      throw new ClutchError(CoreErrorCode.PLUGIN_MISSING_DEPENDENCY, `Plugin "${p.name}" depends on plugin "${dep}", ${why}`);
    }
  }
  return { units: [...order(enabled), app], builtins };
}
