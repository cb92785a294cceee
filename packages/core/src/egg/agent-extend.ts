import type { Agent } from '../agent.js';
import { installAgentApi } from './api/install-api.js';
import { curl, type HttpClient } from './httpclient.js';

/** What egg's own unit adds to the agent, before app/extend/agent and agent.ts: its HTTP client and the egg APIs plugins call. */
export function extendAgent(agent: Agent): void {
  const httpclient: HttpClient = { request: curl, curl };
  Object.defineProperties(agent, {
    httpclient: { configurable: true, enumerable: true, writable: true, value: httpclient },
    curl: { configurable: true, enumerable: true, writable: true, value: curl },
  });
  installAgentApi(agent);
}

declare module '../agent.js' {
  interface Agent {
    /** egg's HTTP client (on Node's fetch): `agent.httpclient.request(url, options)`, also `agent.curl`. */
    readonly httpclient: HttpClient;
    readonly curl: typeof curl;
  }
}
