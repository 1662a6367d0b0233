// The custom launcher of the README, tested by load-launcher.test.ts: `accelerate launch` pinned to
// some CPU cores with taskset (less jitter when the host runs other work), configured by env.
import { accelerateCommand, WorkerLauncher } from '@joules/launcher';

class TasksetLauncher extends WorkerLauncher {
  name = 'taskset-accelerate';

  constructor(accelerateBin, cores) {
    super();
    this.accelerateBin = accelerateBin;
    this.cores = cores;
  }

  // The exact command for a job: WorkerLauncher does the rest (private config file, free port,
  // process tree, timeouts, signals, failure classification from the worker's files).
  command(job, configPath, port) {
    const inner = accelerateCommand(this.accelerateBin, job.experiment, configPath, job.outputDir, port);
    return { file: 'taskset', args: ['--cpu-list', this.cores, inner.file, ...inner.args], env: inner.env };
  }
}

// loadLauncher calls a default-exported function with { cwd, accelerateBin, pythonBin }.
export default function createLauncher({ accelerateBin }) {
  return new TasksetLauncher(accelerateBin ?? 'accelerate', process.env.JOULES_CORES ?? '0');
}
