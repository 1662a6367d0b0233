import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SearchResult } from '@joules/runner';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from '../main.js';
import { captureOutput } from '../output.js';
import { chartData, hasChromium, openReport } from './__fixtures__/report-page.js';

// The report of a real search: a search suite through the bin on the tiny model (codecarbon energy,
// estimated on CPU), 2 cycles, batch_size bisected × precision enumerated under a p90 latency SLO.
// Which point is chosen depends on the machine; the report must show what search_result.json says.
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const model = path.join(root, '.joules/models/tiny-llama');
const suiteYaml = `name: search-report
cycles: 2
models: [${model}]
base: { num_input_prompts: 16, max_output_tokens: 4, min_output_tokens: 4, energy: { backend: codecarbon } }
search:
  objective: energy_per_token_j
  constraints: ["latency_p90_s <= 0.2"]
  axes:
    precision: [fp32, bf16]
    batch_size: [1, 2, 4, 8, 16]
  bisect: batch_size
  seed: 3
`;

let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

describe('joules report of a search (slow)', () => {
  it.skipIf(!hasChromium)(
    'shows the chosen point with its 95 % CIs, the experiments against the grid, and the Pareto front with the SLO',
    { timeout: 600_000 },
    async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'joules-report-search-'));
      await writeFile(path.join(dir, 'search.yaml'), suiteYaml);
      const run = captureOutput();
      const results = path.join(dir, 'results');
      const suiteArgs = ['suite', path.join(dir, 'search.yaml'), '--results-dir', results];
      expect(await runMain(suiteArgs, run), run.stderr.join('\n')).toBe(0);
      const result = JSON.parse(await readFile(path.join(results, 'search_result.json'), 'utf8')) as SearchResult;
      const file = path.join(dir, 'report.html');
      expect(await runMain(['report', '--results-dir', results, '--out', file], captureOutput())).toBe(0);
      const html = await readFile(file, 'utf8');
      expect(html).toContain(
        `${result.experiments.search} experiments run vs ${result.experiments.grid} for the full grid`,
      );
      const { page, errors, close } = await openReport(file);
      try {
        if (result.chosen) {
          expect(await page.locator('#search-chosen strong').textContent()).toBe(result.chosen.id);
          const s = result.chosen.figures.energy_per_token_j!;
          const cells = await page.locator('#search-figures tbody tr').first().locator('td').allTextContents();
          expect(cells[0]).toBe('energy_per_token_j');
          expect(cells[1]).toBe(`${Number(s.mean!.toPrecision(4))} ± ${Number(s.ci95_half_width!.toPrecision(4))}`);
        }
        // One point per measured point: its means and CIs, the verdict, the front and the chosen one.
        const points = await chartData(page, 'search-pareto', 'search-pareto');
        expect(points.map((p) => p.id).sort()).toEqual(result.measured.map((m) => m.id).sort());
        for (const p of points) {
          const m = result.measured.find((x) => x.id === p.id)!;
          const latency = m.figures.latency_p90_s!;
          const energy = m.figures.energy_per_token_j!;
          expect(p.verdict).toBe(m.met ? 'met the SLO' : 'failed the SLO');
          expect(p.x).toBe(Number(latency.mean!.toPrecision(4)));
          expect(p.y).toBe(Number(energy.mean!.toPrecision(4)));
          if (energy.ci95_low !== null) expect(p.y_low).toBe(Number(energy.ci95_low.toPrecision(4)));
          expect(p.front).toBe(result.pareto.front.includes(m.id));
          expect(p.chosen).toBe(result.chosen?.id === m.id);
        }
        const count = (sel: string) => page.locator(sel).count();
        expect(await count('#search-pareto svg .mark-symbol.role-mark path')).toBe(
          points.length + (result.chosen ? 1 : 0),
        );
        expect(await count('#search-pareto svg .mark-text.role-mark text')).toBe(1 + (result.chosen ? 1 : 0));
        const shot = path.join(process.env.JOULES_REPORT_SCREENSHOTS ?? dir, 'search-pareto.png');
        await page.locator('#search-pareto').screenshot({ path: shot });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    },
  );
});
