import { join } from 'node:path';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { importDefault, resolveModuleFile } from './import-module.js';
import type { LoadUnit } from './plugins.js';

/** app/extend/<name>: what each file extends. The agent has only `agent`; a worker the rest. */
export type ExtendName = 'application' | 'context' | 'request' | 'response' | 'helper' | 'agent';

/**
 * Merges app/extend/<name>.{ts,js} of every unit, in load order (a later unit wins a property), onto
 * `target`, as egg does: each export's own properties, descriptors and all — a getter stays a
 * getter, so `get isIOS() { return … this.get('user-agent') … }` is computed per request.
 */
export async function loadExtend(units: LoadUnit[], name: ExtendName, target: object): Promise<string[]> {
  const files: string[] = [];
  for (const unit of units) {
    const file = await resolveModuleFile(join(unit.path, 'app', 'extend', name));
    if (!file) continue;
    const exported = await importDefault(file);
    if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) {
      throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default an object of properties, getters and methods to add`);
    }
    for (const key of Reflect.ownKeys(exported)) {
      Object.defineProperty(target, key, { ...Object.getOwnPropertyDescriptor(exported, key)!, configurable: true });
    }
    files.push(file);
  }
  return files;
}
