/**
 * The guard: a small Node process between Joules and the inference server. It starts the server in
 * a process group of its own (output appended to the log file) and stops that group (SIGTERM, then
 * SIGKILL after `graceMs`), plus every process still carrying the launch marker, when:
 * - its stdin closes: the Joules process died, even by SIGKILL (the kernel closes the pipe);
 * - it gets SIGTERM or SIGINT (Joules stopping the server).
 * It prints one JSON line per event on stdout: {"event":"spawned","pid"}, {"event":"spawn-error",
 * "message","code"}, {"event":"exit","code","signal"}, and exits when the server and its group are gone.
 * Run as `node -e GUARD_SCRIPT` with the spec in JOULES_SERVER_SPEC (argv, env, logFile, graceMs, marker).
 */
export const GUARD_SCRIPT = String.raw`
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const spec = JSON.parse(process.env.JOULES_SERVER_SPEC);
const say = (o) => { try { fs.writeSync(1, JSON.stringify(o) + '\n'); } catch {} };
const log = fs.openSync(spec.logFile, 'a');
let child;
let stopping = false;
let exited = false;
const marked = () => {
  const needle = Buffer.from('\0' + spec.marker + '\0');
  const out = [];
  let names = [];
  try { names = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid); } catch {}
  for (const n of names) {
    try { if (Buffer.concat([Buffer.from([0]), fs.readFileSync('/proc/' + n + '/environ'), Buffer.from([0])]).includes(needle)) out.push(Number(n)); } catch {}
  }
  return out;
};
const killAll = (sig) => {
  if (child && child.pid) { try { process.kill(-child.pid, sig); } catch {} }
  for (const pid of marked()) { try { process.kill(pid, sig); } catch {} }
};
const finish = (code) => { killAll('SIGKILL'); process.exit(code); };
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (!child || exited) finish(0);
  killAll('SIGTERM');
  setTimeout(() => finish(0), spec.graceMs);
};
try {
  child = spawn(spec.argv[0], spec.argv.slice(1), { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...spec.env } });
} catch (e) {
  say({ event: 'spawn-error', message: String(e && e.message), code: e && e.code });
  process.exit(127);
}
child.on('error', (e) => { say({ event: 'spawn-error', message: String(e.message), code: e.code }); exited = true; finish(127); });
child.on('spawn', () => say({ event: 'spawned', pid: child.pid }));
child.on('exit', (code, signal) => {
  exited = true;
  say({ event: 'exit', code, signal });
  if (stopping) { setTimeout(() => finish(0), 100); } else { finish(code === null ? 1 : code); }
});
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', stop);
`;
