import type { AppInfo, ClutchConfig } from '../config.js';
import { loadConfig as loadUnitsConfig, type ConfigSources } from '../loader/config.js';
import type { LoadUnit } from '../loader/plugins.js';
import { EGG_PLUGINS } from './plugins.js';

/**
 * A project's config as its processes see it: the framework's defaults — the built-ins' included,
 * on or off, as in every process — then the units' files in the documented order (see
 * docs/concepts.md#config), checked. For tools and tests; a process loads its config as it boots.
 */
export function loadConfig(baseDir: string, env: string, units?: LoadUnit[]): Promise<{ config: ClutchConfig; appInfo: AppInfo; sources: ConfigSources }> {
  return loadUnitsConfig(baseDir, env, units, EGG_PLUGINS.plugins);
}
