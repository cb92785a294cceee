import type { Agent } from '../agent.js';
import type { Application } from '../application.js';
import { EGG_PLUGINS } from './plugins.js';

/**
 * Turns egg compatibility on for a worker's Application or the agent, before it boots: gives the
 * plugin loader egg's plugin units — egg's own (keys, egg's names, string routes, the helper, the
 * HTTP client) and the built-ins (static, session, security, multipart, view) — and egg's names
 * for them in config/plugin. Everything they bring arrives through the boot, as a plugin's does;
 * the agent gets their config and nothing of their middleware.
 *
 * @example
 * const app = new Application(options);
 * installEgg(app);
 * await app.boot();
 */
export function installEgg(host: Application | Agent): void {
  host.catalog = EGG_PLUGINS;
}
