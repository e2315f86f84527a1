// The tokenledger console: plain ES module, no build step, no third-party code. It reads the
// admin server's JSON API (same origin) and renders it with DOM nodes and inline SVG. Values
// from the ledger (team names, models...) come from telemetry: they are only ever set as text.

const TOKEN_KEY = 'tokenledger.adminToken';
const DAY_MS = 86_400_000;
const SERIES = 7; // chart series shown; the rest are summed as "other"
// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D1F', '#8a8f96'];

const $ = (id) => document.getElementById(id);

class AuthNeeded extends Error {}

/** An element with attributes and children (strings become text nodes, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'style') node.style.cssText = v; // through the CSSOM: the CSP refuses style attributes
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/** USD as shown everywhere on the page: four decimals below $1,000 (LLM calls cost fractions of a cent), two above. */
function usd(v) {
  const digits = Math.abs(v) >= 1000 ? 2 : 4;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
}
const int = (v) => new Intl.NumberFormat('en-US').format(v);
const pct = (v) => `${(v * 100).toFixed(1)} %`;
const label = (v) => (v === '' ? el('span', { class: 'none', text: '(none)' }) : v);

// ---- state: the range and chart grouping live in the URL, so a view can be bookmarked ----

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (day) => Date.parse(`${day}T00:00:00Z`);

function preset(which, now = Date.now()) {
  const today = isoDay(now);
  if (which === 'month') return { from: `${today.slice(0, 7)}-01`, to: today };
  return { from: isoDay(dayMs(today) - (Number(which) - 1) * DAY_MS), to: today };
}

function readState() {
  const q = new URLSearchParams(location.search);
  const fallback = preset('month');
  const valid = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d ?? '') && !Number.isNaN(dayMs(d));
  const by = ['team', 'model', 'provider'].includes(q.get('by')) ? q.get('by') : 'team';
  return { from: valid(q.get('from')) ? q.get('from') : fallback.from, to: valid(q.get('to')) ? q.get('to') : fallback.to, by };
}

let state = readState();
/** The API's range: `to` is exclusive there, inclusive in the form. */
const range = () => ({ from: state.from, to: isoDay(dayMs(state.to) + DAY_MS) });

// ---- the API ----

