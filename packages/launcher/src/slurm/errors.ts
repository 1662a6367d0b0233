import { LauncherError } from '../errors.js';

export type SlurmErrorCode =
  /** A Slurm command (sbatch, squeue, scontrol, scancel, sinfo) is not on PATH. */
  | 'SLURM_NOT_FOUND'
  /** Resources that cannot work for the experiment (nodes, GPUs per node, time limit...). */
  | 'SLURM_BAD_OPTIONS'
  /** A node of the job could not see the experiment's folder: the results are not on shared storage. */
  | 'SLURM_STORAGE_NOT_SHARED'
  /** The controller did not answer (slurmctld down or unreachable). */
  | 'SLURM_UNREACHABLE';

/**
 * An error of the Slurm launcher itself (not of a job: a failing job is an outcome). Kept in
 * the slurm folder for now; it extends the package's LauncherError and may move to errors.ts.
 */
export class SlurmError extends LauncherError {
  override name = 'SlurmError';
  declare readonly code: SlurmErrorCode;
  constructor(message: string, code: SlurmErrorCode, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
