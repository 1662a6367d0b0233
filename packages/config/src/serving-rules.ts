import { canonicalJson } from './config-hash.js';
import type { Experiment } from './experiment-schema.js';
import type { Findings } from './problems.js';
import { LoadSchema, ServerSchema, SloSchema } from './serving-sections.js';

// Cross-field rules of the serving engine (engine, server, load, slo). Each is a small function of
// the effective experiment; rules.ts runs them beside the others.

type Check = (c: Experiment, out: Findings) => void;
const err = (out: Findings, path: string, message: string) => out.errors.push({ path: path.split('.'), message });
const warn = (out: Findings, path: string, message: string) => out.warnings.push({ path: path.split('.'), message });

/** Keys of `value` that differ from the section's defaults. */
function setKeys(value: Record<string, unknown>, defaults: Record<string, unknown>): string[] {
  return Object.keys(defaults).filter((k) => canonicalJson(value[k]) !== canonicalJson(defaults[k]));
}

/** engine "transformers": the serving sections are ignored, say so when they are set. */
export const servingUnused: Check = (c, out) => {
  if (c.engine === 'server') return;
  const sections = [
    ['server', setKeys(c.server, ServerSchema.parse({}))],
    ['load', setKeys(c.load, LoadSchema.parse({}))],
    ['slo', setKeys(c.slo, SloSchema.parse({}))],
  ] as const;
  for (const [name, keys] of sections) {
    if (keys.length > 0) warn(out, name, `${keys.join(', ')} set but ignored: engine is "transformers", not "server"`);
  }
};

/** engine "server": a command to start or a URL to attach to, not both; a started server needs {port}. */
export const serverSource: Check = (c, out) => {
  if (c.engine !== 'server') return;
  const { command, url, devices } = c.server;
  if (command === null && url === null)
    err(out, 'server.command', 'required when engine is "server" (or set server.url to attach to a running server)');
  if (command !== null && url !== null)
    err(out, 'server.url', 'only one of server.command (Joules starts the server) and server.url (attach) may be set');
  if (command !== null && !command.some((a) => a.includes('{port}'))) {
    err(out, 'server.command', 'must contain "{port}": Joules starts the server on a free port');
  }
  if (command !== null && devices !== null)
    warn(out, 'server.devices', 'ignored with server.command: a started server runs on gpu_ids');
  if (url !== null && devices === null) {
    warn(
      out,
      'server.devices',
      'not set: Joules cannot tell which devices the attached server uses and reports no energy',
    );
  }
};

const OPEN_LOOP = new Set(['constant', 'poisson']);

/** Which load keys each pattern needs, and which it rejects. */
export const loadPattern: Check = (c, out) => {
  if (c.engine !== 'server') return;
  const l = c.load;
  const p = l.pattern;
  const needs = (key: keyof typeof l, when: boolean, why: string) => {
    if (when && l[key] === null) err(out, `load.${key}`, `required when load.pattern is "${p}" (${why})`);
    if (!when && l[key] !== null)
      err(out, `load.${key}`, `only valid with load.pattern ${why.split(':')[0]} (pattern is "${p}")`);
  };
  needs('concurrency', p === 'closed_loop', '"closed_loop": the number of simultaneous users');
  needs('rate', OPEN_LOOP.has(p), '"constant" or "poisson": requests per second');
  needs('burst_size', p === 'bursty', '"bursty": requests per burst');
  needs('burst_interval_ms', p === 'bursty', '"bursty": time between bursts');
  needs('trace_file', p === 'trace', '"trace": the arrival trace');
  if (p !== 'trace' && l.num_requests === null && l.duration_s === null) {
    err(out, 'load.num_requests', 'set load.num_requests or load.duration_s (or both): when to stop sending');
  }
};

/** The load generator is one process; on Slurm the server and the worker share the job's one node. */
export const servingLaunch: Check = (c, out) => {
  if (c.engine !== 'server') return;
  if (c.num_processes !== 1)
    err(
      out,
      'num_processes',
      `must be 1 with engine "server" (the server runs its own processes; num_processes is ${c.num_processes})`,
    );
  if (c.launch.launcher === 'slurm' && c.launch.slurm.nodes !== 1)
    err(
      out,
      'launch.slurm.nodes',
      `must be 1 with engine "server" (the job runs the server and the load on one node; nodes is ${c.launch.slurm.nodes})`,
    );
  if (c.launch.machines.num_machines > 1) err(out, 'launch.machines.num_machines', 'must be 1 with engine "server"');
  if (c.sharding.strategy !== 'none')
    err(out, 'sharding.strategy', 'not with engine "server": the server decides how the model is sharded');
};
