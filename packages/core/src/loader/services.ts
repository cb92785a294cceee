import { extname, join, relative, sep } from 'node:path';
import { ClutchError, CoreErrorCode } from '../errors.js';
import type { ServiceClass, ServiceNode } from '../service.js';
import { importDefault } from './import-module.js';
import { camelCase, listModules } from './list-modules.js';
import type { LoadUnit } from './plugins.js';

/** Loads app/service/** of every unit into a tree of classes; a later unit's file wins a name. */
export async function loadServices(units: LoadUnit[]): Promise<ServiceNode> {
  const tree: ServiceNode = {};
  for (const unit of units) {
    const dir = join(unit.path, 'app', 'service');
    for (const file of await listModules(dir)) {
      const path = relative(dir, file).slice(0, -extname(file).length).split(sep).map(camelCase);
      const Cls = await importDefault(file);
      if (typeof Cls !== 'function') throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default a service class`);
      let node = tree;
      for (const key of path.slice(0, -1)) {
        const next = node[key];
        if (typeof next === 'function') throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file}: "${key}" is both a service and a folder`);
        node = next ?? (node[key] = {});
      }
      node[path[path.length - 1]!] = Cls as ServiceClass;
    }
  }
  return tree;
}
