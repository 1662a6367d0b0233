#!/usr/bin/env node
// A small OpenAI-compatible server for the faults a real one cannot be made to show on demand.
// Usage: fault-server.mjs --port P --mode MODE [--child]
// Modes: ok | never-healthy | exit-early | crash-on-request | garbage | truncated | stall | http500
// It prints "pid=<pid>" (and "child=<pid>" with --child: a grandchild that sleeps) to its output.
import { spawn } from 'node:child_process';
import http from 'node:http';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const port = Number(arg('--port', '0'));
const mode = arg('--mode', 'ok');
console.log(`pid=${process.pid}`);
if (process.argv.includes('--child')) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log(`child=${child.pid}`);
}
if (mode === 'exit-early') {
  console.error('boom: cannot load the model (fault-server exit-early)');
  process.exit(3);
}

const chunk = (text, extra = {}) => `data: ${JSON.stringify({ choices: [{ index: 0, text, ...extra }] })}\n\n`;
const server = http.createServer((req, res) => {
  if (req.url === '/health' || req.url === '/v1/models') {
    if (mode === 'never-healthy') {
      res.writeHead(503).end('loading');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (mode === 'crash-on-request') {
      console.error('fault-server: segmentation fault (simulated)');
      process.exit(139);
    }
    if (mode === 'http500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":"internal error (fault-server)"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (mode === 'garbage') {
      res.end(chunk('a') + 'this is not an event stream\n\n');
      return;
    }
    if (mode === 'truncated') {
      res.end(chunk('a') + chunk('b'));
      return;
    }
    if (mode === 'stall') {
      res.write(chunk('a')); // then nothing, connection held open
      return;
    }
    res.end(
      chunk('a') +
        chunk('b') +
        chunk('', { finish_reason: 'length' }) +
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } })}\n\ndata: [DONE]\n\n`,
    );
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
