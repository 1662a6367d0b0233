#!/usr/bin/env node
import { runMain } from '../dist/index.js';

process.exitCode = await runMain(process.argv.slice(2));
