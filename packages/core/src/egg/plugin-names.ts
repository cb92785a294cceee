import { ClutchError, CoreErrorCode } from '../errors.js';
import { join } from 'node:path';
import type { PluginCatalog } from '../loader/framework-plugin.js';
import { isPlainObject } from '../loader/merge-config.js';
import type { PluginEntry } from '../loader/plugins.js';
import type { BuiltinPlugin } from './plugins.js';

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

/**
 * How egg's config/plugin names things, for the plugin loader: egg's package and key names of the
 * built-ins (and of the parts of Clutch that are always there), and egg's plugins Clutch does not
 * have, turned on, which fail the start with CLUTCH_ERR_NOT_PROVIDED. And egg's plugin-package
 * protocol (`foreign`): a package.json with `eggPlugin` (`name`, `dependencies`,
 * `optionalDependencies`, `env`) loads as a plugin, its files as a Clutch plugin's.
 */
export const EGG_PLUGIN_NAMES: Required<Pick<PluginCatalog, 'alias' | 'foreign'>> = {
  alias(key, entry, { on, file }) {
    const elsewhere = eggElsewhere(key, entry);
    if (elsewhere && on) {
      throw new ClutchError(
        CoreErrorCode.NOT_PROVIDED,
        `${file}: plugin "${key}" is egg's ${key}; Clutch does not provide it: use ${elsewhere} (docs/coming-from-egg.md)`,
      );
    }
    if (entry.path) return undefined;
    if (entry.package) return entry.package in EGG_PACKAGES ? EGG_PACKAGES[entry.package] : undefined;
    return key in EGG_KEYS ? EGG_KEYS[key] : undefined;
  },
  foreign(key, path, pkg) {
    const meta = pkg.eggPlugin;
    if (meta === undefined) return undefined;
    if (!isPlainObject(meta))
      throw new ClutchError(CoreErrorCode.PLUGIN_INVALID, `Plugin "${key}": ${join(path, 'package.json')} has an eggPlugin field that is not an object`);
    // egg names a plugin by its config/plugin key; eggPlugin.name says the same, or is left out.
    const name = typeof meta.name === 'string' && meta.name ? meta.name : key;
    const list = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
    return {
      name,
      dependencies: list(meta.dependencies),
      optionalDependencies: list(meta.optionalDependencies),
      ...(Array.isArray(meta.env) ? { env: list(meta.env) } : {}),
    };
  },
};
