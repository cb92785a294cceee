import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import type { Logger } from '@clutch/cluster';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { configureTypeScript, importDefault, resolveModuleFile } from '../loader/import-module.js';
import { projectName } from '../loader/config.js';
import { camelCase, listModules } from '../loader/list-modules.js';
import { resolveUnits } from '../loader/plugins.js';
import { EGG_PLUGINS } from './plugins.js';

/** Where `app typings` writes: one file, which a tsconfig's `include: ["typings", …]` picks up (egg's boilerplate has it). */
export const TYPINGS_FILE = join('typings', 'clutch.d.ts');

const TS_FILE = /\.(?:c|m)?ts$/;
const EXTEND_TARGETS = {
  application: { module: '@clutch/core', name: 'Application' },
  agent: { module: '@clutch/core', name: 'Agent' },
  helper: { module: '@clutch/core', name: 'IHelper' },
  context: { module: 'koa', name: 'DefaultContext' },
  request: { module: 'koa', name: 'BaseRequest' },
  response: { module: 'koa', name: 'BaseResponse' },
} as const;

interface Tree {
  [name: string]: Tree | string;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** `../app/service/Test.js`: the import of a project file from typings/, as every module resolution reads it. */
function specifier(baseDir: string, file: string): string {
  const rel = relative(join(baseDir, 'typings'), file).split(sep).join('/');
  return rel
    .replace(/\.ts$/, '.js')
    .replace(/\.mts$/, '.mjs')
    .replace(/\.cts$/, '.cjs');
}

function identifier(prefix: string, parts: string[]): string {
  return prefix + parts.map((p) => p.replace(/[^A-Za-z0-9]/g, '').replace(/^./, (c) => c.toUpperCase())).join('');
}

function printTree(tree: Tree, indent: string): string {
  return Object.entries(tree)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${indent}${JSON.stringify(name)}: ${typeof value === 'string' ? value : `{\n${printTree(value, `${indent}  `)}\n${indent}}`};`)
    .join('\n');
}

/** A unit's app/controller or app/service into `tree` (a later unit wins a name, as the loader's), each file imported by name. */
async function treeOf(
  unit: string,
  baseDir: string,
  folder: string,
  prefix: string,
  wrap: (id: string) => string,
  imports: string[],
  tree: Tree = {},
): Promise<Tree> {
  const dir = join(unit, 'app', folder);
  for (const file of await listModules(dir)) {
    // JavaScript files have no types to give: they stay out, as egg-ts-helper leaves them.
    if (!TS_FILE.test(file)) continue;
    const path = relative(dir, file).slice(0, -extname(file).length).split(sep).map(camelCase);
    const id = identifier(prefix, path);
    imports.push(`import type ${id} from '${specifier(baseDir, file)}';`);
    let node = tree;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = typeof next === 'object' ? next : (node[key] = {});
    }
    node[path[path.length - 1]!] = wrap(id);
  }
  return tree;
}

/**
 * The names an app/extend file adds: its default export's own keys. The file is imported for them
 * (a fresh `app typings` process does it, so nothing stays cached), because naming each member —
 * rather than `extends typeof file` — keeps a context extension whose methods take `this: Context`
 * from being part of its own type.
 */
async function extendKeys(file: string): Promise<string[]> {
  const exported = await importDefault(file);
  if (typeof exported !== 'object' || exported === null) {
    throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default an object of properties, getters and methods to add`);
  }
  return Object.keys(Object.getOwnPropertyDescriptors(exported));
}

/**
 * `app typings`: egg-ts-helper's work — writes typings/clutch.d.ts declaring the project's
 * ControllerTree (app/controller), ServiceTree (app/service), AppConfig (config/config.default and
 * every config.<env>, the framework's keys left to the framework) and what app/extend adds to the
 * app, the agent, ctx, ctx.request, ctx.response and ctx.helper — the project's and those of the
 * plugins config/plugin turns on (env local), as the loader merges them — from their TypeScript files. Writes only when the content changes; resolves with whether it did.
 */
