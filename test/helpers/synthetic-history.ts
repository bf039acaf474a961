/**
 * Workflow histories written by hand, event by event, for the pure tests of the audit report
 * (src/client/report/history-report.ts): shapes a real run produces only rarely (a host that is down,
 * retries) or only at a size no test can afford to run (5,000 zones in 16 executions).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import Long from 'long';
import { activityId, batchActivityId, listActivityId, PARENT } from '../../src/contract/activity-ids';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;

export const ts = (ms: number) => ({ seconds: Long.fromNumber(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
export const payloads = (...values: unknown[]) => ({
  payloads: values.map((v) => defaultPayloadConverter.toPayload(v)),
});

export function appFailure(type: string, message: string, nonRetryable = true): Failure {
  return { message, applicationFailureInfo: { type, nonRetryable } };
}

// Wire values of temporal.api.enums.v1 (src/client/report/history-decode.ts names them).
export const TIMEOUT_SCHEDULE_TO_START = 2;
export const RETRY_NON_RETRYABLE = 2;
export const RETRY_TIMEOUT = 3;
export const RETRY_MAXIMUM_ATTEMPTS = 4;

export type ActivityEnd =
  { result: unknown } | { failure: Failure; retryState?: number } | { scheduleToStartTimeout: true };

/** One execution's history, written in order; each event 1 ms after the one before. */
export class HistoryWriter {
  readonly events: HistoryEvent[] = [];
  private id = 0;

  constructor(private ms = Date.parse('2026-11-25T12:00:00.000Z')) {}

  get now(): number {
    return this.ms;
  }

  event(attrs: Partial<HistoryEvent>): number {
    this.ms += 1;
    this.events.push({ eventId: Long.fromNumber(++this.id), eventTime: ts(this.ms), ...attrs });
    return this.id;
  }

  started(workflowType: string, runId: string, firstRunId: string, ...input: unknown[]): this {
    this.event({
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: workflowType },
        taskQueue: { name: 'wf-queue' },
        input: payloads(...input),
        originalExecutionRunId: runId,
        firstExecutionRunId: firstRunId,
        identity: '1@client',
      },
    });
    return this.workflowTask();
  }

  workflowTask(): this {
    const s = this.event({ workflowTaskScheduledEventAttributes: { taskQueue: { name: 'wf-queue' } } });
    const st = this.event({
      workflowTaskStartedEventAttributes: { scheduledEventId: Long.fromNumber(s), identity: '1@worker' },
    });
    this.event({
      workflowTaskCompletedEventAttributes: {
        scheduledEventId: Long.fromNumber(s),
        startedEventId: Long.fromNumber(st),
        identity: '1@worker',
      },
    });
    return this;
  }

  /** Schedules an activity; returns its scheduled event ID for `end`. */
  schedule(
    activityId: string,
    type: string,
    input: unknown,
    opts: { taskQueue?: string; maximumAttempts?: number } = {},
  ): number {
    return this.event({
      activityTaskScheduledEventAttributes: {
        activityId,
        activityType: { name: type },
        taskQueue: { name: opts.taskQueue ?? 'linked-images@h1' },
        input: payloads(input),
        retryPolicy: { maximumAttempts: opts.maximumAttempts ?? 5 },
      },
    });
  }

  /** Closes a scheduled activity (its last attempt `attempt`, started after `lastFailure` when retried). */
  end(
    scheduled: number,
    how: ActivityEnd,
    opts: { attempt?: number; lastFailure?: Failure; identity?: string } = {},
  ): this {
    const scheduledEventId = Long.fromNumber(scheduled);
    if ('scheduleToStartTimeout' in how) {
      this.event({
        activityTaskTimedOutEventAttributes: {
          scheduledEventId,
          failure: {
            message: 'activity ScheduleToStart timeout',
            timeoutFailureInfo: { timeoutType: TIMEOUT_SCHEDULE_TO_START },
          },
          retryState: RETRY_TIMEOUT,
        },
      });
      return this;
    }
    const identity = opts.identity ?? '42@synth';
    const startedEventId = Long.fromNumber(
      this.event({
        activityTaskStartedEventAttributes: {
          scheduledEventId,
          attempt: opts.attempt ?? 1,
          identity,
          lastFailure: opts.lastFailure,
        },
      }),
    );
    if ('result' in how)
      this.event({
        activityTaskCompletedEventAttributes: {
          scheduledEventId,
          startedEventId,
          result: payloads(how.result),
          identity,
        },
      });
    else
      this.event({
        activityTaskFailedEventAttributes: {
          scheduledEventId,
          startedEventId,
          failure: how.failure,
          retryState: how.retryState ?? RETRY_NON_RETRYABLE,
          identity,
        },
      });
    return this;
  }

  activity(
    activityId: string,
    type: string,
    input: unknown,
    how: ActivityEnd,
    opts: { attempt?: number; lastFailure?: Failure } = {},
  ): this {
    return this.end(this.schedule(activityId, type, input), how, opts);
  }

  completed(result: unknown): HistoryEvent[] {
    this.event({ workflowExecutionCompletedEventAttributes: { result: payloads(result) } });
    return this.events;
  }

  continuedAsNew(nextRunId: string): HistoryEvent[] {
    this.event({
      workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: nextRunId, workflowType: { name: 'x' } },
    });
    return this.events;
  }
}