async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(url, { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  if (res.status === 401) {
    showAuth(token !== null);
    throw new AuthNeeded('an admin token is needed');
  }
  if (res.status === 404) return null;
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status} without a JSON body` }));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function showAuth(refused) {
  const form = $('auth');
  form.hidden = false;
  $('auth-title').firstElementChild.textContent = refused ? 'The admin token was refused; enter another.' : 'This tokenledger needs an admin token.';
  $('token').focus();
}

// ---- rendering helpers ----

/** A table; columns: { head, num?, cell(row) → text or node, attrs?(row) → attributes of the cell }. */
function table(caption, columns, rows, attrs = {}) {
  if (rows.length === 0) return el('p', { class: 'empty', text: 'Nothing in this range.' });
  return el('div', { class: 'table-scroll' }, el('table', attrs,
    el('caption', { text: caption }),
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : undefined, text: c.head })))),
    el('tbody', {}, rows.map((r) => el('tr', {}, columns.map((c, i) => {
      const cellAttrs = { class: c.num ? 'num' : 'label', ...(c.attrs ? c.attrs(r) : {}) };
      return i === 0 && !c.num ? el('th', { scope: 'row', ...cellAttrs }, c.cell(r)) : el('td', cellAttrs, c.cell(r));
    })))),
  ));
}

function failed(container, err) {
  container.replaceChildren(el('p', { class: 'note', role: 'alert', text: err instanceof AuthNeeded ? 'Waiting for the admin token.' : `Could not load: ${err.message}` }));
}

/** Spend per value of one label, most expensive first, with its share of the total. */
function breakdown(container, key, rows, heading) {
  const total = rows.reduce((s, r) => s + r.cost_usd, 0);
  container.replaceChildren(table(`Spend by ${heading}, most expensive first`, [
    { head: heading, cell: (r) => label(r[key]), attrs: (r) => ({ 'data-key': r[key] }) },
    { head: 'calls', num: true, cell: (r) => int(r.calls), attrs: (r) => ({ 'data-calls': r.calls }) },
    { head: 'cost', num: true, cell: (r) => usd(r.cost_usd), attrs: (r) => ({ 'data-usd': r.cost_usd }) },
    { head: 'share', num: true, cell: (r) => el('span', {}, total > 0 ? pct(r.cost_usd / total) : '–', el('span', { class: 'share', style: `width:${total > 0 ? (100 * r.cost_usd) / total : 0}%`, 'aria-hidden': 'true' })) },
  ], rows, { 'data-breakdown': key }));
}

// ---- panels ----

async function allSpend(params) {
  const rows = [];
  let cursor;
  do {
    const page = await api('/api/v1/spend', { ...params, limit: 10000, cursor });
    rows.push(...page.rows);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return rows;
}

async function totalsPanel(extra) {
  const [total] = await allSpend({ ...range() });
  const items = [
    ['Spend', usd(total?.cost_usd ?? 0), 'total-usd', total?.cost_usd ?? 0],
    ['Calls', int(total?.calls ?? 0), 'total-calls', total?.calls ?? 0],
    ...extra,
  ];
  $('totals').replaceChildren(...items.map(([dt, dd, id, raw]) => el('div', {}, el('dt', { text: dt }), el('dd', { id, 'data-value': raw, text: dd }))));
}

async function chartPanel() {
  const by = state.by;
  const rows = await allSpend({ ...range(), group_by: `day,${by}` });
  const days = [];
  for (let t = dayMs(state.from); t <= dayMs(state.to); t += DAY_MS) days.push(isoDay(t));
  const totals = new Map();
  for (const r of rows) totals.set(r[by], (totals.get(r[by]) ?? 0) + r.cost_usd);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const shown = ranked.slice(0, ranked.length > SERIES + 1 ? SERIES : SERIES + 1);
  const series = ranked.length > shown.length ? [...shown, '\u0000other'] : shown;
  const nameOf = (s) => (s === '\u0000other' ? 'other' : s === '' ? '(none)' : s);
  const cell = new Map();
  for (const r of rows) {
    const s = shown.includes(r[by]) ? r[by] : '\u0000other';
    const k = `${r.day}\u0001${s}`;
    cell.set(k, (cell.get(k) ?? 0) + r.cost_usd);
  }
  const dayTotal = days.map((d) => series.reduce((s, k) => s + (cell.get(`${d}\u0001${k}`) ?? 0), 0));
  const max = Math.max(...dayTotal, 0);
  const W = 1000, H = 260, L = 70, B = 24, T = 8;
  const plotW = W - L - 8, plotH = H - B - T;
  const step = plotW / Math.max(days.length, 1);
  const barW = Math.max(Math.min(step * 0.7, 40), 1);
  const nodes = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = T + plotH - (plotH * i) / 4;
    nodes.push(svg('line', { class: 'axis', x1: L, x2: W - 8, y1: y, y2: y }), svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, usd(v)));
  }
  const every = Math.ceil(days.length / 12);
  days.forEach((d, i) => {
    const x = L + i * step + (step - barW) / 2;
    let y = T + plotH;
    series.forEach((s, si) => {
      const v = cell.get(`${d}\u0001${s}`) ?? 0;
      if (v <= 0 || max <= 0) return;
      const h = (plotH * v) / max;
      y -= h;
      nodes.push(svg('rect', { x, y, width: barW, height: Math.max(h, 0.5), fill: COLOURS[si % COLOURS.length] }, svg('title', {}, `${d} · ${nameOf(s)}: ${usd(v)}`)));
    });
    if (i % every === 0) nodes.push(svg('text', { x: x + barW / 2, y: H - 6, 'text-anchor': 'middle' }, d.slice(5)));
  });
  const summary = `Daily spend by ${by} from ${state.from} to ${state.to}: ${usd(dayTotal.reduce((a, b) => a + b, 0))} in all; the tables below give each ${by}'s figures.`;
  $('chart').replaceChildren(
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary }, ...nodes),
    el('figcaption', {}, el('ul', { class: 'legend', 'aria-label': `Colours of the ${by} series` }, series.map((s, i) => el('li', {}, el('i', { style: `background:${COLOURS[i % COLOURS.length]}`, 'aria-hidden': 'true' }), nameOf(s))))),
  );
}

