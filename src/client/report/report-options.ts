/** What a report is built from: the run to report on, and what `describe` adds for an open execution. */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { type WorkflowStatusName } from './audit-report';
import type { History, PendingActivity } from './history-decode';

/** What `describe()` adds; `describeInfo(await handle.describe())` builds it. */
export interface DescribeInfo {
  runId: string;
  status: WorkflowStatusName;
  pendingActivities: PendingActivity[];
  /** The first run of the execution's continue-as-new chain, when the server says. */
  firstRunId?: string | null;
}

export function describeInfo(d: WorkflowExecutionDescription): DescribeInfo {
  return {
    runId: d.runId,
    status: d.status.name,
    pendingActivities: d.raw.pendingActivities ?? [],
    firstRunId: d.raw.workflowExecutionInfo?.firstRunId || null,
  };
}

export interface ReportOptions {
  /** The run's workflow ID: executions under another ID are its partitions. */
  workflowId: string;
  runId?: string;
  /** For a single history: the describe of that execution (when it is open). */
  describe?: DescribeInfo;
  server?: { address: string; namespace: string };
  /** "Now", for the duration of a running workflow. @default new Date() */
  now?: Date;
}

/** The whole history of one execution, for buildAuditReport. */
export interface ExecutionHistory {
  workflowId: string;
  /** @default the run ID in its WorkflowExecutionStarted event */
  runId?: string | null;
  history: History;
  /** When the execution is open: its describe, for the pending activities. */
  describe?: DescribeInfo;
}
