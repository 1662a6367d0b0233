// The kit cannot rot: the CPU rehearsal runs the real Python part (real torch, the real worker
// CLI, accelerate with two real ranks, the faked NVML of the worker tests), then the summarizer
// renders the table into a temporary copy of docs/gpu-validation.md.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_SIZES,
  type CheckRow,
  experimentsFileText,
  GpuCheckError,
  MODEL_PLACEHOLDER,
  NO_FIGURES,
  RESULTS_END,
  RESULTS_START,
  runKit,
  summarize,
  trapezoidJ,
} from './index.js';
import { DEFAULT_DOC, EXPERIMENTS_FILE } from './paths.js';

const REHEARSAL_TIMEOUT_MS = 15 * 60_000;

describe('experiments.json', () => {
  it('is what @joules/config produces now (regenerate: npm run gpu-check -- --write-experiments)', () => {
    expect(JSON.parse(readFileSync(EXPERIMENTS_FILE, 'utf8'))).toEqual(JSON.parse(experimentsFileText()));
  });

  it('leaves only the model to the kit', () => {
    const { experiments } = JSON.parse(experimentsFileText()) as {
      experiments: Record<string, { model_name: string; gpu_ids: number[]; energy: { backend: string } }>;
    };
    expect(Object.keys(experiments).sort()).toEqual([
      'batch-1',
      'batch-32',
      'batch-64',
      'batch-8',
      'energy',
      'serving-c1',
      'serving-c16',
      'two-ranks',
    ]);
    for (const e of Object.values(experiments)) {
      expect(e.model_name).toBe(MODEL_PLACEHOLDER);
      expect(e.energy.backend).toBe('nvml');
    }
  });
});

describe('trapezoidJ', () => {
  it('integrates one device inside the window only', () => {
    const rows = [
      { t: 0, device_id: 'a', power_w: 100 },
      { t: 1, device_id: 'a', power_w: 200 },
      { t: 1, device_id: 'b', power_w: 999 },
      { t: 2, device_id: 'a', power_w: 200 },
      { t: 3, device_id: 'a', power_w: 5000 },
    ];
    expect(trapezoidJ(rows, 'a', 0, 2)).toBe(150 + 200);
    expect(trapezoidJ(rows, 'a', 2, 2)).toBeNull();
  });
});

describe('the committed runbook', () => {
  it('has the results markers and no rehearsal figures in them', () => {
    const doc = readFileSync(DEFAULT_DOC, 'utf8');
    const section = doc.slice(doc.indexOf(RESULTS_START) + RESULTS_START.length, doc.indexOf(RESULTS_END));
    expect(doc.indexOf(RESULTS_START)).toBeGreaterThan(0);
    expect(section.includes(NO_FIGURES) || section.includes('**GPU run**')).toBe(true);
    expect(section).not.toContain('CPU rehearsal**');
  });
});

