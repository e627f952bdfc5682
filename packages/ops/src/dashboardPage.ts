import { createHash } from 'node:crypto';

// The dashboard is one self-contained page kept here as source, so serving it
// needs no build step and no file is ever read from disk. Its script polls
// `diagnostics` (relative, so the page also works behind a path prefix), draws
// only through textContent (key names and error messages are untrusted), and
// mirrors the row logic of snapshotRows.ts. No template interpolation is used
// below: the strings are exactly what the browser gets, so CSP hashes match.

const STYLE = String.raw`
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3;
  --head: #f3f5f7; --fail: #fde2e1; --fail-fg: #9b1c1c; --stale: #fff3cd; --ok: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1419; --fg: #e6e9ed; --muted: #98a2ad;
  --line: #2c343d; --head: #1a2129; --fail: #4a1d1f; --fail-fg: #ffb4ae; --stale: #3d3416; --ok: #56d364; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 12px 16px; font: 13px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 14px; margin: 18px 0 6px; }
#status.ok { color: var(--ok); } #status.error { color: var(--fail-fg); }
#process, #counts, .muted { color: var(--muted); }
.controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin-top: 10px; }
#filter { width: 28em; max-width: 100%; padding: 4px 6px; font: inherit; }
#auth { margin-top: 10px; padding: 8px; border: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
td.num, th.num { text-align: right; }
td.error { white-space: normal; min-width: 16em; }
thead th { position: sticky; top: 0; background: var(--head); }
th button { all: unset; cursor: pointer; font-weight: 600; }
th[aria-sort="ascending"] button::after { content: " \25B2"; }
th[aria-sort="descending"] button::after { content: " \25BC"; }
tr.failing td { background: var(--fail); } tr.failing td.error { color: var(--fail-fg); }
tr.stale td { background: var(--stale); }
`;

