import {
  ApplicationFailure,
  condition,
  isCancellation,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { StageName } from '../contract/activity-types';
import { STAGES } from '../contract/activity-ids';
import {
  approveUpdate,
  controlsQuery,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  retryChildUpdate,
  setConcurrencyUpdate,
  skipChildUpdate,
  type ApprovalState,
  type ControlState,
  type RejectArgs,
  type StageCaps,
} from '../contract/controls';
import { failureBudget, type UpdateInput } from '../contract/input';
import { LINKED_IMAGE_STATUS } from '../contract/search-attributes';
import { LINK_NAME_RE } from '../model/linked-image';

/** What a run's controls carry across continue-as-new (a few hundred bytes whatever the run's size). */
export interface ControlMemo {
  paused: boolean;
  concurrency: number;
  stageConcurrency: StageCaps;
  /** The failure budget as a count (input `maxFailures` resolved against the selection). */
  maxFailures: number;
  failures: number;
  skipped: number;
  approval: ApprovalState;
  setDigest: string | null;
  rejectReason: string | null;
  /** Rounds of stages the run began (a retried or re-planned child takes the stages again in a new round). */
  rounds: number;
}

/**
 * The controls of a run just started with `input` over `children` selected children. A partition
 * of a run started before the controls gets that run's input without the new fields: defaults.
 */
export function newControlMemo(input: UpdateInput, children: number): ControlMemo {
  return {
    paused: false,
    concurrency: input.concurrency,
    stageConcurrency: { ...(input.stageConcurrency ?? {}) },
    maxFailures: failureBudget(input.maxFailures ?? 0, children),
    failures: 0,
    skipped: 0,
    approval: input.approval === true ? 'pending' : 'not-required',
    setDigest: null,
    rejectReason: null,
    rounds: 1,
  };
}

/** What the controls act on: the run's children (checked here), or its partitions (forwarded to them). */
export interface ControlTarget {
  /** Why `child` cannot be skipped now (unknown, already started or settled), or null. */
  skipProblem(child: string): string | null;
  /** Why `child` cannot be retried now (unknown, not failed), or null. */
  retryProblem(child: string): string | null;
  skip(child: string): Promise<void>;
  retry(child: string): Promise<void>;
  /** Concurrency or pause changed: forward them where they apply, show the status line. */
  changed(): Promise<void>;
}

/** A validator's refusal: the update is rejected and leaves no trace in the history. */
export function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'InvalidControl');
}

function checkCap(v: unknown, field: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v))
    refuse(`${field}: expected an integer (<= 0 means no limit), got ${JSON.stringify(v) ?? 'nothing'}`);
}

/**
 * The live controls of one run (README "Steer a run"): its Updates with synchronous validators
 * (src/contract/controls.ts), the `controls` query, and what the stage loop asks of them (caps,
 * pause, failure budget, approval, maintenance window). Waits use `condition()`, which writes no
 * history; the window's times are durable timers, so a run waiting for its window or for approval
 * survives worker and server restarts like any other wait.
 */
export class RunControls {
  /** Set once the run stops taking controls (its result is being made). */
  finished = false;
  /** While the run waits for the window to open: when it opens (ISO 8601). */
  private windowOpens: string | null = null;
  private windowClosedFlag = false;
  private windowTimerStarted = false;

  constructor(
    readonly memo: ControlMemo,
    private readonly input: UpdateInput,
  ) {}

