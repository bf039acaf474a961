/**
 * Small decoders for the protobuf shapes of a workflow history: timestamps, payloads, failures
 * and the enum values the audit report names. Pure; no server needed.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { AuditFailure } from './audit-report';

/** The history's protobuf shapes, named once for the report's files. */
export type History = temporal.api.history.v1.IHistory;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;
export type Failure = temporal.api.failure.v1.IFailure;
export type StartedAttributes = temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes;

type Timestamp =
  { seconds?: { toString(): string } | number | string | null; nanos?: number | null } | null | undefined;

/** Milliseconds since the epoch, or null when unset. Seconds arrive as Long, number or string. */
export function tsToMs(ts: Timestamp): number | null {
  if (!ts || ts.seconds === null || ts.seconds === undefined) return null;
  const s = Number(typeof ts.seconds === 'object' ? ts.seconds.toString() : ts.seconds);
  if (!Number.isFinite(s) || (s === 0 && !ts.nanos)) return null;
  return s * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The value of the first payload, or undefined when there is none or it cannot be decoded (e.g. encrypted by a codec). */
export function firstValue(payloads: temporal.api.common.v1.IPayloads | null | undefined): unknown {
  const p = payloads?.payloads?.[0];
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p);
  } catch {
    return undefined;
  }
}

// Wire values of temporal.api.enums.v1, fixed by the protobuf contract (test/report.test.ts checks them).
export const RETRY_STATES = [
  'UNSPECIFIED',
  'IN_PROGRESS',
  'NON_RETRYABLE_FAILURE',
  'TIMEOUT',
  'MAXIMUM_ATTEMPTS_REACHED',
  'RETRY_POLICY_NOT_SET',
  'INTERNAL_SERVER_ERROR',
  'CANCEL_REQUESTED',
];
export const TIMEOUT_TYPES = ['UNSPECIFIED', 'START_TO_CLOSE', 'SCHEDULE_TO_START', 'SCHEDULE_TO_CLOSE', 'HEARTBEAT'];
export const PENDING_ACTIVITY_STATES = [
  'UNSPECIFIED',
  'SCHEDULED',
  'STARTED',
  'CANCEL_REQUESTED',
  'PAUSED',
  'PAUSE_REQUESTED',
];

export function enumName(names: string[], value: number | null | undefined): string | null {
  if (value === null || value === undefined || value === 0) return null;
  return names[value] ?? String(value);
}

const MAX_CAUSES = 5;

/** The code and full message of a failure; the code is the ApplicationFailure type when there is one. */
export function decodeFailure(f: temporal.api.failure.v1.IFailure | null | undefined): AuditFailure | null {
  if (!f) return null;
  const lines = [f.message ?? ''];
  let cause = f.cause;
  for (let i = 0; cause && i < MAX_CAUSES; i++, cause = cause.cause)
    lines.push(`caused by ${codeOf(cause)}: ${cause.message ?? ''}`);
  return {
    code: codeOf(f),
    message: lines.join('\n'),
    timeoutType: enumName(TIMEOUT_TYPES, f.timeoutFailureInfo?.timeoutType),
    nonRetryable: f.applicationFailureInfo?.nonRetryable === true,
  };
}

function codeOf(f: temporal.api.failure.v1.IFailure): string {
  if (f.applicationFailureInfo) return f.applicationFailureInfo.type || 'Error';
  if (f.timeoutFailureInfo) return 'TIMEOUT';
  if (f.canceledFailureInfo) return 'CANCELLED';
  if (f.terminatedFailureInfo) return 'TERMINATED';
  if (f.serverFailureInfo) return 'SERVER';
  if (f.activityFailureInfo) return 'ACTIVITY';
  return 'Error';
}

export function describeBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
