/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (the tests read /metrics with it;
 * a user can check a scrape): it throws on any line a scraper would reject or that breaks the rules (names, label escaping, values, TYPE
 * before samples, one TYPE per family, families contiguous, no duplicate series, histograms with
 * cumulative buckets ending in le="+Inf" equal to _count, and a _sum).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: Sample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value "${text}"`);
  return Number(text);
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  while (true) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without "="`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name "${name}"`);
    if (name in labels) throw new Error(`line ${line}: label "${name}" twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value not quoted`);
    let v = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const n = text[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`line ${line}: bad escape "\\${n}"`);
      } else if (text[j] === '\n') throw new Error(`line ${line}: raw newline in label`);
      else v += text[j];
    }
    if (text[j] !== '"') throw new Error(`line ${line}: unterminated label value`);
    labels[name] = v;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected "," or "}" after a label`);
  }
}

const familyOf = (name: string, families: Map<string, Family>) => {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    const f = base !== undefined ? families.get(base) : undefined;
    if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
  }
  return families.get(name);
};

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let currentName: string | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((raw, idx) => {
      const line = idx + 1;
      if (raw === '') return;
      if (raw.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
        if (!m) return; // a plain comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string];
        if (!METRIC.test(name)) throw new Error(`line ${line}: bad metric name "${name}"`);
        let f = families.get(name);
        if (f && closed.has(name)) throw new Error(`line ${line}: family ${name} is not contiguous`);
        if (!f) {
          f = { name, type: 'untyped', samples: [] };
          families.set(name, f);
        }
        if (currentName && currentName !== name) closed.add(currentName);
        currentName = name;
        if (kind === 'TYPE') {
          if (!TYPES.has(rest)) throw new Error(`line ${line}: bad type "${rest}"`);
          if (f.samples.length) throw new Error(`line ${line}: TYPE after samples of ${name}`);
          if ((f as { typed?: boolean }).typed) throw new Error(`line ${line}: second TYPE for ${name}`);
          (f as { typed?: boolean }).typed = true;
          f.type = rest as Family['type'];
        } else f.help = rest;
        return;
      }
      const nameEnd = raw.search(/[{ ]/);
      if (nameEnd <= 0) throw new Error(`line ${line}: no value`);
      const name = raw.slice(0, nameEnd);
      if (!METRIC.test(name)) throw new Error(`line ${line}: bad metric name "${name}"`);
      let labels: Record<string, string> = {};
      let rest = raw.slice(nameEnd);
      if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest.slice(1), line));
      const parts = rest.trim().split(/ +/);
      if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2)
        throw new Error(`line ${line}: expected "value [timestamp]"`);
      const value = parseValue(parts[0]!, line);
      if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp`);
      let f = familyOf(name, families);
      if (!f) {
        f = { name, type: 'untyped', samples: [] };
        families.set(name, f);
      }
      if (closed.has(f.name)) throw new Error(`line ${line}: family ${f.name} is not contiguous`);
      if (currentName && currentName !== f.name) closed.add(currentName);
      currentName = f.name;
      const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(id)) throw new Error(`line ${line}: duplicate series ${id}`);
      series.add(id);
      f.samples.push({ name, labels, value });
    });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const k = JSON.stringify(Object.entries(rest).sort());
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(s);
  }
  for (const [k, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    if (!samples.some((s) => s.name === `${f.name}_sum`) || !count)
      throw new Error(`${f.name}${k}: histogram without _sum or _count`);
    if (buckets.some((b) => b.labels.le === undefined)) throw new Error(`${f.name}${k}: bucket without le`);
    const sorted = [...buckets].sort((a, b) => parseValue(a.labels.le!, 0) - parseValue(b.labels.le!, 0));
    if (sorted.at(-1)?.labels.le !== '+Inf') throw new Error(`${f.name}${k}: no le="+Inf" bucket`);
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${f.name}${k}: buckets not cumulative`);
    if (sorted.at(-1)!.value !== count.value) throw new Error(`${f.name}${k}: +Inf bucket != _count`);
  }
}
