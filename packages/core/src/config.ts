import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { ListenConfig } from '@clutch/cluster';
import { ClutchError, CoreErrorCode } from './errors.js';
import { importDefault, resolveModuleFile } from './import-module.js';
import { isPlainObject, mergeConfig, type PlainObject } from './merge-config.js';

/** What a function-form config file receives. */
export interface AppInfo {
  /** The project's package name (or its folder name). */
  name: string;
  baseDir: string;
  env: string;
  HOME: string;
  /** The project's package.json. */
  pkg: PlainObject;
}

/** The configuration every process of the cluster reads. Project keys sit beside the framework's. */
export interface ClutchConfig {
  env: string;
  name: string;
  baseDir: string;
  cluster: {
    /** Where workers listen. The CLI's `--port` wins over `listen.port`. */
    listen: ListenConfig;
    /** How long an idle keep-alive connection stays open, in ms. */
    keepAliveTimeout: number;
  };
  /** How long one lifecycle hook may take, in ms. */
  hookTimeout: number;
  messenger: {
    /** Default timeout of `messenger.request`, in ms. */
    requestTimeout: number;
  };
  [key: string]: unknown;
}

/** A config file's default export: an object, or a function of the AppInfo returning one. */
export type ConfigExport = PlainObject | ((appInfo: AppInfo) => PlainObject | Promise<PlainObject>);

function frameworkDefaults(): PlainObject {
  return {
    cluster: { listen: { port: 7001 }, keepAliveTimeout: 5_000 },
    hookTimeout: 10_000,
    messenger: { requestTimeout: 5_000 },
  };
}

async function readPackage(baseDir: string): Promise<PlainObject> {
  try {
    const pkg: unknown = JSON.parse(await readFile(join(baseDir, 'package.json'), 'utf8'));
    return isPlainObject(pkg) ? pkg : {};
  } catch {
    return {};
  }
}

async function loadConfigFile(file: string, appInfo: AppInfo): Promise<PlainObject> {
  const exported = await importDefault(file, CoreErrorCode.CONFIG_LOAD_FAILED);
  let value: unknown = exported;
  if (typeof exported === 'function') {
    try {
      value = await (exported as (info: AppInfo) => unknown)(appInfo);
    } catch (err) {
      throw new ClutchError(CoreErrorCode.CONFIG_LOAD_FAILED, `The config function in ${file} threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  if (!isPlainObject(value)) {
    throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `${file} must export default an object or a function returning one`);
  }
  return value;
}

/**
 * Loads the framework's defaults, then config/config.default, then config/config.<env>, each
 * deep-merged over the last (arrays replace).
 */
export async function loadConfig(baseDir: string, env: string): Promise<{ config: ClutchConfig; appInfo: AppInfo }> {
  const pkg = await readPackage(baseDir);
  const name = typeof pkg.name === 'string' && pkg.name ? pkg.name : basename(baseDir);
  const appInfo: AppInfo = { name, baseDir, env, HOME: homedir(), pkg };
  const config = frameworkDefaults();
  for (const base of ['config.default', `config.${env}`]) {
    const file = await resolveModuleFile(join(baseDir, 'config', base));
    if (file) mergeConfig(config, await loadConfigFile(file, appInfo));
  }
  Object.assign(config, { env, name, baseDir });
  return { config: config as ClutchConfig, appInfo };
}
