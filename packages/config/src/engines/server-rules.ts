import { err, type Rule, rule, warn } from '../rule.js';
import { upperBound } from '../workload-section.js';

// Cross-field rules of the serving engine (server, load, slo). The engine table gives them to engine
// "server": they run only for experiments of that engine (engine-rules.ts).

/** A command to start or a URL to attach to, not both; a started server needs {port}; its env leaves the GPUs to gpu_ids. */
const serverSource: Rule['check'] = (c, out) => {
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
  if (url !== null && Object.keys(c.server.env).length > 0)
    warn(out, 'server.env', 'ignored with server.url: Joules starts no server');
  if ('CUDA_VISIBLE_DEVICES' in c.server.env)
    err(
      out,
      'server.env.CUDA_VISIBLE_DEVICES',
      "set from gpu_ids (on Slurm, the allocation's): leave it out of server.env",
    );
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
const loadPattern: Rule['check'] = (c, out) => {
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
  if (l.sessions !== null) return; // sessions.ts counts sessions
  if (p !== 'trace' && l.num_requests === null && l.duration_s === null) {
    err(out, 'load.num_requests', 'set load.num_requests or load.duration_s (or both): when to stop sending');
  }
};

/** Sessions carry their history as chat messages; the pattern starts sessions, which count themselves. */
const sessions: Rule['check'] = (c, out) => {
  const s = c.load.sessions;
  if (s === null) return;
  if (c.server.api !== 'chat')
    err(
      out,
      'load.sessions',
      `needs server.api "chat": the completions API carries no turn history (api is "${c.server.api}")`,
    );
  if (c.load.pattern === 'trace')
    err(
      out,
      'load.sessions',
      'not with load.pattern "trace": a trace gives single requests (use closed_loop, constant, poisson or bursty to start sessions)',
    );
  if (c.load.num_requests !== null)
    err(
      out,
      'load.num_requests',
      'counts single requests: with load.sessions set load.sessions.count (sessions) instead',
    );
  if (s.count === null && c.load.duration_s === null)
    err(
      out,
      'load.sessions.count',
      'set load.sessions.count or load.duration_s (or both): when to stop starting sessions',
    );
  if (c.load.shared_prefix_tokens !== null)
    err(out, 'load.shared_prefix_tokens', 'not with load.sessions (a session shares its own history)');
};

/** A shared prefix plus the longest suffix fits max_input_tokens; several prefixes need one's length. */
const sharedPrefix: Rule['check'] = (c, out) => {
  const { shared_prefix_tokens: p, shared_prefix_count: n } = c.load;
  if (p === null) {
    if (n !== 1) err(out, 'load.shared_prefix_count', 'needs load.shared_prefix_tokens (the length of each prefix)');
    return;
  }
  const suffix = c.lengths.input === null ? 1 : (upperBound(c.lengths.input) ?? 1);
  if (p + suffix > c.max_input_tokens)
    err(
      out,
      'load.shared_prefix_tokens',
      `${p} tokens of prefix + ${suffix === 1 ? 'a suffix' : `suffixes up to ${suffix} tokens (lengths.input)`} is longer than max_input_tokens ${c.max_input_tokens}`,
    );
};

/** The load generator is one process; on Slurm the server and the worker share the job's one node. */
const servingLaunch: Rule['check'] = (c, out) => {
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

/** server.dialect "openai" carries OpenAI's fields only: a setting it has no field for is refused here
 * ("auto" is resolved by the worker, which refuses it there). */
const dialectFields: Rule['check'] = (c, out) => {
  if (c.server.dialect !== 'openai') return;
  const why = (field: string) => `OpenAI's API has no ${field}: server.dialect "openai" cannot send it (use "vllm")`;
  if (c.min_output_tokens > 0) err(out, 'min_output_tokens', why('min_tokens'));
  if (c.decoding.mode === 'sampling' && c.decoding.top_k) err(out, 'decoding.top_k', why('top_k'));
};

/** The serving engine's rules, in the order they report. */
export const SERVER_RULES: readonly Rule[] = [
  rule('server-source', ['engine', 'server'], serverSource),
  rule('load-pattern', ['engine', 'load'], loadPattern),
  rule('load-sessions', ['engine', 'load', 'server'], sessions),
  rule('shared-prefix', ['engine', 'load', 'lengths', 'max_input_tokens'], sharedPrefix),
  rule('serving-launch', ['engine', 'num_processes', 'launch', 'sharding'], servingLaunch),
  rule('dialect-fields', ['engine', 'server', 'min_output_tokens', 'decoding'], dialectFields),
];