const SCRIPT = String.raw`
(() => {
  'use strict';
  const TOKEN_KEY = 'tickwork.diagnostics.token';
  const params = new URLSearchParams(location.search);
  const refreshMs = Math.max(100, Number(params.get('refresh')) || 1000);
  // A token in the fragment never reaches the server or its logs; keep it for this tab only.
  const fromHash = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (fromHash) {
    try {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromHash[1]));
    } catch {
      // A malformed escape: the token form will ask instead.
    }
    history.replaceState(null, '', location.pathname + location.search);
  }
  const $ = (id) => document.getElementById(id);

  const fmtMs = (ms) => {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '\u2013';
    const a = Math.abs(ms);
    if (a < 10) return ms.toFixed(2) + ' ms';
    if (a < 1000) return Math.round(ms) + ' ms';
    if (a < 60000) return (ms / 1000).toFixed(1) + ' s';
    if (a < 3600000) return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
    return (ms / 3600000).toFixed(1) + ' h';
  };
  const fmtPct = (u) => (u === null || u === undefined ? '\u2013' : Math.round(u * 100) + '%');
  const fmtInt = (n) => (n === null || n === undefined ? '\u2013' : String(n));
  const errorText = (e) => (e ? e.name + ': ' + e.message : '');

  const keyState = (c, item) => {
    const d = (item && item.detail) || {};
    if (typeof d.state === 'string') return d.state;
    if (d.done === true) return 'done';
    if (d.paused === true) return 'paused';
    return c.state;
  };
  const rowOf = (c, it, key, takenAt) => ({
    component: c.name, kind: c.kind, key: key, state: keyState(c, it === c ? null : it),
    periodMs: it.overview.periodMs, ageMs: it.overview.ageMs, latenessMs: it.stats.delay,
    latenessP99Ms: it.stats.lateness.count > 0 ? it.stats.lateness.p99 : null,
    usage: it.stats.usage, count: it.stats.count, errors: it.stats.errors,
    lastError: it.stats.lastError, failing: it.overview.failing, stale: it.overview.stale,
    items: it === c && c.items ? c.items.length : null,
    failingItems: it === c && c.items ? c.items.filter((i) => i.overview.failing).length : null,
    takenAt: takenAt,
  });
  const componentRows = (snap) => snap.components.map((c) => rowOf(c, c, '', snap.takenAt));
  const itemRows = (snap) => {
    const rows = [];
    for (const c of snap.components) {
      // A component without items (a ThreadedObject) is itself the schedulable thing.
      if (!c.items) rows.push(rowOf(c, c, '', snap.takenAt));
      else for (const it of c.items) rows.push(rowOf(c, it, it.name, snap.takenAt));
    }
    return rows;
  };

  const lastErrorCell = (td, r) => {
    if (!r.lastError) return;
    td.textContent = errorText(r.lastError);
    const ago = document.createElement('span');
    ago.className = 'muted';
    ago.textContent = ' \u00b7 ' + fmtMs(r.takenAt - r.lastError.at) + ' ago';
    td.appendChild(ago);
    td.title = (r.lastError.code ? r.lastError.code + ' at ' : 'at ') + new Date(r.lastError.at).toISOString();
  };
  const col = (id, label, type, get, fmt) => ({ id, label, type, get, fmt });
  const COMMON = [
    col('period', 'Period', 'num', (r) => r.periodMs, fmtMs),
    col('age', 'Age', 'num', (r) => r.ageMs, fmtMs),
    col('lateness', 'Lateness', 'num', (r) => r.latenessMs, fmtMs),
    col('p99', 'Lateness p99', 'num', (r) => r.latenessP99Ms, fmtMs),
    col('usage', 'Usage', 'num', (r) => r.usage, fmtPct),
    col('runs', 'Runs', 'num', (r) => r.count, fmtInt),
    col('errors', 'Errors', 'num', (r) => r.errors, fmtInt),
    col('lastError', 'Last error', 'error', (r) => errorText(r.lastError), null),
  ];
  const TABLES = {
    components: {
      rows: componentRows,
      sort: null,
      columns: [
        col('component', 'Component', 'text', (r) => r.component),
        col('kind', 'Kind', 'text', (r) => r.kind),
        col('state', 'State', 'text', (r) => r.state),
        col('items', 'Items', 'num', (r) => r.items, fmtInt),
        col('failing', 'Failing', 'num', (r) => r.failingItems, fmtInt),
      ].concat(COMMON),
    },
    items: {
      rows: itemRows,
      sort: { id: 'lateness', dir: 'desc' },
      columns: [
        col('component', 'Component', 'text', (r) => r.component),
        col('key', 'Key', 'text', (r) => r.key),
        col('state', 'State', 'text', (r) => r.state),
      ].concat(COMMON),
    },
  };

  let data = null;
  let refreshes = 0;

  const matches = (r, words, problemsOnly) => {
    if (problemsOnly && !r.failing && !r.stale) return false;
    const hay = [r.component, r.kind, r.key, r.state, errorText(r.lastError)].join('\n').toLowerCase();
    return words.every((w) => hay.includes(w));
  };
  const compare = (table) => {
    const s = table.sort;
    if (!s) return null;
    const c = table.columns.find((x) => x.id === s.id);
    const sign = s.dir === 'asc' ? 1 : -1;
    return (a, b) => {
      const va = c.get(a);
      const vb = c.get(b);
      // Missing values sort last whichever the direction.
      const na = va === null || va === undefined || va === '';
      const nb = vb === null || vb === undefined || vb === '';
      if (na || nb) return na === nb ? 0 : na ? 1 : -1;
      if (c.type === 'num') return sign * (va - vb);
      return sign * String(va).localeCompare(String(vb));
    };
  };

  const drawHead = (name) => {
    const table = TABLES[name];
    const tr = document.createElement('tr');
    for (const c of table.columns) {
      const th = document.createElement('th');
      th.dataset.col = c.id;
      if (c.type === 'num') th.className = 'num';
      const active = table.sort && table.sort.id === c.id;
      th.setAttribute('aria-sort', active ? (table.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = c.label;
      b.addEventListener('click', () => {
        const dir = active ? (table.sort.dir === 'asc' ? 'desc' : 'asc') : c.type === 'num' ? 'desc' : 'asc';
        table.sort = { id: c.id, dir: dir };
        drawHead(name);
        draw();
      });
      th.appendChild(b);
      tr.appendChild(th);
    }
    $(name).tHead.replaceChildren(tr);
  };

  const drawBody = (name, words, problemsOnly) => {
    const table = TABLES[name];
    const rows = table.rows(data).filter((r) => matches(r, words, problemsOnly));
    const cmp = compare(table);
    if (cmp) rows.sort(cmp);
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const tr = document.createElement('tr');
      tr.dataset.component = r.component;
      tr.dataset.kind = r.kind;
      tr.dataset.key = r.key;
      if (r.failing) tr.classList.add('failing');
      if (r.stale) tr.classList.add('stale');
      for (const c of table.columns) {
        const td = document.createElement('td');
        td.dataset.col = c.id;
        if (c.type === 'num') td.className = 'num';
        if (c.type === 'error') {
          td.className = 'error';
          lastErrorCell(td, r);
        } else {
          const v = c.get(r);
          td.textContent = c.fmt ? c.fmt(v) : v === '' ? '\u2014' : String(v);
        }
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    $(name).tBodies[0].replaceChildren(frag);
    return rows.length;
  };

  function draw() {
    if (!data) return;
    const words = $('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
    const problemsOnly = $('problems').checked;
    const shownComponents = drawBody('components', words, problemsOnly);
    const shownItems = drawBody('items', words, problemsOnly);
    const all = itemRows(data);
    $('counts').textContent = data.components.length + ' components \u00b7 ' + all.length + ' scheduled \u00b7 ' +
      all.filter((r) => r.failing).length + ' failing \u00b7 ' + all.filter((r) => r.stale).length + ' stale \u00b7 showing ' +
      shownComponents + ' / ' + shownItems;
    const p = data.process;
    $('process').textContent = 'pid ' + p.pid + ' \u00b7 up ' + fmtMs(p.uptimeMs) + ' \u00b7 rss ' +
      (p.memory.rss / 1048576).toFixed(1) + ' MiB \u00b7 heap ' + (p.memory.heapUsed / 1048576).toFixed(1) + ' MiB \u00b7 node ' + p.node;
  }

  const setStatus = (text, cls) => {
    const s = $('status');
    s.textContent = text;
    s.className = cls;
  };

  async function refresh() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    try {
      const res = await fetch('diagnostics', { headers: headers, cache: 'no-store' });
      if (res.status === 401) {
        $('auth').hidden = false;
        setStatus(token ? 'token refused' : 'token required', 'error');
        return;
      }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const snap = await res.json();
      if (snap.schema !== 'tickwork.diagnostics/v1') throw new Error('unknown schema ' + snap.schema);
      data = snap;
      refreshes += 1;
      document.body.dataset.refreshes = String(refreshes);
      document.body.dataset.takenAt = String(snap.takenAt);
      $('auth').hidden = true;
      draw();
      setStatus('live \u00b7 taken ' + new Date(snap.takenAt).toISOString() + ' \u00b7 every ' + fmtMs(refreshMs), 'ok');
    } catch (e) {
      setStatus('cannot reach diagnostics (' + (e && e.message ? e.message : e) + '); retrying', 'error');
    }
  }

  async function loop() {
    await refresh();
    // Chained rather than setInterval: a slow response never piles requests up.
    setTimeout(loop, refreshMs);
  }

  $('auth').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    refresh();
  });
  $('filter').addEventListener('input', draw);
  $('problems').addEventListener('change', draw);
  drawHead('components');
  drawHead('items');
  loop();
})();
`;