async function breakdownPanel(key, id) {
  const rows = await allSpend({ ...range(), group_by: key, sort: 'cost' });
  breakdown($(id), key, rows, key === 'key_alias' ? 'key alias' : key);
  return rows;
}

async function topPanel(key, id, heading) {
  const page = await api('/api/v1/spend', { ...range(), group_by: key, sort: 'cost', limit: 10 });
  breakdown($(id), key, page.rows, heading);
}

async function budgetsPanel() {
  const body = await api('/api/v1/budgets');
  const section = $('budgets-section');
  if (body === null) {
    $('budgets').replaceChildren(el('p', { class: 'empty', text: 'No budget component is configured.' }));
    return [];
  }
  section.hidden = false;
  const rows = body.budgets;
  if (rows.length === 0) {
    $('budgets').replaceChildren(el('p', { class: 'empty', text: 'Budgets are configured; none has spend in its current period yet.' }));
    return rows;
  }
  $('budgets').replaceChildren(table('Budgets in their current period (spend to date, projection to the period end)', [
    { head: 'budget', cell: (r) => r.budget, attrs: (r) => ({ 'data-key': `${r.budget}/${r.scope_value}` }) },
    { head: 'scope', cell: (r) => el('span', {}, `${r.scope_label} = `, label(r.scope_value)) },
    { head: 'period', cell: (r) => `${r.period} to ${r.period_end.slice(0, 16).replace('T', ' ')} (${r.timezone})` },
    { head: 'spent', num: true, cell: (r) => usd(r.spent_usd), attrs: (r) => ({ 'data-usd': r.spent_usd }) },
    { head: 'limit', num: true, cell: (r) => usd(r.limit_usd) },
    { head: 'utilization', num: true, cell: (r) => el('span', {}, el('meter', { min: 0, max: 1, low: 0.8, high: 0.95, optimum: 0, value: Math.min(r.utilization, 1), 'aria-label': `${r.budget} ${r.scope_value} utilization` }), ` ${pct(r.utilization)}`) },
    { head: 'projected', num: true, cell: (r) => usd(r.projected_usd) },
    { head: 'status', cell: (r) => statusBadge(r) },
  ], rows, { 'data-budgets': '' }));
  return rows;
}

function statusBadge(b) {
  if (b.exhausted) return el('span', { class: 'badge bad', text: 'exhausted' });
  if (b.thresholds_crossed.length > 0) return el('span', { class: 'badge warn', text: `over ${b.thresholds_crossed.map(pct).join(', ')}` });
  if (b.projected_usd > b.limit_usd) return el('span', { class: 'badge warn', text: 'projected over' });
  return el('span', { class: 'badge ok', text: 'ok' });
}

async function unpricedPanel() {
  const { models } = await api('/api/v1/unpriced', range());
  $('unpriced').replaceChildren(models.length === 0
    ? el('p', { class: 'empty', text: 'Every call that used tokens has a price.' })
    : el('div', {}, el('p', { class: 'note', text: `${models.length} model(s) used tokens without a price: their spend is missing from the figures above. Add a price override in pipeline.yaml (processors/cost-enrichment).` }),
      table('Models without a price', [
        { head: 'model', cell: (r) => label(r.model), attrs: (r) => ({ 'data-key': r.model }) },
        { head: 'provider', cell: (r) => label(r.provider) },
        { head: 'as reported', cell: (r) => r.model_raw.join(', ') },
        { head: 'calls', num: true, cell: (r) => int(r.calls) },
        { head: 'tokens in / out', num: true, cell: (r) => `${int(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens)} / ${int(r.output_tokens)}` },
        { head: 'last seen', cell: (r) => r.last_seen.slice(0, 19).replace('T', ' ') },
      ], models, { 'data-unpriced': '' })));
  return models.length;
}

