/**
 * The dashboard's DOM code (plain ES2020, text only: never HTML from data): the summary, the small
 * tables the status carries (progress, running, power, latest results and failures) and the rows
 * of the paged experiments table. Part of PAGE_SCRIPT, inside its closure (uses `q`).
 */
export const PAGE_RENDER = `
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
  const what = (e) => e.model + ' / ' + e.config + (e.cycle == null ? '' : ' / cycle ' + e.cycle);
  const EXPERIMENT_HEAD = ['experiment', 'status', 'id', 'attempts', 'started', 'finished'];
  const experimentRow = (e) => el('tr', { 'data-key': e.key, 'data-status': e.status, class: 'st-' + e.status },
    ...[what(e), e.status, e.experimentId || '', e.attempts, e.startedAt || '', e.finishedAt || ''].map((c) => el('td', {}, c)));

  function renderSummary(s, only) {
    const t = s.progress.total;
    $('summary').textContent =
      (s.suite ? 'suite ' + s.suite.name + ': ' : '') + t.done + ' done, ' + t.failed + ' failed, ' + t.running + ' running, ' +
      t.pending + ' pending' + (t.stale ? ', ' + t.stale + ' stale' : '') + (t.interrupted ? ', ' + t.interrupted + ' interrupted' : '') +
      ' of ' + t.total + '. ETA ' + (t.running + t.pending + t.stale + t.interrupted ? dur(s.progress.eta.seconds) : 'none left') +
      (s.suite && s.suite.finished ? '. The suite finished.' : '');
    $('source').textContent = s.resultsDir + (s.live ? ' (live run)' : ' (watching the folder)') + ', updated ' + s.generatedAt +
      (s.counts.badRows ? '; ' + s.counts.badRows + ' unreadable rows skipped' : '');
    $('error').textContent = s.error ? 'reading the results folder: ' + s.error : '';
    if (!only || 'progress' in only)
      table('progress', ['suite', 'model', 'done', 'failed', 'running', 'pending', 'stale', 'interrupted', 'total'],
        s.progress.groups.map((g) => [{ 'data-suite': g.suite || '', 'data-model': g.model }, [g.suite || '', g.model.split('/').pop(),
          g.counts.done, g.counts.failed, g.counts.running, g.counts.pending, g.counts.stale, g.counts.interrupted, g.counts.total]]));
    if (!only || 'running' in only)
      table('running', ['experiment', 'id', 'stage', 'step', 'power'], s.running.map((e) => [{ 'data-key': e.key }, [
        what(e), e.experimentId || '', e.stage || 'starting',
        e.progress ? (e.progress.phase === 'warmup' ? 'warm-up ' : 'batch ') + e.progress.i + '/' + e.progress.n : '',
        e.power.map((p) => p.device.split('/').pop() + ' ' + fmt(p.watts) + ' W').join(', ')]]));
    if (!only || 'power' in only)
      table('power', ['host', 'device', 'watts', 'sampled'], s.power.map((p) => [{ 'data-device': p.device },
        [p.host, p.device, fmt(p.watts), new Date(p.time * 1000).toLocaleTimeString()]]));
    if (!only || 'results' in only) {
      table('results', ['id', 'model', 'config', 'cycle', 'J/token', 'J', 's'], s.results.slice().reverse().map((r) => [
        { 'data-id': r.experiment_id }, [r.experiment_id, r.model, r.config_name, r.cycle_id, fmt(r.energy_per_token_j), fmt(r.energy_total_j), fmt(r.total_time_s)]]));
      $('results-note').textContent = s.counts.results > s.results.length ? 'the latest ' + s.results.length + ' of ' + s.counts.results : '';
    }
    if (!only || 'failures' in only) {
      table('failures', ['when', 'id', 'model', 'config', 'attempt', 'kind', 'message', 'log'], s.failures.slice().reverse().map((f) => [
        { 'data-kind': f.kind }, [f.timestamp, f.experimentId, f.modelName.split('/').pop(), f.configName, f.attempt + (f.final ? '' : ' (retried)'), f.kind, f.message,
          el('a', { href: '/files/logs/' + encodeURIComponent(f.experimentId) + '.log' + q }, 'log')]]));
      $('no-failures').hidden = s.failures.length > 0;
      $('failures-note').textContent = s.counts.failures > s.failures.length ? 'the latest ' + s.failures.length + ' of ' + s.counts.failures : '';
    }
  }
`;
