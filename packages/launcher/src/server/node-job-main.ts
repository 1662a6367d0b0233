import { readFileSync } from 'node:fs';
import { type NodeJobSpec, runNodeJob } from './node-job.js';

// `node node-job-main.js <spec.json>`: what a Slurm job of engine "server" runs on its node.
const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as NodeJobSpec;
process.exitCode = await runNodeJob(spec, (line) => process.stderr.write(`${line}\n`));
