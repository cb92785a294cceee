import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { commandOf, runApp, startFixture, waitGroupGone, type AppProcess } from '../helpers/cluster.ts';
import { startLoad } from '../helpers/load.ts';

const MIGRATE = '/proc/sys/net/ipv4/tcp_migrate_req';
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const reusePortHere = process.platform === 'linux' && (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));

/** Sockets in LISTEN on `port`, over IPv4 and IPv6 (/proc/net/tcp{,6}: state 0A). */
function listeningOn(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && f[1]?.endsWith(hex)) n++;
    }
  }
  return n;
}

/** Reloads the fixture cluster `app` under 8 Connection: close loops; resolves with what the load saw. */
async function reloadUnderLoad(app: AppProcess, url: string) {
  const load = startLoad(`${url}/`, { connections: 8, allClose: true, durationMs: 60_000, paceMs: 5 });
  while (load.result.ok < 300) await new Promise((r) => setTimeout(r, 20));
  const reload = await commandOf(app, 'reload');
  assert.equal(reload.code, 0, reload.stderr);
  const okAtReload = load.result.ok;
  while (load.result.ok < okAtReload + 300) await new Promise((r) => setTimeout(r, 20));
  load.stop();
  return load.done;
}

describe('connection scheduling: rr, os, reusePort', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  const migrateBefore = readFileSync(MIGRATE, 'utf8').trim();
  after(() => {
    for (const app of started) app.kill();
    writeFileSync(MIGRATE, migrateBefore);
  });

  it("scheduling 'os': one socket the workers accept on themselves; it serves and reloads with no failed request", async () => {
    const { app, info } = await startFixture('faults', ['--workers', '2', '--scheduling', 'os']);
    started.push(app);
    assert.equal(listeningOn(info.port!), 1, 'one listening socket, shared');
    const result = await reloadUnderLoad(app, info.url);
    assert.deepEqual(result.failures, {});
    assert.equal(listeningOn(info.port!), 1);
  });

  if (reusePortHere) {
    for (const migrate of ['0', '1']) {
      it(`--reuse-port: a socket per worker; a reload under 8 Connection: close loops fails nothing (tcp_migrate_req=${migrate})`, async () => {
        writeFileSync(MIGRATE, migrate);
        const { app, info } = await startFixture('faults', ['--workers', '2', '--reuse-port']);
        started.push(app);
        assert.equal(listeningOn(info.port!), 2, 'one listening socket per worker');
        const result = await reloadUnderLoad(app, info.url);
        assert.deepEqual(result.failures, {}, 'no request failed');
        assert.equal(listeningOn(info.port!), 2, 'each slot kept its socket');
      });
    }
  } else {
    it(`--reuse-port where the platform lacks it (${process.platform}, Node ${process.version}): a coded error, nothing left`, async () => {
      const app = await runApp(
        ['start', '--port', '0', '--workers', '2', '--reuse-port', '--title', `reuse-${process.pid}`, new URL('../fixtures/faults', import.meta.url).pathname],
        20_000,
      );
      assert.equal(app.code, 1);
      assert.match(app.stderr, /CLUTCH_ERR_CLUSTER_REUSEPORT_UNSUPPORTED.*Node\.js 22\.12/);
      await waitGroupGone(app.app.pid, 5_000);
    });
  }
});
