/**
 * The page script of the configurations table (plain JS, no library): reads the columns from
 * #configs-data, filters rows by the search box (every cell's text, case-insensitive), sorts by a
 * clicked header (again: descending), and shows one page at a time. `window.joulesTable` exposes
 * its state for tests.
 */
export const TABLE_SCRIPT = `(() => {
  const T = JSON.parse(document.getElementById('configs-data').textContent);
  const cols = T.columns;
  const fmt = (v) => (v === null || v === undefined ? '' : String(v));
  const text = (c, i) => {
    if (c.kind === 'text') return c.dict[c.codes[i]];
    if (c.kind === 'num') return fmt(c.values[i]);
    const m = c.mean[i];
    if (m === null) return '';
    return c.half[i] === null ? fmt(m) : fmt(m) + ' ± ' + fmt(c.half[i]);
  };
  const key = (c, i) => (c.kind === 'text' ? c.dict[c.codes[i]] : c.kind === 'num' ? c.values[i] : c.mean[i]);
  let haystack = null;
  const all = Array.from({ length: T.rows }, (_, i) => i);
  const state = { rows: all, page: 0, sort: -1, dir: 1, query: '' };
  const body = document.querySelector('#configs tbody');
  const label = document.getElementById('configs-page');
  const pages = () => Math.max(1, Math.ceil(state.rows.length / T.pageSize));
  function render() {
    state.page = Math.min(state.page, pages() - 1);
    const from = state.page * T.pageSize;
    const trs = state.rows.slice(from, from + T.pageSize).map((i) => {
      const tr = document.createElement('tr');
      for (const c of cols) {
        const td = document.createElement('td');
        td.textContent = text(c, i);
        if (c.kind === 'text') td.className = 'text';
        tr.appendChild(td);
      }
      return tr;
    });
    body.replaceChildren(...trs);
    label.textContent = 'page ' + (state.page + 1) + ' of ' + pages() + ' (' + state.rows.length + ' of ' + T.rows + ' configurations)';
  }
  function apply() {
    const q = state.query.trim().toLowerCase();
    let rows = all;
    if (q) {
      haystack ??= all.map((i) => cols.map((c) => text(c, i)).join('\\u0001').toLowerCase());
      rows = all.filter((i) => haystack[i].includes(q));
    }
    if (state.sort >= 0) {
      const c = cols[state.sort];
      const d = state.dir;
      rows = [...rows].sort((a, b) => {
        const x = key(c, a), y = key(c, b);
        if (x === y) return a - b;
        if (x === null || x === '') return 1;
        if (y === null || y === '') return -1;
        return (x < y ? -1 : 1) * d;
      });
    }
    state.rows = rows;
    state.page = 0;
    document.querySelectorAll('#configs th').forEach((th, i) => {
      th.dataset.sorted = i === state.sort ? (state.dir > 0 ? 'asc' : 'desc') : '';
    });
    render();
  }
  let timer;
  document.getElementById('configs-search').addEventListener('input', (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.query = e.target.value; apply(); }, 120);
  });
  document.getElementById('configs-prev').addEventListener('click', () => { if (state.page > 0) { state.page--; render(); } });
  document.getElementById('configs-next').addEventListener('click', () => { if (state.page < pages() - 1) { state.page++; render(); } });
  document.querySelectorAll('#configs th').forEach((th) => th.addEventListener('click', () => {
    const col = Number(th.dataset.col);
    state.dir = state.sort === col ? -state.dir : 1;
    state.sort = col;
    apply();
  }));
  window.joulesTable = {
    state,
    search: (q) => { state.query = q; apply(); },
    sortBy: (col) => { state.dir = state.sort === col ? -state.dir : 1; state.sort = col; apply(); },
    goto: (p) => { state.page = p; render(); },
  };
  render();
})();`;
