import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../workflows';
import type { ImageResult, UpdateResult } from '../workflows/types';

export interface ProgressWatch {
  /** Stops polling; prints the final line if it differs from the last one printed. */
  stop(): Promise<void>;
}

/**
 * Polls the `progress` query and prints pkg(5)'s status line whenever it changes. Queries that
 * fail (the first workflow task not yet done, a worker restarting) are skipped: this is a view.
 */
export function watchProgress(handle: WorkflowHandle, print: (line: string) => void, everyMs = 300): ProgressWatch {
  let last = '';
  let stopped = false;
  const poll = async () => {
    try {
      const p = await handle.query(progressQuery);
      if (p.line !== last) {
        last = p.line;
        print(p.line);
      }
    } catch {
      // not answerable yet; try again next round
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      if (!stopped) await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await poll();
    },
  };
}

/** `5 packages 1.0 -> 1.1`; mixed changes are grouped: `2 packages 1.0 -> 1.1, 1 package new -> 2.0`. */
export function describeChanges(changes: ImageResult['changes']): string {
  if (changes.length === 0) return '-';
  const groups = new Map<string, number>();
  for (const c of changes) {
    const key = `${shortVersion(c.from) ?? 'new'} -> ${shortVersion(c.to) ?? 'removed'}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `${n} package${n === 1 ? '' : 's'} ${k}`).join(', ');
}

/** `pkg://demo/web/nginx@1.1:20261125T120000Z` -> `1.1` */
function shortVersion(fmri: string | null): string | null {
  if (fmri === null) return null;
  const at = fmri.indexOf('@');
  return at < 0 ? fmri : fmri.slice(at + 1).replace(/:\d{8}T\d{6}Z$/, '');
}

/** The per-image table (parent first), then one line per error. */
export function resultTable(r: UpdateResult): string[] {
  const rows = [['NAME', 'OUTCOME', 'LAST STAGE', 'CHANGES'], ...[r.parent, ...r.children].map((i) => [i.name, i.outcome, i.lastStage ?? '-', describeChanges(i.changes)])];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const lines = rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]))).join('  '));
  for (const i of [r.parent, ...r.children]) if (i.error) lines.push(`${i.name}: ${i.error.stage} failed: ${i.error.code}: ${i.error.message}`);
  return lines;
}
