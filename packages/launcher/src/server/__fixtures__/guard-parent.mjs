#!/usr/bin/env node
// Stands in for joules: `guard-parent.mjs <node args of the guard...>` starts the guard with a stdin
// pipe (its spec comes through the environment) and waits to be killed.
import { spawn } from 'node:child_process';

spawn(process.execPath, process.argv.slice(2), { stdio: ['pipe', 'inherit', 'inherit'] });
setInterval(() => {}, 1000);