export async function writeTypings(baseDir: string): Promise<{ file: string; changed: boolean }> {
  configureTypeScript(baseDir, quiet);
  // The plugins config/plugin turns on in env local (app dev's), then the project: what the loader loads.
  const { units } = await resolveUnits(baseDir, 'local', await projectName(baseDir), EGG_PLUGINS);
  const imports: string[] = ["import type { ActionsOf, FrameworkConfig } from '@clutch/core';"];
  const controllers = await treeOf(baseDir, baseDir, 'controller', 'Controller', (id) => `ActionsOf<${id}>`, imports);
  const services: Tree = {};
  for (const unit of units) {
    const tag = unit.type === 'app' ? 'Service' : identifier('Plugin', [camelCase(unit.name), 'service']);
    await treeOf(unit.path, baseDir, 'service', tag, (id) => id, imports, services);
  }

  const configs: string[] = [];
  const configDir = join(baseDir, 'config');
  const configFiles = await readdir(configDir).catch(() => [] as string[]);
  for (const name of configFiles.sort()) {
    const env = /^config\.([\w-]+)\.(?:c|m)?ts$/.exec(name)?.[1];
    if (!env || name.endsWith('.d.ts')) continue;
    const id = identifier('Config', [env]);
    imports.push(`import type ${id} from '${specifier(baseDir, join(configDir, name))}';`);
    configs.push(`ConfigOf<typeof ${id}>`);
  }

  const augment: Record<string, string[]> = { '@clutch/core': [], koa: [] };
  augment['@clutch/core']!.push(`  interface ControllerTree {\n${printTree(controllers, '    ')}\n  }`);
  augment['@clutch/core']!.push(`  interface ServiceTree {\n${printTree(services, '    ')}\n  }`);
  if (configs.length > 0) augment['@clutch/core']!.push('  interface AppConfig extends ProjectConfig {}');
  for (const [extend, target] of Object.entries(EXTEND_TARGETS)) {
    // Every unit's file, a later unit winning a member, as loadExtend merges them.
    const members = new Map<string, string>();
    for (const unit of units) {
      const file = await resolveModuleFile(join(unit.path, 'app', 'extend', extend));
      if (!file || !TS_FILE.test(file)) continue;
      const id = identifier(unit.type === 'app' ? 'Extend' : identifier('Plugin', [camelCase(unit.name), 'extend']), [extend]);
      imports.push(`import type ${id} from '${specifier(baseDir, file)}';`);
      for (const key of await extendKeys(file)) members.set(key, `(typeof ${id})[${JSON.stringify(key)}]`);
    }
    if (members.size === 0) continue;
    const lines = [...members].map(([key, type]) => `    ${JSON.stringify(key)}: ${type};`);
    augment[target.module]!.push(`  interface ${target.name} {\n${lines.join('\n')}\n  }`);
  }

  const text = [
    "// Generated by `app typings` (and kept current by `app dev`) from this project's files: do not edit.",
    '// See docs/coming-from-egg.md, "TypeScript".',
    ...imports,
    '',
    'type ConfigOf<T> = T extends (...args: never[]) => infer R ? Awaited<R> : T;',
    "/** The project's own config keys: index signatures and the framework's keys (typed by the framework) left out. */",
    'type OwnKeys<T> = {',
    "  [K in keyof T as string extends K ? never : number extends K ? never : K extends keyof FrameworkConfig | 'env' | 'name' | 'baseDir' ? never : K]: T[K];",
    '};',
    `type ProjectConfig = OwnKeys<${configs.join(' & ') || '{}'}>;`,
    '',
    ...Object.entries(augment)
      .filter(([, blocks]) => blocks.length > 0)
      .map(([module, blocks]) => `declare module '${module}' {\n${blocks.join('\n')}\n}\n`),
  ].join('\n');
  const file = join(baseDir, TYPINGS_FILE);
  const before = await readFile(file, 'utf8').catch(() => null);
  if (before === text) return { file, changed: false };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  return { file, changed: true };
}