  /** Registers the updates and the `controls` query; `target` applies what concerns children. */
  register(target: ControlTarget): void {
    setHandler(controlsQuery, () => this.state());
    const open = () => {
      if (this.finished) refuse('the run is finishing: it takes no more controls');
    };
    setHandler(
      setConcurrencyUpdate,
      async (args) => {
        if (args.concurrency !== undefined) this.memo.concurrency = args.concurrency;
        for (const [stage, cap] of Object.entries(args.stages ?? {}))
          this.memo.stageConcurrency[stage as StageName] = cap;
        await target.changed();
        return this.state();
      },
      {
        validator: (args) => {
          open();
          if (args === null || typeof args !== 'object')
            refuse('expected {"concurrency": N} or {"stages": {"prepare": N, ...}}');
          const known = new Set(['concurrency', 'stages']);
          for (const k of Object.keys(args))
            if (!known.has(k)) refuse(`unknown field '${k}'; expected concurrency, stages`);
          if (args.concurrency === undefined && args.stages === undefined)
            refuse('expected {"concurrency": N} or {"stages": {"prepare": N, ...}}');
          if (args.concurrency !== undefined) checkCap(args.concurrency, 'concurrency');
          if (args.stages !== undefined) {
            if (args.stages === null || typeof args.stages !== 'object') refuse('stages: expected {"prepare": N, ...}');
            for (const [stage, cap] of Object.entries(args.stages)) {
              if (!STAGES.includes(stage as StageName))
                refuse(`stages: unknown stage '${stage}'; expected ${STAGES.join(', ')}`);
              checkCap(cap, `stages.${stage}`);
            }
          }
        },
      },
    );
    setHandler(
      pauseUpdate,
      async () => {
        this.memo.paused = true;
        await target.changed();
        return this.state();
      },
      {
        validator: () => {
          open();
          if (this.memo.paused) refuse('the run is already paused (resume to go on)');
        },
      },
    );
    setHandler(
      resumeUpdate,
      async () => {
        this.memo.paused = false;
        await target.changed();
        return this.state();
      },
      {
        validator: () => {
          open();
          if (!this.memo.paused) refuse('the run is not paused');
        },
      },
    );
    const childArg = (args: unknown): string => {
      const child = (args as { child?: unknown } | null)?.child;
      if (typeof child !== 'string' || !LINK_NAME_RE.test(child))
        refuse(`child: expected a child name like {"child": "zone:z1"}, got ${JSON.stringify(child) ?? 'nothing'}`);
      return child;
    };
    setHandler(
      skipChildUpdate,
      async ({ child }) => {
        this.memo.skipped++;
        await target.skip(child);
        return this.state();
      },
      {
        validator: (args) => {
          open();
          const problem = target.skipProblem(childArg(args));
          if (problem) refuse(problem);
        },
      },
    );
    setHandler(
      retryChildUpdate,
      async ({ child }) => {
        await target.retry(child);
        return this.state();
      },
      {
        validator: (args) => {
          open();
          if (this.memo.approval === 'rejected') refuse('the plans were rejected: the run executes nothing more');
          const problem = target.retryProblem(childArg(args));
          if (problem) refuse(problem);
        },
      },
    );
    setHandler(
      approveUpdate,
      () => {
        this.memo.approval = 'approved';
        return this.state();
      },
      {
        validator: (args) => {
          open();
          const a = this.memo.approval;
          if (a !== 'waiting')
            refuse(
              a === 'not-required'
                ? 'the run was started without approval: there is nothing to approve'
                : a === 'pending'
                  ? 'the run is not waiting for approval yet (it does once every plan is prepared; query plans then)'
                  : `the plans were already ${a}`,
            );
          const digest = (args as { digest?: unknown } | null)?.digest;
          if (typeof digest !== 'string') refuse('digest: expected the set digest the plans query shows');
          if (digest !== this.memo.setDigest)
            refuse(
              `digest: the plans waiting for approval have set digest ${this.memo.setDigest}, not ${digest}: they changed since you reviewed them (a child was re-planned, retried or skipped); query plans again`,
            );
        },
      },
    );
    setHandler(
      rejectUpdate,
      (args) => {
        this.memo.approval = 'rejected';
        this.memo.rejectReason = (args as RejectArgs | undefined)?.reason ?? 'rejected';
        return this.state();
      },
      {
        validator: (args) => {
          open();
          const a = this.memo.approval;
          if (a !== 'pending' && a !== 'waiting')
            refuse(
              a === 'not-required'
                ? 'the run was started without approval: cancel it instead (temporal workflow cancel)'
                : `the plans were already ${a}`,
            );
          const reason = (args as RejectArgs | undefined)?.reason;
          if (reason !== undefined && typeof reason !== 'string') refuse('reason: expected a string');
        },
      },
    );
  }

