import type { ResultRecord } from '@joules/metrics';

export declare const DEMO_ROW: ResultRecord;
export declare function studyConfig(c: number): { name: string; batch: number; precision: string; processes: number };
export interface StudyFolderOptions {
  experiments: number;
  cycles?: number;
  models?: number;
  failures?: number;
  seed?: number;
  /** false: no progress journal (a folder of `joules run` results). */
  journal?: boolean;
  suite?: string;
}
export declare function writeStudyFolder(
  dir: string,
  options: StudyFolderOptions,
): Promise<{ experiments: number; done: number; failed: number; configs: number; dir: string }>;
