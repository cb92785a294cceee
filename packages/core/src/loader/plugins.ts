import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ClutchError, CoreErrorCode } from '../errors.js';
import type { FrameworkPlugin, PluginCatalog, PluginMeta } from './framework-plugin.js';
import { importDefault, resolveModuleFile } from './import-module.js';
import { isPlainObject, type PlainObject } from './merge-config.js';

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
  /** The envs its package.json turns it on in, when config/plugin says none. */
  env?: string[];
  optionalDependencies: string[];
  /** Which config/plugin key enabled it. */
  key: string;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

async function readPlugin(key: string, entry: PluginEntry, baseDir: string, catalog: PluginCatalog): Promise<Plugin> {
  let path: string;
  if (entry.path) {
    path = isAbsolute(entry.path) ? entry.path : resolve(baseDir, entry.path);
  } else {
    const pkg = entry.package ?? key;
    // Look in the node_modules folders Node would search, rather than resolving `${pkg}/package.json`:
    // a package whose `exports` does not list its package.json is still a plugin.
    const lookup = createRequire(join(baseDir, 'package.json')).resolve.paths(pkg) ?? [];
    const found = lookup.map((dir) => join(dir, pkg)).find((dir) => existsSync(join(dir, 'package.json')));
    if (!found) {
      catalog.missing?.(key, pkg);
      throw new ClutchError(CoreErrorCode.PLUGIN_INVALID, `Plugin "${key}": package ${pkg} is not installed in ${baseDir}`);
    }
    path = found;
  }
  let json: PlainObject;
  try {
    const parsed: unknown = JSON.parse(await readFile(join(path, 'package.json'), 'utf8'));
    json = isPlainObject(parsed) ? parsed : {};
  } catch {
    throw new ClutchError(CoreErrorCode.PLUGIN_INVALID, `Plugin "${key}": no readable package.json in ${path}`);
  }
  const meta: unknown = json.clutchPlugin === undefined ? catalog.foreign?.(key, path, json) : json.clutchPlugin;
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || !meta.name) {
    throw new ClutchError(CoreErrorCode.PLUGIN_INVALID, `Plugin "${key}": ${join(path, 'package.json')} needs "clutchPlugin": { "name": … }`);
  }
  const { name, dependencies, optionalDependencies, env } = meta as PlainObject & PluginMeta;
  return {
    name,
    path,
    type: 'plugin',
    key,
    dependencies: strings(dependencies),
    optionalDependencies: strings(optionalDependencies),
    ...(Array.isArray(env) ? { env: strings(env) } : {}),
  };
}

/**
 * Which of the framework's plugins a config/plugin entry turns on or off: one named by its key
 * alone (not a folder or a package), else what the catalog makes of it; undefined when none.
 */
function frameworkPluginOf(catalog: PluginCatalog, key: string, entry: PluginEntry, at: { on: boolean; file: string }): string | null | undefined {
  if (!entry.path && !entry.package && catalog.plugins.some((p) => p.name === key && !p.alwaysOn)) return key;
  return catalog.alias?.(key, entry, at);
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

/** What config/plugin says: the load units, and which of the framework's plugins are on. */
export interface ResolvedPlugins {
  units: LoadUnit[];
  /** The framework's plugins config/plugin left on, in catalog order; they load before `units`. */
  builtins: FrameworkPlugin[];
}

/**
 * Reads config/plugin.{ts,js} and returns the load units: the enabled plugins in dependency order,
 * then the project itself; and the framework's plugins (`catalog`) left on. Missing dependencies,
 * duplicate names and cycles are errors that name the plugins involved. `name: true|false` is
 * `{ enable }`, as egg's.
 */
export async function resolveUnits(baseDir: string, env: string, appName: string, catalog: PluginCatalog = { plugins: [] }): Promise<ResolvedPlugins> {
  const app: LoadUnit = { name: appName, path: baseDir, type: 'app' };
  const off = new Set<string>();
  const builtins = () => catalog.plugins.filter((p) => p.alwaysOn || !off.has(p.name));
  const file = await resolveModuleFile(join(baseDir, 'config', 'plugin'));
  if (!file) return { units: [app], builtins: builtins() };
  const declared = await importDefault(file, CoreErrorCode.CONFIG_LOAD_FAILED);
  if (!isPlainObject(declared)) throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `${file} must export default { name: { enable, package | path, env } }`);

  const enabled: Plugin[] = [];
  const disabled = new Set<string>();
  for (const [key, raw] of Object.entries(declared)) {
    const entry = (typeof raw === 'boolean' ? { enable: raw } : raw) as PluginEntry;
    if (!isPlainObject(entry))
      throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `${file}: plugin "${key}" must be true, false or an object { enable, package | path, env }`);
    const on = entry.enable !== false && (!Array.isArray(entry.env) || entry.env.includes(env));
    const ours = frameworkPluginOf(catalog, key, entry, { on, file });
    if (ours !== undefined) {
      if (ours !== null && !on) off.add(ours);
      continue;
    }
    if (!on) {
      disabled.add(key);
      continue;
    }
    const plugin = await readPlugin(key, entry, baseDir, catalog);
    // The package's own env list applies only where config/plugin gave none, as egg reads eggPlugin.env.
    if (!Array.isArray(entry.env) && plugin.env && !plugin.env.includes(env)) {
      disabled.add(plugin.name);
      continue;
    }
    enabled.push(plugin);
  }
  // A framework plugin that is on meets a dependency by its name, or by a name the catalog gives it
  // (null: a part of the framework that is always there, as egg's onerror).
  const providedByFramework = (dep: string): boolean => {
    const on = builtins().map((p) => p.name);
    if (on.includes(dep)) return true;
    const alias = catalog.alias?.(dep, {}, { on: false, file });
    return alias === null || (alias !== undefined && on.includes(alias));
  };
  const seen = new Map<string, Plugin>();
  for (const p of enabled) {
    const twin = seen.get(p.name);
    if (twin)
      throw new ClutchError(CoreErrorCode.PLUGIN_DUPLICATE, `Two plugins are named "${p.name}": "${twin.key}" (${twin.path}) and "${p.key}" (${p.path})`);
    seen.set(p.name, p);
  }
  for (const p of enabled) {
    for (const dep of p.dependencies) {
      if (seen.has(dep) || providedByFramework(dep)) continue;
      const why = disabled.has(dep) ? 'which is disabled' : 'which is not in config/plugin';
      throw new ClutchError(CoreErrorCode.PLUGIN_MISSING_DEPENDENCY, `Plugin "${p.name}" depends on plugin "${dep}", ${why}`);
    }
  }
  return { units: [...order(enabled), app], builtins: builtins() };
}