const BODY = `<header>
<h1>tickwork</h1>
<span id="status" role="status">connecting&hellip;</span>
<span id="process"></span>
</header>
<form id="auth" hidden>
<label>Bearer token <input id="token" type="password" autocomplete="off" required></label>
<button type="submit">Use token</button>
<span class="muted">kept in this tab only; or open the page as <code>/#token=&hellip;</code></span>
</form>
<div class="controls">
<input id="filter" type="search" placeholder="Filter: component, key, state, error&hellip;" aria-label="Filter">
<label><input id="problems" type="checkbox"> failing or stale only</label>
<span id="counts"></span>
</div>
<h2>Components</h2>
<table id="components"><thead></thead><tbody></tbody></table>
<h2>Keys, targets and jobs</h2>
<table id="items"><thead></thead><tbody></tbody></table>`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The dashboard page, served at `GET /`. @internal */
export const DASHBOARD_HTML = [
  '<!doctype html>',
  '<html lang="en">',
  '<head>',
  '<meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  '<title>tickwork diagnostics</title>',
  `<style>${STYLE}</style>`,
  '</head>',
  '<body>',
  BODY,
  `<script>${SCRIPT}</script>`,
  '</body>',
  '</html>',
  '',
].join('\n');

/**
 * Content-Security-Policy of the page: only its own inline script and style
 * (by hash) run, it may fetch from its own origin only, and may not be framed.
 * @internal
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