export const STEMS = ['library/openssl', 'shell/bash', 'system/kernel', 'system/library', 'web/nginx'];

/** A plan activity's result (`{plan, lines}`): the image at `root`, 1.0 -> 1.1 of every STEMS package. */
export function planResult(name: string, root: string): { plan: unknown; lines: string[] } {
  const changes = STEMS.map((stem) => ({
    stem,
    from: `pkg://demo/${stem}@1.0:20261125T120000Z`,
    to: `pkg://demo/${stem}@1.1:20261125T120000Z`,
  }));
  return {
    plan: {
      format: 1,
      host: 'h1',
      image: root,
      stateToken: 't',
      changes,
      sizes: { downloadBytes: 1, installBytes: 1, files: 1, add: 0, update: 5, remove: 0 },
      digest: `digest-${name}`,
    },
    lines: ['Packages to update: 5'],
  };
}

const zone = (i: number) => `zone:z${i}`;
const rootOf = (name: string) => (name === 'parent' ? '/h' : `/zones/${name.slice(5)}/root`);
const PREPARED = { files: 11, bytes: 5300, fetchedFiles: 0, fetchedBytes: 0, lines: [] };
const EXECUTED = { status: 'applied', steps: 22, resumed: false, reprepared: false, lines: [] };

/** What a synthetic big run should be reported as. */
export interface BigRun {
  workflowId: string;
  executions: { workflowId: string; runId: string; history: { events: HistoryEvent[] } }[];
  zones: number;
  partitions: number;
  /** Children whose publisher check the batch reported as failed. */
  mismatched: string[];
  /** The child whose execute failed (IO_ERROR after 10 attempts). */
  executeFailed: string;
  /** The child whose plan succeeded on attempt 2 after LOCKED. */
  planRetried: string;
}

/**
 * A run of `zones` children in partitions of `size` (the run: describe, the parent's stages,
 * the child workflows; each partition: list, publisher-check batches of 100 and plan in its
 * first execution, prepare in its second, execute in its third), as a real run of 5,000 zones
 * is shaped: 16 executions, about 70,000 events. The results' lines are bounded as the workflow
 * bounds them, so most children's outcomes are not in the run's result.
 */
