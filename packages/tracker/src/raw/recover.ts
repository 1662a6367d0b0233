import { mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type ResultsLayout, resultsLayout } from '../layout.js';
import { asOwner, defaultLiveness, type Liveness, type ProcessOwner } from '../owner.js';
import { acknowledgedIds } from './acknowledged.js';
import { ID_PATTERN } from './experiment-folder.js';

export interface SetAsideFolder {
  experimentId: string;
  /** Where the folder was. */
  from: string;
  /** Where it was moved (absent when removed). */
  to?: string;
  /** `unacknowledged`: whole, but its CSV row never came; `staging`: never finished. */
  reason: 'unacknowledged' | 'staging';
}

export interface ResultsRecovery {
  /** Experiments whose CSV row was in (only their marker was left): now final. */
  confirmed: string[];
  /** Folders a dead process left unacknowledged or half-built: moved to `.joules/incomplete/` (or removed). */
  setAside: SetAsideFolder[];
  /** Pending experiments of processes still alive (or not known dead): left alone. */
  live: string[];
}

export interface RecoverOptions {
  /** Delete what is set aside instead of moving it to `.joules/incomplete/`. */
  remove?: boolean;
  liveness?: Liveness;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

async function readMarker(file: string): Promise<{ owner?: ProcessOwner; csvFile?: string } | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const owner = asOwner(value.owner);
    return { ...(owner && { owner }), ...(typeof value.csvFile === 'string' && { csvFile: value.csvFile }) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return {}; // unreadable: nobody can own it
  }
}

async function setAside(
  layout: ResultsLayout,
  from: string,
  options: RecoverOptions,
): Promise<string | undefined | false> {
  try {
    if (options.remove) {
      await rm(from, { recursive: true, force: true });
      return undefined;
    }
    await mkdir(layout.incompleteDir, { recursive: true });
    const to = path.join(
      layout.incompleteDir,
      `${path.basename(from)}.${new Date().toISOString().replace(/[:.]/g, '-')}`,
    );
    await rename(from, to);
    return to;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // another process recovered it
    throw error;
  }
}

/**
 * Finish what dead processes left in a results folder, reading only the pending markers and the
 * staging area (not every experiment). For each marker whose owner is dead: a folder whose CSV
 * row is in is confirmed; one whose row never came is set aside, as is any half-built folder;
 * then the marker goes. The ids set aside are never reused.
 */
export async function recoverResults(resultsDir: string, options: RecoverOptions = {}): Promise<ResultsRecovery> {
  const layout = resultsLayout(resultsDir);
  const liveness = options.liveness ?? defaultLiveness;
  const out: ResultsRecovery = { confirmed: [], setAside: [], live: [] };
  const acks = new Map<string, Set<string>>();
  const acked = async (csvFile: string | undefined, id: string) => {
    if (!csvFile) return false;
    if (!acks.has(csvFile)) acks.set(csvFile, await acknowledgedIds(layout.root, csvFile));
    return acks.get(csvFile)!.has(id);
  };
  const staging = (await readdir(layout.stagingDir).catch(() => [] as string[])).sort();
  const stagingOf = (id: string) => staging.filter((name) => name.startsWith(`${id}-`));
  const moveAside = async (from: string, experimentId: string, reason: SetAsideFolder['reason']) => {
    const to = await setAside(layout, from, options);
    if (to !== false) out.setAside.push({ experimentId, from, reason, ...(to && { to }) });
  };

  const markers = (await readdir(layout.pendingDir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.json'))
    .sort();
  const handled = new Set<string>();
  for (const name of markers) {
    const id = name.slice(0, -'.json'.length);
    if (!ID_PATTERN.test(id)) continue;
    const file = layout.pendingMarker(id);
    const marker = await readMarker(file);
    if (!marker) continue;
    handled.add(id);
    if (liveness(marker.owner) !== false && marker.owner) {
      out.live.push(id);
      continue;
    }
    const dir = layout.experimentDir(id);
    if (await exists(dir)) {
      if (await acked(marker.csvFile, id)) out.confirmed.push(id);
      else await moveAside(dir, id, 'unacknowledged');
    }
    for (const s of stagingOf(id)) await moveAside(path.join(layout.stagingDir, s), id, 'staging');
    await unlink(file).catch(() => undefined);
  }
  // Staging folders with no marker seen above: a writer may have started since; look again.
  for (const s of staging) {
    const id = /^(\d+)-/.exec(s)?.[1];
    if (!id || handled.has(id)) continue;
    const marker = await readMarker(layout.pendingMarker(id));
    if (marker?.owner && liveness(marker.owner) !== false) continue;
    if (marker) continue; // a marker of a dead owner that appeared late: the next recovery handles both
    await moveAside(path.join(layout.stagingDir, s), id, 'staging');
  }
  return out;
}
