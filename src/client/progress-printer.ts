import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../contract/messages';
import type { Progress, UpdateResult } from '../contract/run-types';

export interface ProgressWatch {
  /** Stops polling; with `final` (default) asks once more and prints the line if it differs from the last one printed. */
  stop(final?: boolean): Promise<void>;
}

/** A query that gets no answer in this time (no worker, a worker restarting) is skipped, in ms. */
const QUERY_DEADLINE_MS = 2000;

/**
 * Polls the `progress` query and prints pkg(5)'s status line whenever it changes. For a run split
 * into partitions it prints the line of the partition at work (its children by name), after the
 * run's totals. Queries that fail or time out (the first workflow task not yet done, no worker)
 * are skipped: this is a view.
 */
export function watchProgress(handle: WorkflowHandle, print: (line: string) => void, everyMs = 300): ProgressWatch {
  let last = '';
  let stopped = false;
  const ask = (h: WorkflowHandle) =>
    h.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => h.query(progressQuery));
  const poll = async () => {
    try {
      const p = await ask(handle);
      let line = p.line;
      const active = p.partitions?.active;
      if (active) {
        const k = p.partitions!.workflowIds.indexOf(active) + 1;
        const inner = await ask(handle.client.getHandle(active)).catch(() => null);
        const before = p.stages[inner?.stage as keyof Progress['stages']]?.done ?? 0;
        if (inner)
          line = `${inner.line} (partition ${k} of ${p.partitions!.workflowIds.length}; ${before} of all ${p.children} children done in the partitions before)`;
      }
      if (line !== last) {
        last = line;
        print(line);
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
    async stop(final = true) {
      stopped = true;
      await loop;
      if (final) await poll();
    },
  };
}

/** Child rows the table prints; the rest are counted (`npm run report` and the `children` query list them all). */
export const MAX_TABLE_ROWS = 50;
/** Failures printed with their message. */
export const MAX_PRINTED_FAILURES = 20;

/**
 * The result as a table, parent first: NAME, OUTCOME, LAST STAGE, CHANGES (packages the plan
 * changes), at most MAX_TABLE_ROWS children; then the counts, one line per failure, and what
 * deferred and skipped children mean when there are any.
 */
export function resultTable(r: UpdateResult): string[] {
  const rows = [
    ['NAME', 'OUTCOME', 'LAST STAGE', 'CHANGES'],
    ['parent', r.parent.outcome, r.parent.lastStage ?? '-', r.parent.changes === null ? '-' : String(r.parent.changes)],
  ];
  for (const line of r.children.slice(0, MAX_TABLE_ROWS)) rows.push(line.split(' '));
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  const lines = rows.map((row) =>
    row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]))).join('  '),
  );
  const hidden = r.children.length - Math.min(r.children.length, MAX_TABLE_ROWS) + r.childrenOmitted;
  if (hidden > 0) lines.push(`... and ${hidden} more children`);
  const counts = Object.entries(r.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  lines.push(
    `Children: ${counts.join(', ') || 'none'}${r.partitions ? ` (in ${r.partitions} partitions)` : ''}; ${r.executions} workflow execution${r.executions === 1 ? '' : 's'}`,
  );
  for (const f of r.failures.slice(0, MAX_PRINTED_FAILURES))
    lines.push(`${f.name}: ${f.stage} failed: ${f.code}: ${f.message}`);
  const more = r.failures.length - Math.min(r.failures.length, MAX_PRINTED_FAILURES) + r.failuresOmitted;
  if (more > 0) lines.push(`... and ${more} more failures`);
  // What the run's controls left undone, said once under the counts (the rows show which children).
  const deferred = r.counts.deferred ?? 0;
  const skipped = r.counts.skipped ?? 0;
  if (deferred > 0)
    lines.push(
      `${deferred} deferred: not executed, the maintenance window closed first; update them in the next window`,
    );
  if (skipped > 0)
    lines.push(`${skipped} skipped: left out (skipChild), or not reached after a failure or the plans' rejection`);
  // A host that stopped answering mid-execute leaves what it was doing unknown to the run: the
  // children of a lane (src/contract/lanes.ts) it was executing may be applied, or interrupted.
  if (r.failures.some((f) => f.stage === 'execute' && f.code === 'HOST_UNAVAILABLE'))
    lines.push(
      `The host stopped answering during execute: zones it was executing when it did (several to an activity when they are fast) may have been applied, or interrupted, though listed failed or skipped. \`npm run pkg -- audit-linked -R ${r.image}\` shows each zone's state; a new run rolls an interrupted execute back before it plans.`,
    );
  return lines;
}
