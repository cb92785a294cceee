/**
 * The dashboard the health port serves at / and /dashboard: one self-contained page (no CDN, no
 * build step, no framework), which polls /dashboard/data every second and draws what it gets with
 * the DOM and inline SVG. Polling, not Server-Sent Events: a poll that fails during a restart of
 * the master is simply the next one, and nothing stays open on the master's health port. It only
 * reads; there is no action on it. Everything from the cluster is put in the page as text.
 */
const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #6b7385; --bg: #f6f7f9; --card: #fff; --line: #2f6fde; --warn: #c7471f; --ok: #1f8a4c; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ee; --muted: #9aa2b4; --bg: #14171d; --card: #1d2129; --line: #6ea0ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1em; align-items: baseline; padding: 12px 20px; background: var(--card); border-bottom: 1px solid #8883; }
header h1 { font-size: 18px; margin: 0; }
#conn { margin-left: auto; color: var(--muted); }
#conn.down { color: var(--warn); font-weight: 600; }
main { padding: 12px 20px; display: grid; gap: 16px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 24px; color: var(--muted); }
.facts b { color: var(--fg); font-weight: 600; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #8882; white-space: nowrap; }
th { color: var(--muted); font-weight: 500; }
td.num { font-variant-numeric: tabular-nums; }
tr.silent td, .bad { color: var(--warn); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; }
.card { background: var(--card); padding: 10px 12px; border-radius: 6px; }
.card h3 { margin: 0 0 6px; font-size: 14px; }
.chart { display: grid; grid-template-columns: 110px 1fr; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
.chart b { color: var(--fg); font-weight: 600; }
svg { width: 100%; height: 40px; display: block; }
svg path { fill: none; stroke: var(--line); stroke-width: 1.5; }
svg path.p95 { opacity: 0.6; } svg path.p50 { opacity: 0.35; }
svg path.errors { stroke: var(--warn); }
h2 { font-size: 15px; margin: 4px 0; }
`;

const SCRIPT = `
'use strict';
var $ = function (id) { return document.getElementById(id); };
function el(tag, attrs, text) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function ago(ms) {
  var s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60) + 's';
  return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
}
function mb(b) { return b === null || b === undefined ? '-' : (b / 1048576).toFixed(1) + ' MB'; }
function restarts(p, now) {
  if (!p.lastRestart) return String(p.restarts);
  return p.restarts + ' (' + p.lastRestart.reason + ', ' + ago(now - p.lastRestart.at) + ' ago)';
}
function row(role, slot, p, now) {
  var tr = el('tr', { 'data-role': role, 'data-slot': slot === null ? '' : String(slot) });
  if (p.responsive === false) tr.className = 'silent';
  var cells = [
    ['role', role === 'worker' ? 'worker ' + slot : role],
    ['pid', p.pid],
    ['state', p.responsive === false ? p.state + ' (silent)' : p.state],
    ['uptime', ago(p.uptime)],
    ['restarts', restarts(p, now)],
    ['rss', mb(p.rss)],
    ['heap', mb(p.heapUsed)],
    ['cpu', p.cpu === null ? '-' : p.cpu.toFixed(0) + '%'],
    ['loop', p.loopDelay === null ? '-' : p.loopDelay.p99.toFixed(1) + ' ms'],
  ];
  cells.push(['shed', !p.shed ? '-' : (p.shed.active ? 'shedding, ' : '') + p.shed.total + ' 503s']);
  cells.forEach(function (c) { tr.appendChild(el('td', { class: c[0] + (c[0] === 'role' || c[0] === 'state' ? '' : ' num') }, c[1])); });
  return tr;
}
function path(values, max, w, h) {
  var d = '', pen = false, n = values.length;
  for (var i = 0; i < n; i++) {
    var v = values[i];
    if (v === null || v === undefined) { pen = false; continue; }
    var x = n < 2 ? w : (i * w) / (n - 1), y = h - 1 - (max > 0 ? (v / max) * (h - 2) : 0);
    d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
    pen = true;
  }
  return d;
}
function last(values) {
  for (var i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
  return null;
}
function chart(label, series, unit, format) {
  var box = el('div', { class: 'chart' });
  var all = [];
  series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) all.push(v); }); });
  var max = all.length ? Math.max.apply(null, all) : 0;
  var now = last(series[series.length - 1].values);
  var caption = el('div', null, label + ' ');
  caption.appendChild(el('b', null, now === null ? '-' : format(now) + unit));
  box.appendChild(caption);
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 300 40');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('data-chart', label);
  var title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  title.textContent = label + ': max ' + format(max) + unit + ' over the window';
  svg.appendChild(title);
  series.forEach(function (s) {
    var p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('class', s.name);
    p.setAttribute('d', path(s.values, max * 1.1, 300, 40));
    svg.appendChild(p);
  });
  box.appendChild(svg);
  return box;
}
var fixed1 = function (v) { return v.toFixed(1); };
function draw(d) {
  var s = d.status, m = s.master, now = d.now;
  document.title = m.title + ' - Clutch';
  $('title').textContent = m.title + ' (' + m.env + ')';
  var facts = $('facts');
  facts.textContent = '';
  var fact = function (k, v, id) { var f = el('span', id ? { id: id } : null, k + ' '); f.appendChild(el('b', null, v)); facts.appendChild(f); };
  fact('state', m.state, 'master-state');
  fact('/readyz', d.readiness.ready ? '200 ready' : '503 ' + (d.readiness.failing.join('; ') || 'not ready'), 'readyz');
  fact('url', m.url || '-');
  fact('workers', s.workers.length, 'worker-count');
  fact('leader', s.leader ? (s.leader.leading ? 'this cluster leads (token ' + s.leader.token + ')' : 'another cluster leads') + ', ' + s.leader.store + ' store' : 'unknown (no agent)', 'leader');
  fact('last reload', d.reloads.lastAt ? ago(now - d.reloads.lastAt) + ' ago (' + d.reloads.count + ' in all)' : 'none', 'last-reload');
  fact('waiting connections', m.waitingConnections);
  var body = $('procs');
  body.textContent = '';
  body.appendChild(row('master', null, m, now));
  if (s.agent) body.appendChild(row('agent', null, s.agent, now));
  s.workers.forEach(function (w) { body.appendChild(row('worker', w.slot, w, now)); });
  var cards = $('cards');
  cards.textContent = '';
  Object.keys(d.history).forEach(function (slot) {
    var h = d.history[slot];
    var card = el('div', { class: 'card', 'data-slot': slot });
    card.appendChild(el('h3', null, 'worker ' + slot));
    card.appendChild(chart('requests/s', [{ name: 'rps', values: h.rps }], '', fixed1));
    card.appendChild(chart('latency p99', [{ name: 'p50', values: h.p50 }, { name: 'p95', values: h.p95 }, { name: 'p99', values: h.p99 }], ' ms', fixed1));
    card.appendChild(chart('5xx/s', [{ name: 'errors', values: h.errors }], '', fixed1));
    card.appendChild(chart('memory', [{ name: 'rss', values: h.rss }], '', mb));
    card.appendChild(chart('cpu', [{ name: 'cpu', values: h.cpu }], '%', fixed1));
    cards.appendChild(card);
  });
  var sched = $('schedules');
  sched.textContent = '';
  var runs = s.schedules || [];
  if (runs.length === 0) sched.appendChild(el('tr', null)).appendChild(el('td', { colspan: '3' }, 'no schedule has run yet'));
  runs.forEach(function (x) {
    var tr = el('tr', { 'data-key': x.name });
    var lastRun = x.last ? ago(now - x.last.at) + ' ago, ' + x.last.ms + ' ms' + (x.last.ok ? '' : ', failed') : 'not yet';
    [x.name, x.runs + (x.failures ? ' (' + x.failures + ' failed)' : ''), lastRun].forEach(function (v, i) {
      tr.appendChild(el('td', i === 2 && x.last && !x.last.ok ? { class: 'bad' } : null, v));
    });
    sched.appendChild(tr);
  });
}
var failures = 0;
function poll() {
  fetch('/dashboard/data', { cache: 'no-store' })
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(function (d) {
      failures = 0;
      draw(d);
      $('conn').className = '';
      $('conn').textContent = 'updated ' + new Date(d.now).toLocaleTimeString();
    })
    .catch(function (err) {
      failures++;
      $('conn').className = 'down';
      $('conn').textContent = 'no answer from the master (' + err.message + '); retrying';
    })
    .finally(function () { setTimeout(poll, failures ? 2000 : 1000); });
}
poll();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clutch</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1 id="title">Clutch</h1><span id="conn">loading…</span></header>
<main>
<div class="facts" id="facts"></div>
<section><h2>Processes</h2>
<table><thead><tr><th>process</th><th>pid</th><th>state</th><th>uptime</th><th>restarts (last)</th><th>memory</th><th>heap</th><th>cpu</th><th>loop p99</th><th>shedding</th></tr></thead>
<tbody id="procs"></tbody></table></section>
<section><h2>Workers, last 5 minutes</h2><div class="cards" id="cards"></div></section>
<section><h2>Schedules</h2>
<table><thead><tr><th>schedule</th><th>runs</th><th>last run</th></tr></thead>
<tbody id="schedules"></tbody></table></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
