#!/usr/bin/env node
import { runMain } from '../dist/main.js';

// `joules ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error) => (error.code === 'EPIPE' ? process.exit(0) : Promise.reject(error)));
process.exitCode = await runMain(process.argv.slice(2));
