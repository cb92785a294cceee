import { join } from 'node:path';
import type { Logger } from '@clutch/cluster';
import { loadConfig, type ClutchConfig } from './config.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { importDefault, resolveModuleFile } from './import-module.js';
import type { BootHooks, Lifecycle } from './lifecycle.js';
import type { Messenger } from './messenger.js';

/** What the Application and the Agent share for booting. */
export interface Bootable {
  readonly baseDir: string;
  readonly env: string;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly messenger: Messenger;
  config: ClutchConfig;
  name: string;
}

async function loadBootClass(host: Bootable, file: string): Promise<BootHooks> {
  const Boot = await importDefault(file);
  if (typeof Boot !== 'function') {
    throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default a class with lifecycle hooks`);
  }
  try {
    return new (Boot as new (host: Bootable) => BootHooks)(host);
  } catch (err) {
    throw new ClutchError(CoreErrorCode.HOOK_FAILED, `constructor in ${file} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * The boot sequence of a worker or the agent: config → boot class → configWillLoad →
 * configDidLoad → project files → didLoad → willReady → (finish) → ready → didReady.
 */
export async function bootProcess(
  host: Bootable,
  bootFile: 'app' | 'agent',
  steps: { loadFiles: () => Promise<void>; finish?: () => void; markReady: () => void },
): Promise<void> {
  const { config } = await loadConfig(host.baseDir, host.env);
  host.config = config;
  host.name = config.name;
  host.lifecycle.timeout = config.hookTimeout;
  host.messenger.requestTimeout = config.messenger.requestTimeout;
  const file = await resolveModuleFile(join(host.baseDir, bootFile));
  if (file) host.lifecycle.add({ name: file, hooks: await loadBootClass(host, file) });
  await host.lifecycle.run('configWillLoad');
  await host.lifecycle.run('configDidLoad');
  await steps.loadFiles();
  await host.lifecycle.run('didLoad');
  await host.lifecycle.run('willReady');
  steps.finish?.();
  steps.markReady();
  await host.lifecycle.run('didReady');
}
