import type { AppConfig, AppInfo, FrameworkConfig } from './config.js';

type DeepPartial<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

/** What a config file may set: any framework key (checked), any declared AppConfig key, any other key. */
export type ConfigInput = DeepPartial<Omit<FrameworkConfig, 'coreMiddleware'>> & DeepPartial<AppConfig> & Record<string, unknown>;

/**
 * Types a config file. The framework's keys are checked, and so are the project's own keys once
 * declared in `AppConfig`.
 *
 * @example
 * export default defineConfig((appInfo) => ({
 *   cluster: { listen: { port: 8080 } },
 *   greeting: `Hello from ${appInfo.name}`,
 * }));
 */
export function defineConfig<T extends ConfigInput>(config: T | ((appInfo: AppInfo) => T | Promise<T>)): typeof config {
  return config;
}
