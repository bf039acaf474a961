import { promises as fs } from 'fs';
import * as path from 'path';
import { ioError } from '../model/errors';

export const HISTORY_FILE = 'var/pkg/history.jsonl';

export interface HistoryEntry {
  at: string; // ISO time
  op: 'execute' | 'recover';
  plan: string; // plan digest
  outcome: 'applied' | 'rolled-back' | 'already-applied' | 'nothing-to-do' | 'completed';
  /** Steps the plan has; for a resumed execute, how many had been done before the interruption. */
  steps: number;
  resumedAt?: number;
  error?: { code: string; message: string };
}

/**
 * The image's own record of what was done to it (pkg(5) keeps one too, `pkg history`): one JSON
 * line per execute or recovery. An `applied` line for a plan is written once even when the
 * execute that applied it is interrupted after its commit point and finished by the next one.
 */
export async function appendHistory(root: string, entry: Omit<HistoryEntry, 'at'>): Promise<void> {
  const file = path.join(root, HISTORY_FILE);
  try {
    if (
      entry.outcome === 'applied' &&
      (await readHistory(root)).some((e) => e.plan === entry.plan && e.outcome === 'applied')
    )
      return;
    await fs.appendFile(file, JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n');
  } catch (e) {
    throw ioError('cannot append to image history', file, e);
  }
}

export async function readHistory(root: string): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(root, HISTORY_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('cannot read image history', path.join(root, HISTORY_FILE), e);
  }
  // A torn last line (crash mid-append) is skipped, not fatal: the history is a record, not state.
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as HistoryEntry];
      } catch {
        return [];
      }
    });
}
