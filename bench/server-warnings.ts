/**
 * What a Temporal dev server (src/dev/dev-server.ts, `--log-level warn`) says about histories and
 * payloads growing past its limits. The lines, as server 1.32 (CLI 1.9.1) prints them:
 *
 *   level=WARN msg="history count exceeds warn limit." service=history ... wf-id=w1 wf-run-id=... wf-event-count=51
 *   level=WARN msg="history size exceeds warn limit." service=history ... wf-id=w2 wf-run-id=... wf-history-size=25477
 *   level=WARN msg="Blob data size exceeds the warning limit." service=frontend ... wf-size=8032 blob-size-violation-operation=RespondActivityTaskCompleted
 *   level=WARN msg="Blob data size exceeds the warning limit." service=history ... wf-size=8032 blob-size-violation-operation=ScheduleActivityTask
 *
 * (`... exceeds error limit.` when the error limit is crossed: the server then terminates the
 * run.) The history service logs the history and its blob warnings through a throttled logger,
 * 4 lines a second by default, shared by all kinds, so without `history.throttledLogRPS` raised
 * (serverWarningArgs does) one kind can hide another and counts are lower bounds.
 */

export type ServerWarningKind = 'history-count' | 'history-size' | 'blob-size';
export const SERVER_WARNING_KINDS: readonly ServerWarningKind[] = ['history-count', 'history-size', 'blob-size'];

export interface ServerWarning {
  kind: ServerWarningKind;
  /** Which threshold: `warn` (dynamic config limit.*.warn) or `error` (limit.*.error). */
  limit: 'warn' | 'error';
  /** Events (history-count) or bytes (history-size: the whole history; blob-size: one payload field); null if the line has none. */
  value: number | null;
  workflowId: string | null;
  runId: string | null;
  line: string;
}

/** Exact messages, as the server's source spells them. */
const MESSAGES: Record<string, { kind: ServerWarningKind; limit: 'warn' | 'error' }> = {
  'history count exceeds warn limit.': { kind: 'history-count', limit: 'warn' },
  'history count exceeds error limit.': { kind: 'history-count', limit: 'error' },
  'history size exceeds warn limit.': { kind: 'history-size', limit: 'warn' },
  'history size exceeds error limit.': { kind: 'history-size', limit: 'error' },
  'Blob data size exceeds the warning limit.': { kind: 'blob-size', limit: 'warn' },
  'Blob size exceeds limit.': { kind: 'blob-size', limit: 'warn' }, // older servers' wording
  'Blob data size exceeds limit.': { kind: 'blob-size', limit: 'error' },
};
/** The field holding each kind's figure. */
const VALUE_TAG: Record<ServerWarningKind, string> = {
  'history-count': 'wf-event-count',
  'history-size': 'wf-history-size',
  'blob-size': 'wf-size',
};

/** The `key=value` / `key="quoted value"` fields of one server log line. */
function fields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of line.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g))
    out.set(m[1], m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

/** The warning a server log line reports, or null for any other line. */
export function classifyServerLine(line: string): ServerWarning | null {
  const f = fields(line);
  const msg = f.get('msg');
  const known = msg !== undefined && Object.hasOwn(MESSAGES, msg) ? MESSAGES[msg] : undefined;
  if (!known) return null;
  const raw = f.get(VALUE_TAG[known.kind]);
  const value = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
  return { ...known, value, workflowId: f.get('wf-id') ?? null, runId: f.get('wf-run-id') ?? null, line };
}

export interface ServerWarningSummary {
  /** Lines of each kind (both thresholds). */
  counts: Record<ServerWarningKind, number>;
  /** Of those, lines about the error threshold (the run was terminated or the call refused). */
  errorLimit: Record<ServerWarningKind, number>;
  /** The largest value a line of the kind reported (events, or bytes), or null. */
  largest: Record<ServerWarningKind, number | null>;
  /** The first `keep` lines of each kind, verbatim. */
  firstLines: Record<ServerWarningKind, string[]>;
  /** Other WARN and ERROR lines: how many, and the first `keep`. */
  other: { count: number; firstLines: string[] };
}

/**
 * Collects a server's output lines: pass `collector.log` as startDevServer's `log`, read
 * `summary()` whenever wanted (`reset()` starts over, e.g. between measured runs). Lines that
 * are neither WARN nor ERROR are ignored.
 */
export class ServerWarnings {
  private s!: ServerWarningSummary;
  readonly log = (line: string): void => this.add(line);

  /** @param keep lines kept per kind (default 3) */
  constructor(private readonly keep = 3) {
    this.reset();
  }

  add(line: string): void {
    const w = classifyServerLine(line);
    if (!w) {
      if (/\blevel=(WARN|ERROR)\b/.test(line)) {
        this.s.other.count++;
        if (this.s.other.firstLines.length < this.keep) this.s.other.firstLines.push(line);
      }
      return;
    }
    this.s.counts[w.kind]++;
    if (w.limit === 'error') this.s.errorLimit[w.kind]++;
    if (w.value !== null) this.s.largest[w.kind] = Math.max(this.s.largest[w.kind] ?? 0, w.value);
    if (this.s.firstLines[w.kind].length < this.keep) this.s.firstLines[w.kind].push(line);
  }

  summary(): ServerWarningSummary {
    return structuredClone(this.s);
  }

  reset(): void {
    const per = <T>(v: () => T) =>
      Object.fromEntries(SERVER_WARNING_KINDS.map((k) => [k, v()])) as Record<ServerWarningKind, T>;
    this.s = {
      counts: per(() => 0),
      errorLimit: per(() => 0),
      largest: per(() => null),
      firstLines: per(() => [] as string[]),
      other: { count: 0, firstLines: [] },
    };
  }
}

/** Warn limits to set on a dev server; absent ones keep the server's defaults (10 MB and 10,240 events per history, 512 KB per blob). */
export interface WarnLimits {
  /** Events in one run's history. */
  historyCount?: number;
  /** Bytes of one run's history. */
  historySize?: number;
  /** Bytes of one payload field (input, result, details). */
  blobSize?: number;
}

/**
 * `extraArgs` for startDevServer: the given warn limits as dynamic config, and the history
 * service's throttled logger raised from 4 to 10,000 lines a second so no warning is dropped.
 */
export function serverWarningArgs(limits: WarnLimits = {}): string[] {
  const values = [
    'history.throttledLogRPS=10000',
    ...(limits.historyCount !== undefined ? [`limit.historyCount.warn=${limits.historyCount}`] : []),
    ...(limits.historySize !== undefined ? [`limit.historySize.warn=${limits.historySize}`] : []),
    ...(limits.blobSize !== undefined ? [`limit.blobSize.warn=${limits.blobSize}`] : []),
  ];
  return values.flatMap((v) => ['--dynamic-config-value', v]);
}
