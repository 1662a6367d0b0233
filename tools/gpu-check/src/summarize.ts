import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type CheckRow, checkRows } from './check-rows.js';
import { GpuCheckError } from './errors.js';
import { renderResults, spliceResults } from './render.js';
import { readReturned } from './returned.js';
import { stepFigures } from './step-figures.js';

export interface SummarizeResult {
  rows: CheckRow[];
  doc: string;
}

/** Derive every figure from the kit's returned files and write them into ``docPath``'s results section. */
export function summarize(dir: string, docPath: string): SummarizeResult {
  const returned = readReturned(dir);
  const figures = stepFigures(returned);
  const rows = checkRows(returned, figures);
  let doc: string;
  try {
    doc = readFileSync(docPath, 'utf8');
  } catch (cause) {
    throw new GpuCheckError(`cannot read ${docPath} (the runbook the results go into)`, 'BAD_DOC', { cause });
  }
  const text = spliceResults(doc, renderResults(returned, rows, figures));
  const tmp = `${docPath}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, docPath);
  return { rows, doc: text };
}
