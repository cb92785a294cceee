/**
 * The tables `npm run bench` prints, from the figures bench/run.js recorded: each figure a median
 * of the rounds, each shown as a ratio to a peer measured in the same run, and the targets (issues
 * #13 and #24) with whether each is met. Ratios, not absolute numbers, are what travel between
 * machines.
 */
import { STREAM_SIZES, median } from './lib.js';
import { routingTables, routingTargets } from './routing.js';

/**
 * `results`: per peer name, per figure, the values of the rounds. `nodeNow` / `nodeNext`: the
 * major versions measured ('v20', 'v24' or null). `paired` and `match`: the routing rows
 * (bench/routing.js). Returns the Markdown text.
 */
export function report({ results, nodeNow: NODE_NOW, nodeNext: NODE_NEXT, paired, match }) {
  const m = (peer, key) => median(results[peer]?.[key] ?? []);
  const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
  const ratio = (v, base) => (Number.isFinite(v) && Number.isFinite(base) && base !== 0 ? `${(v / base).toFixed(2)}×` : '—');
  const lines = [];
  const row = (...cells) => lines.push(`| ${cells.join(' | ')} |`);
  const table = (title, head) => {
    lines.push('', `**${title}**`, '');
    row(...head);
    row(...head.map(() => '---'));
  };
  const sfx = (v) => (v === null ? null : ` · Node ${v.slice(1)}`);
  const suffixes = ['', ...(NODE_NEXT ? [sfx(NODE_NEXT)] : [])];
  const nodeName = (sx) => (sx === '' ? `Node ${NODE_NOW.slice(1)}` : sx.slice(3));

  for (const sx of suffixes) {
    const base = `node:cluster + Koa${sx}`;
    const withRouter = `node:cluster + Koa + @koa/router${sx}`;
    const http = [
      base,
      withRouter,
      `Clutch${sx}`,
      `Clutch --scheduling os${sx}`,
      ...(results[`Clutch --reuse-port${sx}`] ? [`Clutch --reuse-port${sx}`] : []),
      ...(sx === '' ? ['egg 4', 'pm2'] : []),
    ];
    table(`Hello route, keep-alive (50 connections, autocannon) — ${nodeName(sx)}`, ['', 'req/s', 'vs node:cluster + Koa', 'vs + @koa/router', 'p99 ms']);
    for (const p of http) row(p, fmt(m(p, 'rps')), ratio(m(p, 'rps'), m(base, 'rps')), ratio(m(p, 'rps'), m(withRouter, 'rps')), fmt(m(p, 'p99'), 1));
    table(`Hello route, Connection: close (20 connections, a raw client) — ${nodeName(sx)}`, [
      '',
      'req/s',
      'vs node:cluster + Koa',
      'vs Clutch (rr)',
      'p99 ms',
      'failed',
    ]);
    for (const p of http)
      row(
        p,
        fmt(m(p, 'rpsClose')),
        ratio(m(p, 'rpsClose'), m(base, 'rpsClose')),
        ratio(m(p, 'rpsClose'), m(`Clutch${sx}`, 'rpsClose')),
        fmt(m(p, 'p99Close'), 1),
        fmt(m(p, 'failedClose')),
      );
    table(`Cold start to the first 200, and RSS of the idle tree — ${nodeName(sx)}`, [
      '',
      'cold start ms',
      'vs node:cluster + Koa',
      'RSS MB (all processes)',
      'vs node:cluster + Koa',
    ]);
    for (const p of [base, `Clutch${sx}`, `Clutch (TypeScript app)${sx}`, ...(sx === '' ? ['egg 4', 'pm2'] : [])])
      row(p, fmt(m(p, 'cold')), ratio(m(p, 'cold'), m(base, 'cold')), fmt(m(p, 'rss')), ratio(m(p, 'rss'), m(base, 'rss')));
    table(`Messenger, worker ↔ agent — ${nodeName(sx)} (3,000 sequential round trips after a 3,000 warm-up; 50,000-message broadcast to 2 workers)`, [
      '',
      'round trip p50 µs',
      'p99 µs',
      'vs raw relay (p50)',
      'broadcast msg/s',
      'vs raw relay',
    ]);
    const raw = `raw relay${sx}`;
    row(
      'Clutch request()',
      fmt(m(`Clutch${sx}`, 'rttP50')),
      fmt(m(`Clutch${sx}`, 'rttP99')),
      ratio(m(`Clutch${sx}`, 'rttP50'), m(raw, 'rttP50')),
      fmt(m(`Clutch${sx}`, 'broadcast')),
      ratio(m(`Clutch${sx}`, 'broadcast'), m(raw, 'broadcast')),
    );
    row(
      'Clutch message + reply message',
      fmt(m(`Clutch${sx}`, 'ppP50')),
      fmt(m(`Clutch${sx}`, 'ppP99')),
      ratio(m(`Clutch${sx}`, 'ppP50'), m(raw, 'rttP50')),
      '',
      '',
    );
    row('raw relay over node:cluster IPC (the baseline)', fmt(m(raw, 'rttP50')), fmt(m(raw, 'rttP99')), '1.00×', fmt(m(raw, 'broadcast')), '1.00×');
    if (sx === '')
      row(
        'egg 4 message + reply message',
        fmt(m('egg 4', 'ppP50')),
        fmt(m('egg 4', 'ppP99')),
        ratio(m('egg 4', 'ppP50'), m(raw, 'rttP50')),
        fmt(m('egg 4', 'broadcast')),
        ratio(m('egg 4', 'broadcast'), m(raw, 'broadcast')),
      );
  }
  routingTables({
    m,
    suffixes,
    nodeName,
    table,
    row,
    fmt,
    ratio,
    paired,
    match,
  });
  table('What the per-request instrumentation of /metrics costs (hello route, keep-alive, 50 connections)', ['', 'req/s', 'vs without']);
  for (const sx of suffixes) {
    row(
      `Clutch, request metrics on (the default)${sx}`,
      fmt(m(`Clutch${sx}`, 'rps')),
      ratio(m(`Clutch${sx}`, 'rps'), m(`Clutch, no request metrics${sx}`, 'rps')),
    );
    row(`Clutch, CLUTCH_HTTP_METRICS=0${sx}`, fmt(m(`Clutch, no request metrics${sx}`, 'rps')), '1.00×');
  }
  table('What the built-in plugins cost per request (static, session, security on by default; hello route, keep-alive, 50 connections)', [
    '',
    'req/s',
    'vs off',
  ]);
  for (const sx of suffixes) {
    row(
      `Clutch, built-in plugins on (the default)${sx}`,
      fmt(m(`Clutch${sx}`, 'rps')),
      ratio(m(`Clutch${sx}`, 'rps'), m(`Clutch, built-in plugins off${sx}`, 'rps')),
    );
    row(`Clutch, built-in plugins off${sx}`, fmt(m(`Clutch, built-in plugins off${sx}`, 'rps')), '1.00×');
  }
  table('What telemetry costs (OpenTelemetry on, OTLP/protobuf to a loopback sink, vs off: the default)', [
    '',
    'keep-alive req/s',
    'vs off',
    'request() p50 µs',
    'vs off',
    'broadcast msg/s',
    'vs off',
  ]);
  for (const sx of suffixes) {
    const [on, off] = [`Clutch, telemetry on${sx}`, `Clutch${sx}`];
    row(
      on,
      fmt(m(on, 'rps')),
      ratio(m(on, 'rps'), m(off, 'rps')),
      fmt(m(on, 'rttP50')),
      ratio(m(on, 'rttP50'), m(off, 'rttP50')),
      fmt(m(on, 'broadcast')),
      ratio(m(on, 'broadcast'), m(off, 'broadcast')),
    );
    row(`Clutch, telemetry off${sx}`, fmt(m(off, 'rps')), '1.00×', fmt(m(off, 'rttP50')), '1.00×', fmt(m(off, 'broadcast')), '1.00×');
  }
  table('What load shedding costs (cluster.overload on, limits never reached, vs off: the default)', ['', 'keep-alive req/s', 'vs off']);
  for (const sx of suffixes) {
    row(`Clutch, shedding on${sx}`, fmt(m(`Clutch, shedding on${sx}`, 'rps')), ratio(m(`Clutch, shedding on${sx}`, 'rps'), m(`Clutch${sx}`, 'rps')));
    row(`Clutch, shedding off${sx}`, fmt(m(`Clutch${sx}`, 'rps')), '1.00×');
  }
  table('Failed requests across a reload under load (8 keep-alive + 8 Connection: close, 12 s)', ['', 'failed', 'of requests']);
  for (const p of ['Clutch', 'pm2']) row(p === 'Clutch' ? 'Clutch (app reload)' : 'pm2 (pm2 reload)', fmt(m(p, 'reloadFailed')), fmt(m(p, 'reloadTotal')));

  table('How long a reload takes under that load (the master log of `app reload`: workers one at a time, then the agent)', [
    '',
    'ms',
    'vs one worker boot + its drain',
  ]);
  const reloadRatio = m('Clutch', 'reloadMs') / (m('Clutch', 'reloadBootMs') + m('Clutch', 'reloadDrainMs'));
  row(
    'the whole reload (2 workers and the agent)',
    fmt(m('Clutch', 'reloadMs')),
    ratio(m('Clutch', 'reloadMs'), m('Clutch', 'reloadBootMs') + m('Clutch', 'reloadDrainMs')),
  );
  row('one new worker, forked to listening', fmt(m('Clutch', 'reloadBootMs')), '');
  row('the worker it replaced, from then to its exit (the drain)', fmt(m('Clutch', 'reloadDrainMs')), '');

  for (const sx of suffixes) {
    table(`Messages by size, the agent to one worker, as fast as the sender's byte budget lets them go — ${nodeName(sx)}`, [
      '',
      'Clutch msg/s',
      'raw relay msg/s',
      'vs raw relay',
      'Clutch MB/s',
    ]);
    for (const { size, label, n } of STREAM_SIZES) {
      const [c, raw] = [m(`Clutch${sx}`, `stream${size}`), m(`raw relay${sx}`, `stream${size}`)];
      row(`${label} × ${n.toLocaleString('en-US')}`, fmt(c), fmt(raw), ratio(c, raw), fmt((c * size) / 1024 / 1024));
    }
  }

  for (const sx of suffixes) {
    const [clutch, bare] = [`Clutch${sx}`, `node:cluster + Koa${sx}`];
    table(`Start and memory as the workers grow (every process up, then the first 200; RSS of the tree after 2 s) — ${nodeName(sx)}`, [
      'workers',
      'Clutch start ms',
      'node:cluster + Koa',
      'vs',
      'Clutch RSS MB',
      'node:cluster + Koa',
      'vs',
    ]);
    for (const w of [2, 4, 8]) {
      const [cc, bc, cr, br] = [m(clutch, `cold${w}w`), m(bare, `cold${w}w`), m(clutch, `rss${w}w`), m(bare, `rss${w}w`)];
      row(String(w), fmt(cc), fmt(bc), ratio(cc, bc), fmt(cr), fmt(br), ratio(cr, br));
    }
    const per = (peer, key) => (m(peer, `${key}8w`) - m(peer, `${key}2w`)) / 6;
    row(
      'per added worker (2 → 8)',
      fmt(per(clutch, 'cold')),
      fmt(per(bare, 'cold')),
      ratio(per(clutch, 'cold'), per(bare, 'cold')),
      fmt(per(clutch, 'rss'), 1),
      fmt(per(bare, 'rss'), 1),
      ratio(per(clutch, 'rss'), per(bare, 'rss')),
    );
  }

  // Every target a ratio to a peer measured in the same run, on the newest Node measured (issue #13).
  const t = suffixes.at(-1);
  const r = (a, b, key) => m(a, key) / m(b, key);
  const targets = [
    ...(results[`Clutch --reuse-port${t}`]
      ? [
          [
            `Connection: close with --reuse-port ≥ 1.2× round-robin${t}`,
            r(`Clutch --reuse-port${t}`, `Clutch${t}`, 'rpsClose') >= 1.2,
            ratio(m(`Clutch --reuse-port${t}`, 'rpsClose'), m(`Clutch${t}`, 'rpsClose')),
          ],
        ]
      : []),
    [
      `TypeScript app tree RSS ≤ 1.1× the same app in JavaScript${t}`,
      r(`Clutch (TypeScript app)${t}`, `Clutch${t}`, 'rss') <= 1.1,
      ratio(m(`Clutch (TypeScript app)${t}`, 'rss'), m(`Clutch${t}`, 'rss')),
    ],
    [
      `TypeScript app cold start ≤ 1.25× JavaScript${t}`,
      r(`Clutch (TypeScript app)${t}`, `Clutch${t}`, 'cold') <= 1.25,
      ratio(m(`Clutch (TypeScript app)${t}`, 'cold'), m(`Clutch${t}`, 'cold')),
    ],
    // Issue #24's targets, on every Node measured.
    ...suffixes.flatMap((sx) => [
      [
        `keep-alive ≥ 1.0× node:cluster + Koa + @koa/router${sx || ` · Node ${NODE_NOW.slice(1)}`}`,
        r(`Clutch${sx}`, `node:cluster + Koa + @koa/router${sx}`, 'rps') >= 1.0,
        ratio(m(`Clutch${sx}`, 'rps'), m(`node:cluster + Koa + @koa/router${sx}`, 'rps')),
      ],
      [
        `keep-alive ≥ 0.97× bare node:cluster + Koa${sx || ` · Node ${NODE_NOW.slice(1)}`}`,
        r(`Clutch${sx}`, `node:cluster + Koa${sx}`, 'rps') >= 0.97,
        ratio(m(`Clutch${sx}`, 'rps'), m(`node:cluster + Koa${sx}`, 'rps')),
      ],
      [
        `Connection: close (round-robin, the default) ≥ 1.0× bare node:cluster + Koa${sx || ` · Node ${NODE_NOW.slice(1)}`}`,
        r(`Clutch${sx}`, `node:cluster + Koa${sx}`, 'rpsClose') >= 1.0,
        ratio(m(`Clutch${sx}`, 'rpsClose'), m(`node:cluster + Koa${sx}`, 'rpsClose')),
      ],
      [
        `cold start ≤ 1.3× bare node:cluster${sx || ` · Node ${NODE_NOW.slice(1)}`}`,
        r(`Clutch${sx}`, `node:cluster + Koa${sx}`, 'cold') <= 1.3,
        ratio(m(`Clutch${sx}`, 'cold'), m(`node:cluster + Koa${sx}`, 'cold')),
      ],
      [
        `idle tree RSS ≤ 1.25× bare node:cluster${sx || ` · Node ${NODE_NOW.slice(1)}`}`,
        r(`Clutch${sx}`, `node:cluster + Koa${sx}`, 'rss') <= 1.25,
        ratio(m(`Clutch${sx}`, 'rss'), m(`node:cluster + Koa${sx}`, 'rss')),
      ],
      [
        `broadcast ≥ 0.95× a raw relay${sx || ` · Node ${NODE_NOW.slice(1)}`}`,
        r(`Clutch${sx}`, `raw relay${sx}`, 'broadcast') >= 0.95,
        ratio(m(`Clutch${sx}`, 'broadcast'), m(`raw relay${sx}`, 'broadcast')),
      ],
      [
        `request() ≤ 1.1× a raw relay${sx || ` · Node ${NODE_NOW.slice(1)}`}`,
        r(`Clutch${sx}`, `raw relay${sx}`, 'rttP50') <= 1.1,
        ratio(m(`Clutch${sx}`, 'rttP50'), m(`raw relay${sx}`, 'rttP50')),
      ],
    ]),
    [
      `request metrics cost ≤ 3 %${t}`,
      r(`Clutch${t}`, `Clutch, no request metrics${t}`, 'rps') >= 0.97,
      ratio(m(`Clutch${t}`, 'rps'), m(`Clutch, no request metrics${t}`, 'rps')),
    ],
    ['zero failed requests across a reload', m('Clutch', 'reloadFailed') === 0, fmt(m('Clutch', 'reloadFailed'))],
    [
      'app reload of 2 workers under load ≤ 1.5× one worker boot + its drain',
      reloadRatio <= 1.5,
      ratio(m('Clutch', 'reloadMs'), m('Clutch', 'reloadBootMs') + m('Clutch', 'reloadDrainMs')),
    ],
    ...routingTargets({ m, suffixes, nodeLabel: (sx) => sx || ` · Node ${NODE_NOW.slice(1)}`, ratio, paired }),
  ];
  table('Targets (ratios to a peer in the same run)', ['target', 'met', 'Clutch']);
  // A target whose peers were not measured (BENCH_ONLY) says so, rather than 'no'.
  for (const [name, ok, v] of targets) row(name, v === '—' ? '—' : ok ? 'yes' : 'no', v);
  return lines.join('\n');
}
