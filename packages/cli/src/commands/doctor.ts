import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { ENERGY_BACKEND_NAMES, ENERGY_BACKENDS } from '@joules/config';
import { findServingEngines, slurmStatus } from '@joules/launcher';
import { checkoutRoot as repoRoot, resolveWorkerEnv, WorkerEnvError } from '@joules/runner';
import { type ProbeResult, probeWorkerEnv } from '../doctor-probe.js';
import { EXIT, ExitError } from '../errors.js';
import { bold, green, type Output, red } from '../output.js';

type Status = 'ok' | 'warn' | 'fail' | 'info';
interface Check {
  name: string;
  status: Status;
  detail: string;
  hint?: string;
}

const exists = (p: string) =>
  access(p, constants.R_OK).then(
    () => true,
    () => false,
  );

function energyChecks(p: ProbeResult): Check[] {
  const gpus = p.gpus ?? [];
  const checks: Check[] = [];
  checks.push(
    gpus.length
      ? { name: 'GPUs', status: 'ok', detail: `${gpus.length}: ${gpus.join(', ')} (CUDA ${p.cuda_version ?? '?'})` }
      : {
          name: 'GPUs',
          status: 'info',
          detail: 'none visible to torch: experiments run on CPU',
          hint: 'on a GPU machine install a CUDA build of torch (README, "Running on a GPU machine")',
        },
  );
  // One line per backend that the energy-backend table gives a doctor label, in the table's order;
  // the worker's backend class says how it is (`python -m joules_worker.doctor`).
  const shown = ENERGY_BACKEND_NAMES.flatMap((name) => {
    const label = ENERGY_BACKENDS[name].doctor;
    const probe = p.backends[name];
    return label && probe ? [{ ...label, probe }] : [];
  });
  for (const { label, probe } of shown)
    checks.push({
      name: label,
      status: probe.ok ? 'ok' : 'info',
      detail: probe.detail,
      ...(!probe.ok && probe.hint ? { hint: probe.hint } : {}),
    });
  const cc = p.packages.codecarbon;
  const measured = shown.filter((b) => b.probe.ok).map((b) => `${b.measures} (${b.label})`);
  checks.push({
    name: 'energy',
    status: measured.length ? 'ok' : 'warn',
    detail: measured.length
      ? `measured: ${measured.join(', ')}`
      : `no energy counter here: CPU energy is ESTIMATED${cc ? ` by CodeCarbon ${cc} from the CPU's TDP and load` : ''}, and results say so`,
    ...(measured.length ? {} : { hint: 'for measured joules run on a machine with NVML (GPU) or readable RAPL (CPU)' }),
  });
  return checks;
}

/** `joules doctor`: what works here, and what to do about what does not. */
export async function doctor(options: { python?: string; json?: boolean }, output: Output): Promise<number> {
  const checks: Check[] = [];
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  checks.push(
    major > 20 || (major === 20 && minor >= 11)
      ? { name: 'node', status: 'ok', detail: process.version }
      : { name: 'node', status: 'fail', detail: process.version, hint: 'Joules needs Node >= 20.11' },
  );
  let probe: ProbeResult | undefined;
  let venvBin: string[] = [];
  try {
    const env = await resolveWorkerEnv(options.python);
    venvBin = [path.dirname(env.python)];
    checks.push({ name: 'worker venv', status: 'ok', detail: env.python });
    probe = await probeWorkerEnv(env.python);
  } catch (error) {
    const detail = error instanceof WorkerEnvError ? error.message.split('\n')[0]! : String(error);
    checks.push({ name: 'worker venv', status: 'fail', detail, hint: 'run `npm run bootstrap`' });
  }
  if (probe) {
    checks.push({ name: 'python', status: 'ok', detail: probe.python });
    for (const name of ['torch', 'transformers', 'accelerate', 'joules-worker']) {
      const v = probe.packages[name];
      checks.push(
        v
          ? { name, status: 'ok', detail: v }
          : { name, status: 'fail', detail: 'not installed', hint: 'run `npm run bootstrap`' },
      );
    }
    checks.push(...energyChecks(probe));
  }
  const tiny = path.join(repoRoot, '.joules', 'models', 'tiny-llama', 'config.json');
  checks.push(
    (await exists(tiny))
      ? { name: 'tiny model', status: 'ok', detail: path.dirname(tiny) }
      : { name: 'tiny model', status: 'warn', detail: 'not built', hint: 'run `npm run bootstrap`' },
  );

  // Serving engines (engine "server"): which of the README's recipes can start here.
  const engines = await findServingEngines(venvBin);
  const found = engines.filter((e) => e.path !== null);
  checks.push({
    name: 'servers',
    status: found.length ? 'ok' : 'info',
    detail: engines.map((e) => `${e.name}: ${e.path ?? 'not found'}`).join('; '),
    ...(found.length === 0 && {
      hint: 'only needed for `engine: server`; `npm run bootstrap` installs transformers serve',
    }),
  });

  const slurm = await slurmStatus();
  checks.push(
    slurm.reachable
      ? {
          name: 'Slurm',
          status: 'ok',
          detail: slurm.partitions
            .map(
              (p) =>
                `${p.name}${p.isDefault ? '*' : ''}: ${p.nodes.total} node(s)${p.gpus.length ? `, GPUs ${p.gpus.map((g) => `${g.perNode}×${g.type ?? 'gpu'}`).join(', ')}` : ''}`,
            )
            .join('; '),
        }
      : {
          name: 'Slurm',
          status: 'info',
          detail: `not reachable (${slurm.reason.split('\n').at(-1)})`,
          hint: 'only needed for `launch.launcher: slurm` (docs/cluster.md)',
        },
  );
  if (options.json) output.out(JSON.stringify({ checks, probe: probe ?? null }));
  else {
    output.out(bold(output, 'joules doctor'));
    const mark = { ok: green(output, 'ok  '), warn: red(output, 'warn'), fail: red(output, 'FAIL'), info: '--  ' };
    for (const c of checks) {
      output.out(`  ${mark[c.status]} ${c.name.padEnd(13)} ${c.detail}`);
      if (c.hint) output.out(`       ${''.padEnd(13)} → ${c.hint}`);
    }
  }
  if (checks.some((c) => c.status === 'fail')) throw new ExitError(EXIT.failed, 'some checks failed (see above)');
  return EXIT.ok;
}
