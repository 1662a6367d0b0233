#!/usr/bin/env node
// A server that ignores SIGTERM, with a child in a session of its own that ignores it too: only the
// launch marker finds the child, only SIGKILL stops either. Prints "pid=<pid>", "child=<pid>", and
// "ready" once both ignore SIGTERM.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

process.on('SIGTERM', () => {});
setInterval(() => {}, 1000);
if (process.argv[2] === '--child') {
  console.log('ready');
} else {
  console.log(`pid=${process.pid}`);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child'], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  console.log(`child=${child.pid}`);
}
