/**
 * The dashboard's browser code (plain ES2020, no build step). It opens `/events`, renders each
 * `status` event into the tables (text only, never HTML from data) and each `chart` event with
 * vega-embed. `window.joulesWatch` exposes counters for tests.
 */
export const PAGE_SCRIPT = `
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const q = token ? '?token=' + encodeURIComponent(token) : '';
  const w = (window.joulesWatch = { statusUpdates: 0, chartUpdates: 0, status: null, chart: Promise.resolve(null) });
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
    return e;
  };
  const table = (id, head, rows) => {
    const body = rows.map(([attrs, cells]) => el('tr', attrs, ...cells.map((c) => el('td', {}, c))));
    $(id).replaceChildren(el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...body));
  };
  const fmt = (v, d = 3) => (typeof v === 'number' ? Number(v.toPrecision(d)).toString() : v == null ? '' : String(v));
  const dur = (s) => (s == null ? 'unknown' : s < 90 ? Math.round(s) + ' s' : s < 5400 ? Math.round(s / 60) + ' min' : (s / 3600).toFixed(1) + ' h');

  function render(s) {
    w.status = s;
    w.statusUpdates++;
    const t = s.progress.total;
    $('summary').textContent =
      (s.suite ? 'suite ' + s.suite.name + ': ' : '') + t.done + ' done, ' + t.failed + ' failed, ' + t.running + ' running, ' +
      t.pending + ' pending' + (t.stale ? ', ' + t.stale + ' stale' : '') + (t.interrupted ? ', ' + t.interrupted + ' interrupted' : '') +
      ' of ' + t.total + '. ETA ' + (t.running + t.pending + t.stale + t.interrupted ? dur(s.progress.eta.seconds) : 'none left') +
      (s.suite && s.suite.finished ? '. The suite finished.' : '');
    $('source').textContent = s.resultsDir + (s.live ? ' (live run)' : ' (watching the folder)') + ', updated ' + s.generatedAt;
    $('error').textContent = s.error ? 'reading the results folder: ' + s.error : '';
    table('progress', ['suite', 'model', 'done', 'failed', 'running', 'pending', 'stale', 'interrupted', 'total'],
      s.progress.groups.map((g) => [{ 'data-suite': g.suite || '', 'data-model': g.model }, [g.suite || '', g.model.split('/').pop(),
        g.counts.done, g.counts.failed, g.counts.running, g.counts.pending, g.counts.stale, g.counts.interrupted, g.counts.total]]));
    const running = s.experiments.filter((e) => e.status === 'running');
    table('running', ['experiment', 'id', 'stage', 'step', 'power'], running.map((e) => [{ 'data-key': e.key }, [
      e.model + ' / ' + e.config + (e.cycle == null ? '' : ' / cycle ' + e.cycle), e.experimentId || '', e.stage || 'starting',
      e.progress ? (e.progress.phase === 'warmup' ? 'warm-up ' : 'batch ') + e.progress.i + '/' + e.progress.n : '',
      e.power.map((p) => p.device.split('/').pop() + ' ' + fmt(p.watts) + ' W').join(', ')]]));
    table('power', ['host', 'device', 'watts', 'sampled'], s.power.map((p) => [{ 'data-device': p.device }, [p.host, p.device, fmt(p.watts), new Date(p.time * 1000).toLocaleTimeString()]]));
    table('experiments', ['experiment', 'status', 'id', 'attempts', 'started', 'finished'], s.experiments.map((e) => [
      { 'data-key': e.key, 'data-status': e.status, class: 'st-' + e.status },
      [e.model + ' / ' + e.config + (e.cycle == null ? '' : ' / cycle ' + e.cycle), e.status, e.experimentId || '', e.attempts, e.startedAt || '', e.finishedAt || '']]));
    table('failures', ['when', 'id', 'model', 'config', 'attempt', 'kind', 'message', 'log'], s.failures.map((f) => [
      { 'data-kind': f.kind }, [f.timestamp, f.experimentId, f.modelName.split('/').pop(), f.configName, f.attempt + (f.final ? '' : ' (retried)'), f.kind, f.message,
        el('a', { href: '/files/logs/' + encodeURIComponent(f.experimentId) + '.log' + q }, 'log')]]));
    $('no-failures').hidden = s.failures.length > 0;
  }

  function chart(spec) {
    w.chartUpdates++;
    w.chart = vegaEmbed('#chart', spec, { renderer: 'svg', actions: false }).then((r) => r.view);
  }

  const es = new EventSource('/events' + q);
  es.addEventListener('status', (e) => render(JSON.parse(e.data)));
  es.addEventListener('chart', (e) => chart(JSON.parse(e.data)));
  es.onopen = () => ($('conn').textContent = 'live');
  es.onerror = () => ($('conn').textContent = es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…');
})();
`;
