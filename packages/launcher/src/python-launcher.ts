import { pythonCommand } from './command-lines.js';
import type { CommandLine, LaunchJob } from './launcher.js';
import { WorkerLauncher } from './worker-launcher.js';

/** Runs the worker as one plain `python -m joules_worker` process (num_processes must be 1). */
export class PythonLauncher extends WorkerLauncher {
  readonly name = 'python';
  constructor(private readonly options: { pythonBin: string }) {
    super();
  }
  command(job: LaunchJob, configPath: string): CommandLine {
    if (job.experiment.num_processes !== 1) {
      throw new RangeError(`the python launcher runs one process; num_processes is ${job.experiment.num_processes}`);
    }
    return pythonCommand(this.options.pythonBin, job.experiment, configPath, job.outputDir);
  }
}
