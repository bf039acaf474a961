/**
 * The report of an `updateLinkedImages` run from its histories (every execution: its
 * continue-as-new chain and its partitions' chains). AuditBuilder (audit-builder.ts) folds the
 * events; history-reader.ts feeds it from the server page by page; this builds it from whole
 * histories held in memory (tests, files).
 */
import { type AuditReport } from './audit-report';

import { AuditBuilder } from './audit-builder';
import type { ExecutionHistory, ReportOptions } from './report-options';
import type { History } from './history-decode';

export type * from './audit-report';
export type { DescribeInfo, ExecutionHistory, ReportOptions } from './report-options';

/**
 * The report of a run from whole histories: one History (a single execution of `opts.workflowId`,
 * with `opts.describe`), or every execution, the run's own chain first, oldest first.
 */
export function buildAuditReport(histories: History | ExecutionHistory[], opts: ReportOptions): AuditReport {
  const list: ExecutionHistory[] = Array.isArray(histories)
    ? histories
    : [
        {
          workflowId: opts.workflowId,
          runId: opts.describe?.runId ?? opts.runId ?? null,
          history: histories,
          describe: opts.describe,
        },
      ];
  const b = new AuditBuilder(opts);
  for (const h of list) {
    b.beginExecution(h.workflowId, h.runId ?? null);
    b.addEvents(h.history.events ?? []);
    b.endExecution(h.describe);
  }
  return b.report();
}