async function driftPanel() {
  const { groups, threshold } = await api('/api/v1/drift', range());
  const warnings = groups.filter((g) => g.warning);
  const override = groups.filter((g) => g.pricing === 'override');
  const overrideUsd = override.reduce((s, g) => s + g.cost_usd, 0);
  const parts = [];
  parts.push(el('p', {}, warnings.length === 0
    ? `No model × source whose reported cost differs from tokenledger's price by ${pct(threshold)} or more.`
    : el('span', { class: 'note', text: `${warnings.length} drift warning(s): tokenledger's price and the source's own differ by ${pct(threshold)} or more, or no price is known.` })));
  if (override.length > 0) parts.push(el('p', { text: `${usd(overrideUsd)} of this range was priced by pipeline.yaml overrides (${int(override.reduce((s, g) => s + g.calls, 0))} calls), not the bundled price table.` }));
  const shown = groups.filter((g) => g.warning || g.pricing === 'override' || g.reported_calls > 0);
  if (shown.length > 0) {
    parts.push(table('Priced by tokenledger vs reported by the source (calls that reported a cost)', [
      { head: 'model', cell: (g) => label(g.model), attrs: (g) => ({ 'data-key': `${g.model}/${g.source}/${g.pricing}` }) },
      { head: 'source', cell: (g) => g.source },
      { head: 'pricing', cell: (g) => g.pricing },
      { head: 'tokenledger', num: true, cell: (g) => usd(g.cost_of_reported_usd) },
      { head: 'reported', num: true, cell: (g) => usd(g.reported_cost_usd) },
      { head: 'drift', num: true, cell: (g) => (g.drift_ratio === null ? '–' : pct(g.drift_ratio)) },
      { head: '', cell: (g) => (g.warning ? el('span', { class: 'badge warn', text: g.pricing === 'none' ? 'no price' : 'drift' }) : '') },
    ], shown, { 'data-drift': '' }));
  }
  $('drift').replaceChildren(...parts);
  return warnings.length;
}

/** Served by a reconciliation component when one runs (404 otherwise: the panel stays hidden). */
async function reconPanel() {
  const body = await api('/api/v1/reconciliation', range());
  const section = $('recon-section');
  section.hidden = body === null;
  if (body === null) return;
  const list = Object.values(body).find((v) => Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null));
  if (!list || list.length === 0) {
    $('recon').replaceChildren(el('pre', { text: JSON.stringify(body, null, 2) }));
    return;
  }
  const keys = [...new Set(list.flatMap((x) => Object.keys(x)))];
  $('recon').replaceChildren(table('Reconciliation as its component reports it', keys.map((k) => ({
    head: k, num: typeof list[0][k] === 'number',
    cell: (r) => (typeof r[k] === 'number' ? (/usd/.test(k) ? usd(r[k]) : String(r[k])) : typeof r[k] === 'object' ? JSON.stringify(r[k]) : String(r[k] ?? '')),
  })), list));
}

// ---- recent calls ----

let callsCursor = null;

function callFilters() {
  const f = new FormData($('call-filters'));
  return Object.fromEntries([...f.entries()].filter(([, v]) => v !== ''));
}

async function callsPanel(append) {
  const page = await api('/api/v1/calls', { ...range(), ...callFilters(), limit: 50, cursor: append ? callsCursor : undefined });
  callsCursor = page.next_cursor;
  const columns = [
    { head: 'time (UTC)', cell: (c) => c.timestamp.slice(0, 19).replace('T', ' '), attrs: (c) => ({ 'data-key': c.call_id, title: c.call_id }) },
    { head: 'team', cell: (c) => label(c.team) },
    { head: 'key alias', cell: (c) => label(c.key_alias) },
    { head: 'customer', cell: (c) => label(c.customer) },
    { head: 'model', cell: (c) => label(c.model) },
    { head: 'provider', cell: (c) => label(c.provider) },
    { head: 'route', cell: (c) => c.route },
    { head: 'tokens in', num: true, cell: (c) => int(c.input_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens) },
    { head: 'out', num: true, cell: (c) => int(c.output_tokens) },
    { head: 'cost', num: true, cell: (c) => (c.price_ref === '' && c.cost_usd === 0 ? el('span', { class: 'badge warn', text: 'unpriced' }) : usd(c.cost_usd)), attrs: (c) => ({ 'data-usd': c.cost_usd }) },
    { head: 'status', cell: (c) => (c.status === 'ok' ? 'ok' : el('span', { class: 'badge bad', text: c.error_type || c.status })) },
  ];
  const existing = $('calls').querySelector('tbody');
  if (append && existing) {
    const fresh = table('', columns, page.calls).querySelector?.('tbody');
    if (fresh) existing.append(...fresh.children);
  } else {
    $('calls').replaceChildren(table('Newest calls first, each once in its latest version (no prompt or response content is stored)', columns, page.calls, { 'data-calls': '' }));
  }
  $('more').hidden = callsCursor === null;
}

