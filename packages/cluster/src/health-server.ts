import type { Server } from 'node:http';
import { http } from './node-http.js';
import type { AddressInfo } from 'node:net';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { ReadinessReport } from './readiness.js';

export interface HealthHandlers {
  /** Whether the cluster is ready, and why not (readiness.ts). */
  readiness(): ReadinessReport;
  /** The Prometheus text of /metrics. */
  metrics(): Promise<string>;
  /** What the dashboard page polls (GET /dashboard/data). */
  dashboard?(): Promise<unknown>;
}

/**
 * The master's health port, for orchestrators and scrapers: `GET /livez` (200 while the master
 * runs), `GET /readyz` (200 or 503), `GET /metrics`. Served by the master itself, so a probe
 * answers even while every worker is being replaced — and a stuck master fails its liveness probe.
 */
export class HealthServer {
  readonly url: string;
  readonly #server: Server;

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static open(port: number, hostname: string | undefined, handlers: HealthHandlers): Promise<HealthServer> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
      if (path === '/livez') return send(200, 'ok\n');
      if (path === '/readyz') {
        const report = handlers.readiness();
        return send(report.ready ? 200 : 503, `${JSON.stringify(report, null, 2)}\n`, 'application/json; charset=utf-8');
      }
      if (path === '/metrics') {
        handlers.metrics().then(
          (text) => send(200, text, 'text/plain; version=0.0.4; charset=utf-8'),
          (err: Error) => send(500, `metrics failed: ${err.message}\n`),
        );
        return;
      }
      // The dashboard (docs/operations.md): one page, and the JSON it polls.
      const dashboard = handlers.dashboard ? () => handlers.dashboard!() : null;
      if (dashboard && (path === '/' || path === '/dashboard')) return send(200, DASHBOARD_HTML, 'text/html; charset=utf-8');
      if (dashboard && path === '/dashboard/data') {
        dashboard().then(
          (data) => send(200, JSON.stringify(data), 'application/json'),
          (err: Error) => send(500, `dashboard failed: ${err.message}\n`),
        );
        return;
      }
      send(404, 'not found: try /livez, /readyz or /metrics\n');
    });
    server.keepAliveTimeout = 5_000;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${hostname ?? '*'}:${port}`;
        reject(
          new ClutchError(
            err.code === 'EADDRINUSE' ? ClusterErrorCode.PORT_IN_USE : ClusterErrorCode.INVALID_OPTION,
            `The health port ${where} cannot be used: ${err.message}`,
            { cause: err },
          ),
        );
      });
      server.listen(port, hostname, () => {
        server.on('error', () => {});
        const a = server.address() as AddressInfo;
        let host = a.address;
        if (!host || host === '::' || host === '0.0.0.0') host = '127.0.0.1';
        else if (host.includes(':')) host = `[${host}]`;
        resolve(new HealthServer(server, `http://${host}:${a.port}`));
      });
    });
  }

  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
  }
}
