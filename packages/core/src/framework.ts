/**
 * The entry the cluster's processes load (`@clutch/core/framework`). Each role imports only its
 * own half: the agent never loads Koa, the router or the body parser unless project code does.
 * Both install the egg wing (egg compatibility is on by default) before they boot.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ClusterSettings, FrameworkStartOptions, Logger, OverloadLimits, ProcessInstance, ServerLimits, WorkerInstance } from '@clutch/cluster';
import type { ClutchConfig } from './config.js';

/** What the master needs of the project's config (the agent's is handed to it). */
function clusterSettings(config: ClutchConfig): ClusterSettings {
  const { health, drainDelay, stallTimeout, maxMemory, scheduling, sticky } = config.cluster;
  return {
    ...(scheduling ? { scheduling } : {}),
    ...(sticky !== undefined ? { sticky } : {}),
    ...(health?.port !== undefined ? { health: { port: health.port, ...(health.hostname ? { hostname: health.hostname } : {}) } } : {}),
    ...(health?.minReady !== undefined ? { minReady: health.minReady } : {}),
    ...(drainDelay !== undefined ? { drainDelay } : {}),
    ...(stallTimeout !== undefined ? { stallTimeout } : {}),
    ...(maxMemory !== undefined ? { maxMemory } : {}),
    ...(config.logger.format ? { logFormat: config.logger.format } : {}),
    telemetry: config.telemetry,
  };
}

/**
 * The project's prom-client metrics, if the project loaded prom-client: its default registry, as
 * JSON, for the master to merge. Looked up in the module cache, never imported: a project without
 * metrics does not load prom-client for a scrape.
 */
async function projectMetrics(baseDir: string): Promise<unknown[] | null> {
  const require = createRequire(join(baseDir, 'package.json'));
  let path: string;
  try {
    path = require.resolve('prom-client');
  } catch {
    return null;
  }
  const loaded = require.cache[path]?.exports as { register?: { getMetricsAsJSON(): Promise<unknown[]> } } | undefined;
  return loaded?.register ? loaded.register.getMetricsAsJSON() : null;
}

/**
 * Runs in the master before it forks (and before a reload forks new processes): compiles the
 * project's TypeScript into its cache, once per change of a file.
 */
export async function prepare(options: { baseDir: string; logger: Logger }): Promise<void> {
  const { compileProject, CACHE_DIR } = await import('./typescript/cache.js');
  const result = await compileProject(options.baseDir);
  if (result.unwritable) {
    const { CoreErrorCode } = await import('./errors.js');
    options.logger.warn(
      '[%s] typescript: %s cannot be written (%s): the agent and the workers compile what changed in memory (esbuild in each), and serve the code on disk',
      CoreErrorCode.TYPESCRIPT_CACHE_UNWRITABLE,
      CACHE_DIR,
      result.unwritable.code ?? result.unwritable.message,
    );
  }
  if (result.files > 0)
    options.logger.info(
      'typescript: %d files, %d compiled now in %dms (esbuild, into %s); the agent and workers load JavaScript',
      result.files,
      result.compiled,
      result.ms,
      CACHE_DIR,
    );
}

/** Boots the agent; the master calls this in the agent process. */
export async function startAgent(options: FrameworkStartOptions): Promise<ProcessInstance> {
  const [{ Agent }, { installEgg }] = await Promise.all([import('./agent.js'), import('./egg/install.js')]);
  const agent = new Agent(options);
  installEgg(agent);
  await agent.boot();
  return {
    settings: clusterSettings(agent.config),
    serverDidReady: () => agent.serverDidReady(),
    close: () => agent.close(),
  };
}

const workerModules = () => Promise.all([import('./application.js'), import('./egg/install.js')]);

/** Loads what startWorker needs (Koa, the router, the egg wing), running no project code: a worker of the start does it while the agent boots. */
export async function preloadWorker(): Promise<void> {
  await workerModules();
}

/** Boots an app worker; the master calls this in each worker process, then serves its callback. */
export async function startWorker(options: FrameworkStartOptions): Promise<WorkerInstance> {
  const [{ Application }, { installEgg }] = await workerModules();
  const app = new Application(options);
  installEgg(app);
  await app.boot();
  return {
    callback: app.callback(),
    listen: app.config.cluster.listen,
    keepAliveTimeout: app.config.cluster.keepAliveTimeout,
    limits: serverLimits(app.config.cluster),
    ...overloadLimits(app.config.cluster),
    metrics: () => projectMetrics(app.baseDir),
    serverDidReady: () => app.lifecycle.run('serverDidReady'),
    serverCreated: (server) => app.serverCreated(server as import('node:http').Server),
    draining: () => app.draining(),
    close: (budgetMs) => app.close(budgetMs),
  };
}

/** The server limits the project set; Node's defaults for the rest. */
function serverLimits(cluster: ClutchConfig['cluster']): ServerLimits {
  const { requestTimeout, headersTimeout, maxHeaderSize } = cluster;
  return {
    ...(requestTimeout !== undefined ? { requestTimeout } : {}),
    ...(headersTimeout !== undefined ? { headersTimeout } : {}),
    ...(maxHeaderSize !== undefined ? { maxHeaderSize } : {}),
  };
}

/** Load shedding's limits, as the config check left them (ms and bytes); Retry-After in whole seconds. */
function overloadLimits(cluster: ClutchConfig['cluster']): { overload?: OverloadLimits } {
  if (!cluster.overload) return {};
  const { maxEventLoopDelay, maxEventLoopUtilization, maxHeapUsedBytes, maxRssBytes, retryAfter } = cluster.overload as Record<string, number | undefined>;
  return {
    overload: {
      ...(maxEventLoopDelay !== undefined ? { maxEventLoopDelay } : {}),
      ...(maxEventLoopUtilization !== undefined ? { maxEventLoopUtilization } : {}),
      ...(maxHeapUsedBytes !== undefined ? { maxHeapUsedBytes } : {}),
      ...(maxRssBytes !== undefined ? { maxRssBytes } : {}),
      retryAfter: Math.max(1, Math.ceil((retryAfter ?? 10_000) / 1000)),
    },
  };
}
