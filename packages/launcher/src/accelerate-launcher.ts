import { accelerateCommand } from './command-lines.js';
import type { CommandLine, LaunchJob } from './launcher.js';
import { WorkerLauncher } from './worker-launcher.js';

/** Runs the worker through `accelerate launch` (one or several processes, CPU or GPUs). */
export class AccelerateLauncher extends WorkerLauncher {
  readonly name = 'accelerate';
  constructor(private readonly options: { accelerateBin: string }) {
    super();
  }
  command(job: LaunchJob, configPath: string, port: number): CommandLine {
    return accelerateCommand(this.options.accelerateBin, job.experiment, configPath, job.outputDir, port);
  }
}