function fillList(id, values) {
  $(id).replaceChildren(...values.filter((v) => v !== '').map((v) => el('option', { value: v })));
}

// ---- wiring ----

function setStatus(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

async function load() {
  $('from').value = state.from;
  $('to').value = state.to;
  $('by').value = state.by;
  if (state.to < state.from) {
    setStatus('"To" is before "From": nothing to show.', true);
    return;
  }
  setStatus('Loading…');
  const tasks = {
    chart: chartPanel().catch((e) => failed($('chart'), e)),
    team: breakdownPanel('team', 'by-team').then((rows) => fillList('teams', rows.map((r) => r.team)), (e) => failed($('by-team'), e)),
    model: breakdownPanel('model', 'by-model').then((rows) => fillList('models', rows.map((r) => r.model)), (e) => failed($('by-model'), e)),
    provider: breakdownPanel('provider', 'by-provider').then((rows) => fillList('providers', rows.map((r) => r.provider)), (e) => failed($('by-provider'), e)),
    keys: topPanel('key_alias', 'top-keys', 'key alias').catch((e) => failed($('top-keys'), e)),
    customers: topPanel('customer', 'top-customers', 'customer').catch((e) => failed($('top-customers'), e)),
    budgets: budgetsPanel().catch((e) => { failed($('budgets'), e); return []; }),
    unpriced: unpricedPanel().catch((e) => { failed($('unpriced'), e); return undefined; }),
    drift: driftPanel().catch((e) => { failed($('drift'), e); return undefined; }),
    recon: reconPanel().catch((e) => { $('recon-section').hidden = false; failed($('recon'), e); }),
    calls: callsPanel(false).catch((e) => failed($('calls'), e)),
  };
  const [budgets, unpriced, drift] = await Promise.all([tasks.budgets, tasks.unpriced, tasks.drift]);
  const near = budgets.filter((b) => b.utilization >= 0.8 || b.exhausted).length;
  await totalsPanel([
    ['Unpriced models', unpriced === undefined ? '?' : int(unpriced), 'total-unpriced', unpriced ?? ''],
    ['Drift warnings', drift === undefined ? '?' : int(drift), 'total-drift', drift ?? ''],
    ['Budgets ≥ 80 %', int(near), 'total-budgets-near', near],
  ]).catch((e) => failed($('totals'), e));
  await Promise.all(Object.values(tasks));
  if ($('auth').hidden) setStatus(`Showing ${state.from} to ${state.to} (UTC), loaded at ${new Date().toISOString().slice(11, 19)} UTC.`);
  else setStatus('Enter the admin token to load the figures.', true);
  document.body.dataset.loaded = String(Date.now());
}

function apply(next) {
  state = { ...state, ...next };
  const q = new URLSearchParams({ from: state.from, to: state.to, by: state.by });
  history.replaceState(null, '', `?${q}`);
  void load();
}

$('range').addEventListener('submit', (e) => {
  e.preventDefault();
  apply({ from: $('from').value, to: $('to').value, by: $('by').value });
});
for (const b of document.querySelectorAll('[data-preset]')) b.addEventListener('click', () => apply({ ...preset(b.dataset.preset), by: $('by').value }));
$('by').addEventListener('change', () => apply({ by: $('by').value }));
$('auth').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value);
  $('token').value = '';
  $('auth').hidden = true;
  void load();
});
$('call-filters').addEventListener('submit', (e) => {
  e.preventDefault();
  callsPanel(false).catch((err) => failed($('calls'), err));
});
$('more').addEventListener('click', () => { callsPanel(true).catch((err) => failed($('calls'), err)); });

void load();