export function bigRun(zones = 5000, size = 1000): BigRun {
  const workflowId = 'big-run';
  const count = Math.ceil(zones / size);
  const input = { image: '/h', host: 'h1', concurrency: 0, partitionSize: size };
  const mismatched = [zone(7), zone(1234), zone(4999)].filter((n) => Number(n.slice(6)) <= zones);
  const executeFailed = zone(2500);
  const planRetried = zone(10);
  const executions: BigRun['executions'] = [];
  const lineBudget = Math.floor(96_000 / count);
  const allLines: string[] = [];
  const counts = { updated: 0, 'nothing-to-do': 0, planned: 0, failed: 0, cancelled: 0, skipped: 0, deferred: 0 };
  const partitionIds: string[] = [];

  for (let k = 1; k <= count; k++) {
    const pid = `${workflowId}/children-${k}`;
    partitionIds.push(pid);
    const names = Array.from({ length: Math.min(size, zones - (k - 1) * size) }, (_, i) =>
      zone((k - 1) * size + i + 1),
    );
    const runIds = [1, 2, 3].map((n) => `p${k}-run-${n}`);
    const partitionInput = {
      run: workflowId,
      index: k,
      count,
      offset: (k - 1) * size,
      size: names.length,
      total: zones,
      digest: 'd',
      input: { ...input, ignore: [], dryRun: false, hostTimeout: '10m' },
    };
    // Execution 1: list, publisher check in batches, plan.
    let w = new HistoryWriter().started('updateChildImages', runIds[0], runIds[0], partitionInput);
    w.activity(listActivityId(k), 'listChildren', {}, { result: { names } });
    for (let b = 0; b < names.length; b += 100) {
      const batch = names.slice(b, b + 100);
      const results = batch.map((name) => ({
        name,
        error: mismatched.includes(name)
          ? { code: 'PUBLISHER_MISMATCH', message: `publishers of ${name} differ` }
          : null,
      }));
      w.activity(
        batchActivityId('publisher-check', batch),
        'publisherCheck',
        { image: '/h', children: batch, concurrency: 0 },
        { result: { results } },
      );
      w.workflowTask();
    }
    const planned = names.filter((n) => !mismatched.includes(n));
    planned.forEach((name, i) => {
      const retried = name === planRetried;
      w.activity(
        activityId('plan', name),
        'plan',
        { image: '/h', child: name, parentPlan: 'digest-parent' },
        { result: planResult(name, rootOf(name)) },
        retried ? { attempt: 2, lastFailure: appFailure('LOCKED', `${name} is locked`, false) } : {},
      );
      if (i % 2 === 1) w.workflowTask();
    });
    executions.push({ workflowId: pid, runId: runIds[0], history: { events: w.continuedAsNew(runIds[1]) } });
    // Execution 2: prepare.
    w = new HistoryWriter(w.now).started('updateChildImages', runIds[1], runIds[0], partitionInput);
    planned.forEach((name, i) => {
      w.activity(
        activityId('prepare', name),
        'prepare',
        { image: '/h', child: name, plan: `digest-${name}` },
        { result: PREPARED },
      );
      if (i % 2 === 1) w.workflowTask();
    });
    executions.push({ workflowId: pid, runId: runIds[1], history: { events: w.continuedAsNew(runIds[2]) } });
    // Execution 3: execute, and the partition's bounded result.
    w = new HistoryWriter(w.now).started('updateChildImages', runIds[2], runIds[0], partitionInput);
    planned.forEach((name, i) => {
      const s = w.schedule(activityId('execute', name), 'execute', {
        image: '/h',
        child: name,
        plan: `digest-${name}`,
      });
      w.end(
        s,
        name === executeFailed
          ? { failure: appFailure('IO_ERROR', `disk full on ${name}`, false), retryState: RETRY_MAXIMUM_ATTEMPTS }
          : { result: EXECUTED },
        name === executeFailed ? { attempt: 10 } : {},
      );
      if (i % 2 === 1) w.workflowTask();
    });
    const lines: string[] = [];
    let bytes = 0;
    let omitted = 0;
    const pcounts = { updated: 0, 'nothing-to-do': 0, planned: 0, failed: 0, cancelled: 0, skipped: 0, deferred: 0 };
    for (const name of names) {
      const failed = mismatched.includes(name) || name === executeFailed;
      pcounts[failed ? 'failed' : 'updated']++;
      const line = `${name} ${failed ? 'failed' : 'updated'} ${mismatched.includes(name) ? 'publisher-check' : 'execute'} ${mismatched.includes(name) ? '-' : 5}`;
      if (bytes + line.length + 3 <= lineBudget) (lines.push(line), (bytes += line.length + 3));
      else omitted++;
    }
    for (const o of Object.keys(counts) as (keyof typeof counts)[]) counts[o] += pcounts[o];
    allLines.push(...lines);
    executions.push({
      workflowId: pid,
      runId: runIds[2],
      history: {
        events: w.completed({
          index: k,
          counts: pcounts,
          failures: [],
          failuresOmitted: 0,
          lines,
          linesOmitted: omitted,
          executions: 3,
          error: null,
        }),
      },
    });
  }

  // The run itself: describe, the partitions, the parent's stages; its result.
  const w = new HistoryWriter(Date.parse('2026-11-25T11:59:00.000Z')).started(
    'updateLinkedImages',
    'run-1',
    'run-1',
    input,
  );
  w.activity(
    activityId('describe', PARENT),
    'describeParent',
    { image: '/h', partitionSize: size },
    { result: { problems: [], total: zones, digest: 'd', partitionSize: size, children: null } },
  );
  partitionIds.forEach((id) =>
    w.event({
      startChildWorkflowExecutionInitiatedEventAttributes: {
        workflowId: id,
        workflowType: { name: 'updateChildImages' },
      },
    }),
  );
  partitionIds.forEach((id, k) =>
    w.event({
      childWorkflowExecutionStartedEventAttributes: { workflowExecution: { workflowId: id, runId: `p${k + 1}-run-1` } },
    }),
  );
  w.activity(
    activityId('plan', PARENT),
    'plan',
    { image: '/h', child: null, parentPlan: null },
    { result: planResult('parent', '/h') },
  );
  w.activity(
    activityId('prepare', PARENT),
    'prepare',
    { image: '/h', child: null, plan: 'digest-parent' },
    { result: PREPARED },
  );
  w.activity(
    activityId('execute', PARENT),
    'execute',
    { image: '/h', child: null, plan: 'digest-parent' },
    { result: EXECUTED },
  );
  partitionIds.forEach((id) =>
    w.event({ childWorkflowExecutionCompletedEventAttributes: { workflowExecution: { workflowId: id } } }),
  );
  const parent = {
    name: 'parent',
    outcome: 'updated',
    lastStage: 'execute',
    changes: 5,
    planDigest: 'digest-parent',
    error: null,
  };
  const result = {
    resultVersion: 2,
    image: '/h',
    host: 'h1',
    status: 'partial',
    exitCode: 3,
    dryRun: false,
    concurrency: 0,
    parent,
    counts,
    failures: [],
    failuresOmitted: 0,
    children: allLines,
    childrenOmitted: zones - allLines.length,
    executions: 1 + 3 * count,
    partitions: count,
  };
  executions.unshift({ workflowId, runId: 'run-1', history: { events: w.completed(result) } });
  return { workflowId, executions, zones, partitions: count, mismatched, executeFailed, planRetried };
}