  state(): ControlState {
    const m = this.memo;
    const w = this.input.window;
    return {
      paused: m.paused,
      concurrency: m.concurrency,
      stageConcurrency: m.stageConcurrency,
      maxFailures: m.maxFailures,
      failures: m.failures,
      skipped: m.skipped,
      approval: m.approval,
      setDigest: m.setDigest,
      window: w ? { notBefore: w.notBefore ?? null, notAfter: w.notAfter ?? null } : null,
      holding: this.holding(),
    };
  }

  private holding(): string | null {
    if (this.finished) return null;
    if (this.memo.paused) return 'paused';
    if (this.memo.approval === 'waiting') return 'waiting for approval';
    if (this.windowOpens) return `waiting for the window (opens ${this.windowOpens})`;
    return null;
  }

  /** The cap on children in flight in `stage` (`<= 0`: no limit). */
  cap(stage: StageName): number {
    return this.memo.stageConcurrency[stage] ?? this.memo.concurrency;
  }

  paused(): boolean {
    return this.memo.paused;
  }

  rejected(): boolean {
    return this.memo.approval === 'rejected';
  }

  /** More children failed than the budget allows (pkg(5)'s fail-fast: more than 0). */
  exceeded(): boolean {
    return this.memo.failures > this.memo.maxFailures;
  }

  countFailure(d: 1 | -1): void {
    this.memo.failures += d;
  }

  /** The maintenance window has closed: no execute may start (workflow time, deterministic). */
  windowClosed(): boolean {
    const notAfter = this.input.window?.notAfter;
    return this.windowClosedFlag || (notAfter !== undefined && Date.now() >= Date.parse(notAfter));
  }

  /**
   * Before the execute stage: a timer for the window's end, so that a window waiting for a free
   * slot (or paused) wakes when the window closes and ends its remaining children `deferred`.
   */
  startWindowTimer(): void {
    const notAfter = this.input.window?.notAfter;
    if (!notAfter || this.windowTimerStarted) return;
    this.windowTimerStarted = true;
    const ms = Date.parse(notAfter) - Date.now();
    if (ms <= 0) return;
    void sleep(ms).then(
      () => void (this.windowClosedFlag = true),
      () => undefined, // cancelled with the run: nothing to close
    );
  }

  /** Waits while paused (at a stage boundary). 'cancelled' when the run is cancelled meanwhile. */
  async whilePaused(): Promise<'ok' | 'cancelled'> {
    return this.wait(() => !this.memo.paused);
  }

  /**
   * Waits until the window opens (input `window.notBefore`, a durable timer) or the run is
   * rejected. Publisher check, plan and prepare run before the window; only execute waits.
   */
  async untilWindowOpens(): Promise<'ok' | 'cancelled'> {
    const notBefore = this.input.window?.notBefore;
    if (!notBefore || Date.now() >= Date.parse(notBefore)) return 'ok';
    this.windowOpens = notBefore;
    upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: 'awaiting-window' }]);
    try {
      await condition(() => this.rejected(), Date.parse(notBefore) - Date.now());
      return 'ok';
    } catch (e) {
      if (isCancellation(e)) return 'cancelled';
      throw e;
    } finally {
      this.windowOpens = null;
    }
  }

  /** Waits for `approve` (with `setDigest`) or `reject`; 'cancelled' when the run is cancelled meanwhile. */
  async approval(setDigest: string): Promise<'approved' | 'rejected' | 'cancelled'> {
    if (this.memo.approval === 'rejected') return 'rejected';
    this.memo.setDigest = setDigest;
    this.memo.approval = 'waiting';
    upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: 'awaiting-approval' }]);
    const end = await this.wait(() => this.memo.approval !== 'waiting');
    if (end === 'cancelled') return 'cancelled';
    return (this.memo.approval as ApprovalState) === 'approved' ? 'approved' : 'rejected';
  }

  /** A retried or re-planned child will need approval again: the next round waits once more. */
  newRound(): void {
    this.memo.rounds++;
    if (this.memo.approval === 'approved') this.memo.approval = 'pending';
  }

  private async wait(fn: () => boolean): Promise<'ok' | 'cancelled'> {
    try {
      await condition(fn);
      return 'ok';
    } catch (e) {
      if (isCancellation(e)) return 'cancelled';
      throw e;
    }
  }
}
