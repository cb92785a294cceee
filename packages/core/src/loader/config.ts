import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve as resolvePath } from 'node:path';
import bytes from 'bytes';
import type { AppInfo, ClutchConfig } from '../config.js';
import { ClutchError, CoreErrorCode } from '../errors.js';
import type { LeaderOptions } from '../leader/lease-store.js';
import { parseInterval } from '../schedule.js';
import { importDefault, resolveModuleFile } from './import-module.js';
import { isPlainObject, mergeConfig, type PlainObject } from './merge-config.js';
import { checkServer } from './check-server.js';
import type { ConfigFail, FrameworkPlugin } from './framework-plugin.js';
import type { LoadUnit } from './plugins.js';

/** The kernel's own keys; the framework's plugins bring theirs (FrameworkPlugin.config). */
function frameworkDefaults(): PlainObject {
  return {
    cluster: { listen: { port: 7001 }, keepAliveTimeout: 5_000 },
    hookTimeout: 10_000,
    messenger: { requestTimeout: 5_000, maxMessageBytes: 8 * 1024 * 1024, maxPendingBytes: 32 * 1024 * 1024 },
    middleware: [],
    bodyParser: { enable: true },
    onerror: {},
    logger: {},
    telemetry: { enabled: false },
  };
}

/** The project's name: its package name, else its folder's name. */
export async function projectName(baseDir: string): Promise<string> {
  const pkg = await readPackage(baseDir);
  return typeof pkg.name === 'string' && pkg.name ? pkg.name : basename(baseDir);
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
      throw new ClutchError(CoreErrorCode.CONFIG_LOAD_FAILED, `The config function in ${file} threw: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }
  if (!isPlainObject(value)) {
    throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `${file} must export default an object or a function returning one`);
  }
  return value;
}

/**
 * Checks the framework's own keys after the merge — the kernel's, then each framework plugin's —
 * so a wrong one fails the start with a coded error naming the key and the file that set it, not a
 * TypeError later. `bodyParser: false` (or true) is accepted as `{ enable: false }`.
 */
function checkFrameworkKeys(config: PlainObject, sources: ConfigSources, framework: readonly FrameworkPlugin[]): void {
  const where = (path: string) => {
    const file = sources[path] ?? Object.entries(sources).find(([k]) => k.startsWith(`${path}.`))?.[1];
    return file && file !== 'framework' ? ` (set in ${file})` : '';
  };
  const fail: ConfigFail = (path, expected, value) => {
    throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `config.${path} must be ${expected}, got ${JSON.stringify(value)}${where(path)}`);
  };
  const positive = (path: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(path, 'a positive number of milliseconds', value);
  };
  if (typeof config.bodyParser === 'boolean') config.bodyParser = { enable: config.bodyParser };
  for (const key of ['cluster', 'messenger', 'bodyParser', 'onerror'] as const) if (!isPlainObject(config[key])) fail(key, 'an object', config[key]);
  const cluster = config.cluster as PlainObject;
  if (!isPlainObject(cluster.listen)) fail('cluster.listen', 'an object { port, hostname, path }', cluster.listen);
  const listen = cluster.listen;
  if (listen.port !== undefined && (!Number.isInteger(listen.port) || (listen.port as number) < 0 || (listen.port as number) > 65535))
    fail('cluster.listen.port', 'an integer from 0 to 65535', listen.port);
  for (const key of ['hostname', 'path'] as const)
    if (listen[key] !== undefined && typeof listen[key] !== 'string') fail(`cluster.listen.${key}`, 'a string', listen[key]);
  if (listen.tls !== undefined) {
    const tls = listen.tls as PlainObject;
    if (!isPlainObject(tls) || typeof tls.key !== 'string' || typeof tls.cert !== 'string')
      fail('cluster.listen.tls', '{ key, cert }: the paths of PEM files', listen.tls);
    for (const key of ['key', 'cert'] as const) {
      const file = resolvePath(config.baseDir as string, tls[key] as string);
      if (!existsSync(file)) fail(`cluster.listen.tls.${key}`, 'a file that exists', file);
    }
  }
  if (listen.reusePort !== undefined && typeof listen.reusePort !== 'boolean') fail('cluster.listen.reusePort', 'true or false', listen.reusePort);
  if (cluster.scheduling !== undefined && cluster.scheduling !== 'rr' && cluster.scheduling !== 'os')
    fail('cluster.scheduling', "'rr' or 'os'", cluster.scheduling);
  if (cluster.sticky !== undefined && typeof cluster.sticky !== 'boolean') fail('cluster.sticky', 'true or false', cluster.sticky);
  if (listen.http2 !== undefined && typeof listen.http2 !== 'boolean') fail('cluster.listen.http2', 'true or false', listen.http2);
  if (listen.http2 === true && listen.tls === undefined)
    fail('cluster.listen.http2', 'used with cluster.listen.tls (HTTP/2 is offered by ALPN, over TLS)', listen.http2);
  positive('cluster.keepAliveTimeout', cluster.keepAliveTimeout);
  if (cluster.health !== undefined) {
    const health = cluster.health as PlainObject;
    if (!isPlainObject(health)) fail('cluster.health', 'an object { port?, hostname?, minReady? }', cluster.health);
    if (health.port !== undefined && (!Number.isInteger(health.port) || (health.port as number) < 0 || (health.port as number) > 65535))
      fail('cluster.health.port', 'a port from 0 to 65535', health.port);
    if (health.minReady !== undefined && (!Number.isInteger(health.minReady) || (health.minReady as number) < 1))
      fail('cluster.health.minReady', 'a number of worker slots, 1 or more', health.minReady);
    if (health.hostname !== undefined && typeof health.hostname !== 'string') fail('cluster.health.hostname', 'a string', health.hostname);
  }
  for (const key of ['drainDelay', 'stallTimeout'] as const) {
    const value = cluster[key];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0)) fail(`cluster.${key}`, 'a number of milliseconds, 0 or more', value);
  }
  if (cluster.maxMemory !== undefined) {
    const raw = cluster.maxMemory;
    const value = typeof raw === 'string' ? bytes.parse(raw) : raw;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
      fail('cluster.maxMemory', "a positive number of bytes or a size like '512MB'", raw);
    cluster.maxMemory = value;
  }
  checkServer(cluster, fail);
  cluster.leader = checkLeader(cluster.leader, config.name as string, fail);
  if (!isPlainObject(config.logger)) fail('logger', 'an object', config.logger);
  const { format } = config.logger;
  if (format !== undefined && format !== 'text' && format !== 'json') fail('logger.format', "'text' or 'json'", format);
  // telemetry (docs/operations.md): whether the agent and the workers load OpenTelemetry, and how they export.
  const telemetry = config.telemetry as PlainObject;
  if (!isPlainObject(telemetry) || typeof telemetry.enabled !== 'boolean')
    fail('telemetry', "an object { enabled: boolean, serviceName?, exporter?: 'otlp' | 'console' }", config.telemetry);
  if (telemetry.serviceName !== undefined && (typeof telemetry.serviceName !== 'string' || telemetry.serviceName === ''))
    fail('telemetry.serviceName', 'a non-empty string', telemetry.serviceName);
  if (telemetry.exporter !== undefined && telemetry.exporter !== 'otlp' && telemetry.exporter !== 'console')
    fail('telemetry.exporter', "'otlp' or 'console'", telemetry.exporter);
  positive('hookTimeout', config.hookTimeout);
  const messenger = config.messenger as PlainObject;
  positive('messenger.requestTimeout', messenger.requestTimeout);
  // Sizes: a number of bytes, or what the `bytes` package reads ('8MB', '512kb').
  for (const key of ['maxMessageBytes', 'maxPendingBytes'] as const) {
    const raw = messenger[key];
    const value = typeof raw === 'string' ? bytes.parse(raw) : raw;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
      fail(`messenger.${key}`, "a positive number of bytes or a size like '8MB'", raw);
    messenger[key] = value;
  }
  if ((messenger.maxPendingBytes as number) < (messenger.maxMessageBytes as number)) {
    fail('messenger.maxPendingBytes', `at least messenger.maxMessageBytes (${String(messenger.maxMessageBytes)})`, messenger.maxPendingBytes);
  }
  if (!Array.isArray(config.middleware) || !config.middleware.every((m) => typeof m === 'string'))
    fail('middleware', 'an array of middleware names', config.middleware);
  const { showDetails } = config.onerror as PlainObject;
  if (showDetails !== undefined && typeof showDetails !== 'boolean') fail('onerror.showDetails', 'true or false', showDetails);
  for (const plugin of framework) plugin.checkConfig?.(config, fail);
}

/** Checks `cluster.leader` and fills its defaults (docs/scaling.md): 15 s, 10 s, 2 s, the project's name. */
function checkLeader(raw: unknown, projectName: string, fail: ConfigFail): LeaderOptions {
  const input = raw === undefined ? {} : raw;
  if (!isPlainObject(input))
    fail('cluster.leader', "an object { store: 'local' | 'postgres' | 'redis', url?, name?, ttl?, renewDeadline?, retryPeriod? }", raw);
  const leader = input;
  const store = leader.store ?? 'local';
  if (store !== 'local' && store !== 'postgres' && store !== 'redis') fail('cluster.leader.store', "'local', 'postgres' or 'redis'", store);
  if (store !== 'local' && (typeof leader.url !== 'string' || leader.url === ''))
    fail('cluster.leader.url', `the URL of the ${String(store)} server`, leader.url);
  if (leader.name !== undefined && (typeof leader.name !== 'string' || leader.name === '')) fail('cluster.leader.name', 'a non-empty string', leader.name);
  const duration = (key: 'ttl' | 'renewDeadline' | 'retryPeriod', fallback: number): number => {
    const value = leader[key] === undefined ? fallback : parseInterval(leader[key] as number | string);
    if (value === null) fail(`cluster.leader.${key}`, "a positive duration (ms, or like '15s')", leader[key]);
    return value;
  };
  const ttl = duration('ttl', 15_000);
  const renewDeadline = duration('renewDeadline', 10_000);
  const retryPeriod = duration('retryPeriod', 2_000);
  // client-go's rule: a leader must give up before its lease can lapse, and retry more often than that.
  if (!(ttl > renewDeadline && renewDeadline > retryPeriod))
    fail('cluster.leader', `ttl > renewDeadline > retryPeriod (got ${ttl}, ${renewDeadline}, ${retryPeriod} ms)`, leader);
  return { store, ...(typeof leader.url === 'string' ? { url: leader.url } : {}), name: leader.name ?? projectName, ttl, renewDeadline, retryPeriod };
}

/** Where each config key came from: dotted key path → file (or "framework" for defaults). */
export type ConfigSources = Record<string, string>;

/**
 * Loads the config of every unit in the order docs/concepts.md#config gives — the framework's
 * defaults (the kernel's, then its plugins' in `framework` order), each plugin's config.default,
 * the project's config.default, each plugin's config.<env>, the project's config.<env> —
 * deep-merging each over the last (arrays replace), and records which file set each key. A
 * plugin's `middleware` list is its own: it goes to `coreMiddleware`, in plugin order, and never
 * replaces the project's `middleware`.
 */
export async function loadConfig(
  baseDir: string,
  env: string,
  units: LoadUnit[] = [{ name: '', path: baseDir, type: 'app' }],
  framework: readonly FrameworkPlugin[] = [],
): Promise<{ config: ClutchConfig; appInfo: AppInfo; sources: ConfigSources }> {
  const pkg = await readPackage(baseDir);
  const name = typeof pkg.name === 'string' && pkg.name ? pkg.name : basename(baseDir);
  const appInfo: AppInfo = { name, baseDir, env, HOME: homedir(), pkg };
  const sources: ConfigSources = {};
  // A value set at `path` replaces what was there: a whole object (drop its keys' sources) or a
  // plain value on the way to it (drop the ancestor's).
  const recordFrom = (file: string) => (path: string) => {
    for (const key of Object.keys(sources)) if (key.startsWith(`${path}.`) || path.startsWith(`${key}.`)) delete sources[key];
    sources[path] = file;
  };
  const config = mergeConfig({}, frameworkDefaults(), recordFrom('framework'));
  for (const plugin of framework) if (plugin.config) mergeConfig(config, plugin.config(appInfo), recordFrom('framework'));
  const pluginMiddleware = new Map<string, string[]>();
  const plugins = units.filter((u) => u.type === 'plugin');
  const project = units.filter((u) => u.type === 'app');
  const layers = [
    ...plugins.map((u) => [u, 'config.default'] as const),
    ...project.map((u) => [u, 'config.default'] as const),
    ...plugins.map((u) => [u, `config.${env}`] as const),
    ...project.map((u) => [u, `config.${env}`] as const),
  ];
  for (const [unit, base] of layers) {
    const file = await resolveModuleFile(join(unit.path, 'config', base));
    if (!file) continue;
    const layer = await loadConfigFile(file, appInfo);
    if (unit.type === 'plugin' && 'middleware' in layer) {
      const { middleware, ...rest } = layer;
      if (!Array.isArray(middleware)) throw new ClutchError(CoreErrorCode.CONFIG_INVALID, `${file}: middleware must be an array of names`);
      pluginMiddleware.set(unit.name, middleware as string[]);
      mergeConfig(config, rest, recordFrom(file));
    } else {
      mergeConfig(config, layer, recordFrom(file));
    }
  }
  config.coreMiddleware = plugins.flatMap((u) => pluginMiddleware.get(u.name) ?? []);
  Object.assign(config, { env, name, baseDir });
  checkFrameworkKeys(config, sources, framework);
  return { config: config as ClutchConfig, appInfo, sources };
}
