import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseExperiment } from '@joules/config';
import { CHECKOUT_ROOT, copyCheckout } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

// The README's "Adding an engine" list, checked by doing it: a copy of this checkout gets the echo
// engine (__fixtures__/echo-engine.patch: no model, each prompt answered with its own tokens) in the
// listed files only, `npm run contract` regenerates the rest, and `joules run` measures it.
const run = promisify(execFile);
const PATCH = fileURLToPath(new URL('./__fixtures__/echo-engine.patch', import.meta.url));
const NX = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

/** The files a patch touches (`diff --git a/X b/X`). */
const patchedFiles = (patch: string) => [...patch.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1]!);

/** The backticked paths of one README section (`### title` up to the next heading). */
async function readmeList(title: string): Promise<string[]> {
  const readme = await readFile(path.join(CHECKOUT_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`### ${title}`);
  expect(start, `README has "### ${title}"`).toBeGreaterThan(-1);
  const section = readme.slice(start + 4, readme.indexOf('\n#', start + 4));
  return [...section.matchAll(/`([\w./<>-]+\/[\w./<>-]+)`/g)].map((m) => m[1]!);
}

describe('adding an engine (slow: builds a copy of the checkout)', () => {
  it('takes the README-listed files only, at most 5, and runs end to end', { timeout: 600_000 }, async () => {
    const patch = await readFile(PATCH, 'utf8');
    const files = patchedFiles(patch);
    const listed = (await readmeList('Adding an engine')).map((p) => p.replaceAll('<name>', 'echo'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThanOrEqual(5);
    for (const f of files) expect(listed, `${f} is in the README's list`).toContain(f);
    expect(parseExperiment({ config_name: 'x', model_name: 'm', engine: 'echo' }).errors?.join('\n')).toMatch(/engine/); // the product has no echo engine: only the copy gets one

    const tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-add-engine-'));
    const repo = await copyCheckout(path.join(tmp, 'repo'));
    await run('git', ['apply', '--whitespace=nowarn', PATCH], { cwd: repo });
    await run('npm', ['run', 'contract'], { cwd: repo, env: { ...process.env, ...NX }, maxBuffer: 64 << 20 });
    const contract = JSON.parse(await readFile(path.join(repo, 'contract/engines.json'), 'utf8'));
    expect(Object.keys(contract.engines)).toContain('echo');
    expect(await readFile(path.join(repo, 'python/joules_worker/experiment_model.py'), 'utf8')).toMatch(/"echo"/);

    const experiment = path.join(tmp, 'echo.yaml');
    const model = path.join(CHECKOUT_ROOT, '.joules/models/tiny-llama');
    await writeFile(
      experiment,
      `config_name: echo\nmodel_name: ${model}\nengine: echo\nnum_input_prompts: 6\nmax_output_tokens: 16\nenergy: { backend: none }\n`,
    );
    const results = path.join(tmp, 'results');
    const cli = path.join(repo, 'packages/cli/bin/joules.js');
    // The venv's joules_worker is this checkout's: PYTHONPATH puts the copy's worker first.
    const env = { ...process.env, PYTHONPATH: path.join(repo, 'python'), HF_HUB_OFFLINE: '1' };
    const done = await run(process.execPath, [cli, 'run', experiment, '--results-dir', results], { cwd: tmp, env });
    expect(done.stdout).toMatch(/96 generated from 6 prompts/);

    const csv = await readFile(path.join(results, 'text_generation_results.csv'), 'utf8');
    const [row] = parse(csv, { columns: true }) as Record<string, string>[];
    expect(row).toMatchObject({ config_name: 'echo', total_output_tokens: '96', num_prompts: '6', flops_total: '0' });
    const raw = JSON.parse(
      await readFile(
        path.join(results, `raw_results/${row!.experiment_id}/${row!.experiment_id}_raw_rank_0.json`),
        'utf8',
      ),
    );
    expect(raw.tokens.output_tokens).toBe(96);
    expect(existsSync(path.join(CHECKOUT_ROOT, 'python/joules_worker/engines/echo'))).toBe(false);
  });
});
