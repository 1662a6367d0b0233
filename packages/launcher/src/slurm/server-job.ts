import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startsServer } from '@joules/config';
import type { LaunchJob } from '../launcher.js';
import { type NodeJobSpec, SERVER_ERROR_FILE } from '../server/node-job.js';
import { serverLogFile } from '../server/server-launcher.js';
import { slurmJobFile } from './job-files.js';

/**
 * The built node job (packages/launcher/dist/server/node-job-main.js), from src/ or dist/ alike: the
 * nodes run the build, so tests of a Slurm server job need `npm run build` first (npm test does it).
 */
export const NODE_JOB_MAIN = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'server',
  'node-job-main.js',
);

/**
 * Engine "server" with `server.command`: the node job's spec (the server on the job's node, the
 * worker as plain python beside it). An attached `server.url` needs none: the worker runs as usual.
 */
export function serverJobSpec(
  job: LaunchJob,
  configPath: string,
  bins: { accelerateBin: string; pythonBin?: string },
): NodeJobSpec | undefined {
  const e = job.experiment;
  if (!startsServer(e) || e.server.command === null) return undefined;
  const bin = path.dirname(bins.accelerateBin);
  const python = bins.pythonBin ?? path.join(bin, 'python');
  return {
    command: [...e.server.command],
    model: e.model_name,
    host: e.server.host,
    readyTimeoutMs: e.server.ready_timeout_s * 1000,
    logFile: serverLogFile(job),
    pathPrefix: path.dirname(python), // the worker venv's bin: `transformers serve`, vllm... are there
    env: { ...e.server.env },
    configPath,
    errorFile: slurmJobFile(job, SERVER_ERROR_FILE),
    workerArgv: [python, '-m', 'joules_worker', '--config', configPath, '--output-dir', job.outputDir],
  };
}
