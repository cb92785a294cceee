import { extname, relative, sep } from 'node:path';
import type { Next } from 'koa';
import type { Context } from '../context.js';
import { Controller, type ControllerAction, type ControllerTree } from '../controller.js';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { importDefault } from './import-module.js';
import { camelCase, listModules } from './list-modules.js';

type Method = (this: unknown, ctx: Context, next: Next) => unknown;
type ControllerClass = new (ctx: Context) => Record<string, unknown>;

/** Properties the Controller base class sets on each instance; a method of that name would be shadowed. */
const CONTROLLER_PROPERTIES = new Set(['ctx', 'app', 'config', 'service']);

function classActions(Cls: ControllerClass, label: string, file: string): Record<string, ControllerAction> {
  const actions: Record<string, ControllerAction> = {};
  const isController = Cls.prototype instanceof Controller;
  for (
    let proto = Cls.prototype as object | null;
    proto && proto !== Object.prototype && proto !== Controller.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || name in actions) continue;
      if (typeof Object.getOwnPropertyDescriptor(proto, name)?.value !== 'function') continue;
      if (isController && CONTROLLER_PROPERTIES.has(name)) {
        throw new ClutchError(
          CoreErrorCode.LOADER_INVALID_EXPORT,
          `${file}: the action "${name}" would be hidden by the controller's own this.${name}; rename it`,
        );
      }
      const action: ControllerAction = (koaCtx, next) => {
        // Every context of this app is created by a Clutch Application: its `app` is one.
        const ctx = koaCtx as Context;
        const instance = new Cls(ctx);
        return (instance[name] as Method).call(instance, ctx, next) as Promise<void>;
      };
      Object.defineProperty(action, 'name', { value: `${label}.${name}` });
      actions[name] = action;
    }
  }
  return actions;
}

function objectActions(obj: Record<string, unknown>, label: string): Record<string, ControllerAction> {
  const actions: Record<string, ControllerAction> = {};
  for (const [name, value] of Object.entries(obj)) {
    if (typeof value !== 'function') continue;
    const action: ControllerAction = (ctx, next) => (value as Method).call(obj, ctx as Context, next) as Promise<void>;
    Object.defineProperty(action, 'name', { value: `${label}.${name}` });
    actions[name] = action;
  }
  return actions;
}

/** Loads app/controller/** into a tree: admin/user.ts → tree.admin.user.<method>. */
export async function loadControllers(dir: string): Promise<ControllerTree> {
  const tree: Record<string, unknown> = {};
  for (const file of await listModules(dir)) {
    const path = relative(dir, file).slice(0, -extname(file).length).split(sep).map(camelCase);
    const label = path.join('.');
    const exported = await importDefault(file);
    let actions: Record<string, ControllerAction>;
    if (typeof exported === 'function') actions = classActions(exported as ControllerClass, label, file);
    else if (typeof exported === 'object' && exported !== null) actions = objectActions(exported as Record<string, unknown>, label);
    else throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default a controller class or an object of actions`);
    let node = tree;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = actions;
  }
  return tree;
}
