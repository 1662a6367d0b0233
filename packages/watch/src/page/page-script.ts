import { DEFAULT_PAGE } from '../api-pages.js';
import { RECENT } from '../watch-status.js';
import { PAGE_RENDER } from './page-render.js';
import { servingChartSpec } from './serving-chart.js';

/**
 * The dashboard's browser code (plain ES2020, no build step). It opens `/events`: the first
 * `status` event is the whole summary, each `delta` is applied to it (small fields replaced,
 * latest results and failures appended, chart groups merged by key, experiments patched by key
 * in the paged table), each `chart` event is the vega-lite spec (the data: the chart groups).
 * Serving rows add the serving charts (servingChartSpec; the data: the status's serving points,
 * merged by key from the deltas).
 * The experiments table is a page of `/api/experiments`. `window.joulesWatch` exposes counters
 * and the state for tests.
 */
export const PAGE_SCRIPT = `
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const q = token ? '?token=' + encodeURIComponent(token) : '';
  const RECENT = ${RECENT};
  const PAGE = ${DEFAULT_PAGE};
  const w = (window.joulesWatch = { statusUpdates: 0, deltaUpdates: 0, chartUpdates: 0, servingUpdates: 0, status: null,
    chart: Promise.resolve(null), serving: Promise.resolve(null) });
  const SERVING_SPEC = ${JSON.stringify(servingChartSpec())};
${PAGE_RENDER}
  let spec = null;
  const groups = new Map();
  function chart() {
    if (!spec || !w.status) return;
    const c = w.status.chart;
    $('chart-note').textContent = c.omitted ? c.groups.length + ' configurations of lowest J/token drawn; ' + c.omitted + ' more not drawn' : '';
    w.chartUpdates++;
    w.chart = vegaEmbed('#chart', Object.assign({}, spec, { datasets: { groups: c.groups } }), { renderer: 'svg', actions: false }).then((r) => r.view);
  }

  const points = new Map();
  function serving() {
    const d = w.status && w.status.serving;
    $('serving-section').hidden = !d;
    if (!d) return;
    const kind = d.load === 'rate' ? 'request rate' : d.load === 'concurrency' ? 'concurrency' : 'load';
    $('serving-note').textContent = d.points.length + ' configurations, by ' + kind +
      (d.omitted ? '; ' + d.omitted + ' more (the settings of highest J per request) not drawn' : '');
    w.servingUpdates++;
    w.serving = vegaEmbed('#serving', Object.assign({}, SERVING_SPEC, { datasets: { serving: d.points } }), { renderer: 'svg', actions: false }).then((r) => r.view);
  }

  // The experiments table: one page of /api/experiments, patched by the deltas' experiments.
  const xp = { offset: 0, status: '', total: 0, seq: 0, loading: false, queued: [], rows: new Map() };
  function pager() {
    const shown = xp.rows.size;
    $('xp-range').textContent = shown ? (xp.offset + 1) + '–' + (xp.offset + shown) + ' of ' + xp.total : 'none of ' + xp.total;
    $('xp-prev').disabled = xp.offset === 0;
    $('xp-next').disabled = xp.offset + PAGE >= xp.total;
  }
  function load() {
    const seq = ++xp.seq;
    xp.loading = true;
    xp.queued = [];
    const url = '/api/experiments?offset=' + xp.offset + '&limit=' + PAGE + (xp.status ? '&status=' + xp.status : '') + (token ? '&token=' + encodeURIComponent(token) : '');
    fetch(url).then((r) => r.json()).then((p) => {
      if (seq !== xp.seq) return;
      xp.loading = false;
      xp.total = p.total;
      xp.rows = new Map(p.items.map((e) => [e.key, experimentRow(e)]));
      $('experiments').replaceChildren(el('thead', {}, el('tr', {}, ...EXPERIMENT_HEAD.map((h) => el('th', {}, h)))), el('tbody', {}, ...xp.rows.values()));
      patch(xp.queued);
      pager();
    }, () => {
      if (seq === xp.seq) xp.loading = false;
    });
  }
  function patch(views) {
    if (xp.loading) return void xp.queued.push(...views);
    const body = $('experiments').tBodies[0];
    for (const e of views) {
      const row = experimentRow(e);
      const old = xp.rows.get(e.key);
      if (old) old.replaceWith(row);
      else if (!body || (xp.status && e.status !== xp.status) || xp.rows.size >= PAGE || xp.offset + xp.rows.size < xp.total) continue;
      else body.append(row);
      xp.rows.set(e.key, row);
    }
  }
  function totals(s) {
    const t = s.progress.total;
    xp.total = xp.status ? t[xp.status] : t.total;
  }
  $('xp-prev').onclick = () => { xp.offset = Math.max(0, xp.offset - PAGE); load(); };
  $('xp-next').onclick = () => { xp.offset += PAGE; load(); };
  $('xp-status').onchange = (ev) => { xp.status = ev.target.value; xp.offset = 0; load(); };

  function onStatus(s) {
    w.status = s;
    w.statusUpdates++;
    groups.clear();
    for (const g of s.chart.groups) groups.set(g.key, g);
    points.clear();
    for (const p of s.serving ? s.serving.points : []) points.set(p.key, p);
    renderSummary(s);
    chart();
    serving();
    load();
  }
  function onDelta(d) {
    const s = w.status;
    if (!s) return;
    w.deltaUpdates++;
    s.generatedAt = d.generatedAt;
    for (const k of ['live', 'suite', 'progress', 'counts', 'running', 'power', 'error']) if (k in d) s[k] = d[k];
    if (d.results) s.results = s.results.concat(d.results).slice(-RECENT);
    if (d.failures) s.failures = s.failures.concat(d.failures).slice(-RECENT);
    if (d.experimentsChanged) load();
    else if (d.experiments) patch(d.experiments);
    if (d.progress && !xp.loading) totals(s);
    pager();
    renderSummary(s, d);
    if (d.chart) {
      const { groups: changed, replace, ...head } = d.chart;
      if (replace) groups.clear();
      for (const g of changed) groups.set(g.key, g);
      s.chart = Object.assign(head, { groups: [...groups.values()] });
      chart();
    }
    if ('serving' in d) {
      if (!d.serving || d.serving.replace) points.clear();
      if (d.serving) {
        const { points: changed, replace, ...head } = d.serving;
        for (const p of changed) points.set(p.key, p);
        s.serving = Object.assign(head, { points: [...points.values()] });
      } else s.serving = null;
      serving();
    }
  }

  const es = new EventSource('/events' + q);
  es.addEventListener('status', (e) => onStatus(JSON.parse(e.data)));
  es.addEventListener('delta', (e) => onDelta(JSON.parse(e.data)));
  es.addEventListener('chart', (e) => { spec = JSON.parse(e.data); chart(); });
  es.onopen = () => ($('conn').textContent = 'live');
  es.onerror = () => ($('conn').textContent = es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…');
})();
`;