describe('CPU rehearsal', () => {
  let root: string;
  let out: string;
  let code: number;
  let log = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'gpu-check-test-'));
    out = join(root, 'out');
    code = await runKit({
      out,
      cpu: true,
      extraArgs: ['--budget-s', '780'],
      signal: AbortSignal.timeout(REHEARSAL_TIMEOUT_MS - 30_000),
      onLog: (chunk) => (log += chunk),
    });
  }, REHEARSAL_TIMEOUT_MS);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const row = (rows: CheckRow[], prefix: string) => {
    const found = rows.find((r) => r.check.startsWith(prefix));
    if (!found) throw new Error(`no row ${prefix}`);
    return found;
  };

  it('runs every step and returns at most 8 files', () => {
    expect(code, log.slice(-4000)).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['gpu-check.log', 'raw-files.jsonl', 'summary.json']);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.mode).toBe('cpu');
    expect(summary.failed_steps).toEqual([]);
    expect(summary.model_1b_parameters).toBeGreaterThan(0.9e9);
    expect(summary.model_1b_parameters).toBeLessThan(1.1e9);
    expect(
      summary.steps.filter((s: { skipped: string | null }) => s.skipped === null).map((s: { name: string }) => s.name),
    ).toEqual(['energy', ...BATCH_SIZES.map((b) => `batch-${b}`), 'two-ranks', 'serving-c1', 'serving-c16']);
    // the two-ranks step really went through the gloo shim it needs on one GPU
    const bundle = readFileSync(join(out, 'raw-files.jsonl'), 'utf8');
    expect(bundle).toContain('gpu-check gloo shim: rank 1 of 2');
  });

  it('renders the table into the runbook and derives every figure', () => {
    const doc = join(root, 'gpu-validation.md');
    cpSync(DEFAULT_DOC, doc);
    const { rows, doc: text } = summarize(out, doc);
    expect(readFileSync(doc, 'utf8')).toBe(text);
    expect(text).toContain('## Runbook');
    expect(text).toContain('**CPU rehearsal**');
    expect(text).toContain('| Check | Figure | Bound | Result |');
    expect(text).not.toContain(NO_FIGURES);
    // deterministic on the fake: counter and polling integrate the same constant power
    expect(row(rows, 'NVML energy counter vs power polling').status).toBe('pass');
    expect(row(rows, 'Idle power').status).toBe('pass');
    expect(row(rows, 'FLOPs').status).toBe('pass');
    expect(row(rows, 'Two ranks on one GPU').status).toBe('pass');
    expect(row(rows, 'Two ranks on one GPU').figure).toContain('2 GPU readings of 1 device(s), 1 counted');
    expect(row(rows, 'J/token').figure.split(' → ')).toHaveLength(4);
    for (const b of BATCH_SIZES) expect(row(rows, `Peak memory, batch ${b}:`).status).toBe('n/a');
    expect(row(rows, 'Model FLOPs utilisation').status).toBe('n/a');
    expect(row(rows, 'transformers serve').status).toBe('pass');
    expect(row(rows, 'transformers serve').figure).toMatch(
      /serving-c1: [\d.]+ tokens\/s.*serving-c16: [\d.]+ tokens\/s/,
    );
    // the GPU guard set the (faked) GPU's limit within its range, read it back and put it back
    expect(row(rows, 'gpu.power_limit_w').status).toBe('pass');
    expect(row(rows, 'gpu.power_limit_w').figure).toBe(
      'before 700 W (range 100–700 W), requested 560 W, read back 560 W, after 700 W',
    );
    // the steady window's joules from the (faked) GPU counter, sampled through the load
    expect(row(rows, 'transformers serve').figure).toMatch(
      /serving-c1: .*steady [\d.e-]+ J\/token \(counters_sampled\).*serving-c16: .*steady [\d.e-]+ J\/token \(counters_sampled\)/,
    );
  });

  it('refuses a rank file the metrics schema rejects, naming it', () => {
    const bad = join(root, 'bad');
    cpSync(out, bad, { recursive: true });
    const lines = readFileSync(join(bad, 'raw-files.jsonl'), 'utf8').trim().split('\n');
    const i = lines.findIndex((l) => JSON.parse(l).path === 'batch-8/rank-0.json');
    const entry = JSON.parse(lines[i]!);
    entry.text = JSON.stringify({ ...JSON.parse(entry.text), world_size: 0 });
    lines[i] = JSON.stringify(entry);
    writeFileSync(join(bad, 'raw-files.jsonl'), `${lines.join('\n')}\n`);
    const doc = join(root, 'untouched.md');
    writeFileSync(doc, `x\n${RESULTS_START}\nold\n${RESULTS_END}\n`);
    expect(() => summarize(bad, doc)).toThrow(
      /batch-8\/rank-0\.json does not match @joules\/metrics' raw measurement: world_size/,
    );
    expect(readFileSync(doc, 'utf8')).toContain('old');
    writeFileSync(
      join(bad, 'summary.json'),
      JSON.stringify({ error: 'Traceback (most recent call last):\nValueError: boom' }),
    );
    expect(() => summarize(bad, doc)).toThrow(/the kit failed before it finished: .*ValueError: boom/);
    rmSync(join(bad, 'summary.json'));
    expect(() => summarize(bad, doc)).toThrow(GpuCheckError);
    expect(readFileSync(doc, 'utf8')).toContain('old');
  });
});
