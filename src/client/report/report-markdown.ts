/**
 * An AuditReport as Markdown for a change ticket, usable at any size (5,000 zones: 20,000
 * stage rows): the summary and the counts per stage first, then the failed images and every
 * error (first line in a table, each distinct message once in full), then one table row per
 * image and stage, the FMRI changes (images with the same changes listed together), the
 * executions and partitions the run took, and the commands that show the whole history.
 * Built as an array of lines joined once: linear in the report's size.
 */
import type {
  AuditError,
  AuditReport,
  ExecutionAudit,
  HeartbeatInfo,
  ImageAudit,
  StageAudit,
  StageState,
} from './audit-report';
import { STAGE_STATES } from './audit-report';
import { describeBytes } from './history-decode';

const MAX_CELL = 120;
/** Distinct error messages printed in full; the rest are in the errors table (first line) and in `--json`. */
const MAX_FULL_MESSAGES = 100;
/** Partitions named in the summary; all are in the Partitions table. */
const MAX_SUMMARY_PARTITIONS = 10;
/** Images sharing changes are named up to this many; beyond it (and when they are most images), the images that do not share them are. */
const MAX_LISTED = 20;

export function reportMarkdown(r: AuditReport): string {
  const day = r.startedAt?.slice(0, 10) ?? r.generatedAt.slice(0, 10);
  const time = (t: string | null) => (t === null ? '–' : t.startsWith(day) ? t.slice(11) : t);
  const open = r.status === 'RUNNING' || r.status === 'PAUSED';
  const out: string[] = [];

  out.push(`# Linked-image update audit: \`${r.workflowId}\``, '');
  const item = (k: string, v: string) => out.push(`- **${k}:** ${v}`);
  item('Workflow ID', code(r.workflowId));
  item(
    'Run ID',
    r.runId
      ? `${code(r.runId)}${r.firstRunId && r.firstRunId !== r.runId ? ` (the latest execution; the first was ${code(r.firstRunId)})` : ''}`
      : 'unknown',
  );
  item('Parent image', r.parentImage ? code(r.parentImage) : 'unknown');
  item('Host', hostLine(r));
  item('Status', statusLine(r, open));
  item('Children', childrenLine(r));
  item('Started', r.startedAt ?? 'unknown');
  item('Closed', r.closedAt ?? (open ? 'not yet (still running)' : 'unknown'));
  item(
    'Duration',
    r.durationMs === null ? 'unknown' : `${duration(r.durationMs)}${open ? ` so far (as of ${r.generatedAt})` : ''}`,
  );
  item(
    'Concurrency',
    r.concurrency === null ? 'unknown' : r.concurrency <= 0 ? `${r.concurrency} (no limit)` : String(r.concurrency),
  );
  item('Dry run', r.dryRun === null ? 'unknown' : r.dryRun ? 'yes (planned only, nothing changed)' : 'no');
  item(
    'Task queue',
    `${r.taskQueue ? code(r.taskQueue) : 'unknown'} (workflows); started by ${r.startedBy ? code(r.startedBy) : 'unknown'}`,
  );
  item('Executions', executionsLine(r));
  if (r.partitions.length) item('Partitions', partitionsLine(r));
  if (r.server) item('Server', `${code(r.server.address)}, namespace ${code(r.server.namespace)}`);
  out.push('');

  out.push(
    '## Stage counts',
    '',
    'Images per stage by the state of their activity; *not started*: images the stage applies to with no activity in it (yet).',
    '',
  );
  out.push(...stageCountsTable(r));

  out.push('## Failures', '');
  out.push(...failures(r, open));

  out.push(`## Errors${r.errors.length ? ` (${r.errors.length})` : ''}`, '');
  if (r.errors.length === 0) out.push('None.', '');
  else out.push(...errors(r, time));

  out.push(
    '## Stages',
    '',
    `Times are UTC${r.startedAt ? ` on ${day}` : ''}. For a retried stage, started and duration are those of its last attempt.`,
    '',
  );
  out.push(
    '| image | stage | started | ended | duration | attempts | worker | result |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const img of r.images) {
    if (img.stages.length === 0) out.push(row([img.name, '–', '–', '–', '–', '–', '–', notStarted(img, open)]));
    // A child prepared with the parent has no prepare activity: a row says so, before its execute.
    const withParent = img.preparedWithParent && !img.stages.some((s) => s.stage === 'prepare');
    const withParentRow = row([
      img.name,
      'prepare',
      '–',
      '–',
      '–',
      '–',
      '–',
      "with the parent's: every file is in its plan",
    ]);
    let shown = !withParent;
    for (const s of img.stages) {
      if (!shown && s.stage === 'execute') {
        out.push(withParentRow);
        shown = true;
      }
      out.push(
        row([
          img.name,
          s.stage,
          time(s.startedAt),
          time(s.endedAt),
          s.durationMs === null ? '–' : duration(s.durationMs),
          s.attempts === null ? '–' : String(s.attempts),
          s.worker ?? '–',
          stageResult(s, img, r, time),
        ]),
      );
    }
  }
  out.push('');

  out.push('## Changes', '');
  out.push(...changes(r.images, open));

  out.push(
    '## Executions',
    '',
    "Every workflow execution the run took, whose histories this report read: the run's own continue-as-new chain, then each partition's.",
    '',
  );
  out.push(
    '| # | workflow ID | run ID | status | started | closed | events | history |',
    '|---|---|---|---|---|---|---|---|',
  );
  r.executions.forEach((e, i) =>
    out.push(
      row([
        String(i + 1),
        e.workflowId,
        e.runId ?? '?',
        e.status,
        time(e.startedAt),
        time(e.closedAt),
        String(e.events),
        describeBytes(e.historyBytes),
      ]),
    ),
  );
  out.push('');
  if (r.partitions.length) {
    out.push('## Partitions', '');
    out.push('| partition | workflow ID | status | executions | children | listed |', '|---|---|---|---|---|---|');
    for (const p of r.partitions) {
      const listed = p.list
        ? p.list.state === 'completed'
          ? `ok${p.list.summary ? `: ${p.list.summary}` : ''}`
          : `${p.list.state}${p.list.error ? `: ${p.list.error.code}` : ''}`
        : '–';
      out.push(
        row([
          String(p.index),
          p.workflowId,
          p.status === 'UNSPECIFIED' ? 'not started' : p.status,
          String(p.executions),
          p.children === null ? '–' : String(p.children),
          listed,
        ]),
      );
    }
    out.push('');
  }

  out.push('---', '');
  const run = r.runId ? ` --run-id ${r.runId}` : '';
  const several = r.executions.length > 1;
  out.push(
    `- Full history, every event of the ${several ? 'latest execution (the others: the run IDs above)' : 'run'}: \`npm run temporal -- workflow show -w ${r.workflowId}${run}\``,
  );
  if (open)
    out.push(
      `- Pending activities and their heartbeats now: \`npm run temporal -- workflow describe -w ${r.workflowId}${run}\``,
    );
  out.push(
    `- This report: \`npm run report -- ${r.workflowId}${run}\` (\`--json\` for the machine-readable form), generated ${r.generatedAt} from ${r.historyLength} history events of ${r.executions.length} execution${several ? 's' : ''}.`,
  );
  return out.join('\n') + '\n';
}

function hostLine(r: AuditReport): string {
  if (!r.host)
    return r.shape === 'legacy'
      ? 'not named (a run from before host task queues: its activities ran on the workflow task queue)'
      : 'unknown';
  return `${code(r.host)}, its activities on task queue ${r.hostTaskQueue ? code(r.hostTaskQueue) : 'unknown'}${r.hostTimeout ? ` (HOST_UNAVAILABLE when no worker takes one within ${r.hostTimeout})` : ''}`;
}

function statusLine(r: AuditReport, open: boolean): string {
  if (open) return `**${r.status}** (still running; the result is not known yet)`;
  if (r.result) return `**${r.status}**; result **${r.result.status}**, pkg exit code ${r.result.exitCode}`;
  return `**${r.status}**${r.closeReason ? ` (${cell(r.closeReason)})` : ''}; no result`;
}

function childrenLine(r: AuditReport): string {
  const n = r.selectedChildren ?? r.images.length - 1;
  const selected = `${n} selected`;
  if (!r.outcomes) return selected;
  const parts = Object.entries(r.outcomes)
    .filter(([, c]) => c > 0)
    .map(([o, c]) => `${c} ${o}`);
  return `${selected}: ${parts.length ? parts.join(', ') : 'none'}`;
}

function executionsLine(r: AuditReport): string {
  const own = r.executions.filter((e) => e.partition === 0).length;
  const inParts = r.executions.length - own;
  const where = r.partitions.length
    ? ` (${own} of the run itself, ${inParts} of its ${r.partitions.length} partitions)`
    : own > 1
      ? ' (a continue-as-new chain)'
      : '';
  return `${r.executions.length}${where}; ${r.historyLength.toLocaleString('en-US')} history events, ${describeBytes(r.historyBytes)}; see Executions below`;
}

function partitionsLine(r: AuditReport): string {
  const ids = r.partitions.slice(0, MAX_SUMMARY_PARTITIONS).map((p) => code(p.workflowId));
  const more = r.partitions.length > MAX_SUMMARY_PARTITIONS ? `, … (${r.partitions.length} in all)` : '';
  return `${r.partitions.length}${r.partitionSize ? ` of at most ${r.partitionSize} children` : ''}: ${ids.join(', ')}${more}; see Partitions below`;
}

function stageCountsTable(r: AuditReport): string[] {
  const used = STAGE_STATES.filter((st) => r.stageCounts.some((c) => (c.states[st] ?? 0) > 0));
  const out = [
    `| stage | ${[...used.map(stateLabel), 'not started'].join(' | ')} |`,
    `|---|${[...used, ''].map(() => '---|').join('')}`,
  ];
  for (const c of r.stageCounts)
    out.push(row([c.stage, ...used.map((st) => String(c.states[st] ?? 0)), String(c.notStarted)]));
  out.push('');
  return out;
}

function stateLabel(st: StageState): string {
  return st === 'scheduled' ? 'waiting for a worker' : st === 'retrying' ? 'waiting to retry' : st;
}

/** The images that failed (or were cancelled), each with the error that ended it. */
function failures(r: AuditReport, open: boolean): string[] {
  const lines: string[] = [];
  for (const img of r.images) {
    const failedRow = lastFailed(img.stages);
    const failed =
      img.outcome === 'failed' || img.outcome === 'cancelled' || (img.outcome === null && failedRow !== null);
    if (!failed) continue;
    const e = failedRow?.error;
    lines.push(
      row([
        img.name,
        img.outcome ?? (open ? 'failing' : 'failed'),
        failedRow?.stage ?? '–',
        e?.code ?? '–',
        e ? firstLine(e.message) : 'no failed activity in the history (see Errors)',
      ]),
    );
  }
  if (lines.length === 0) return ['None.', ''];
  return [
    `${lines.length} image${lines.length === 1 ? '' : 's'}:`,
    '',
    '| image | outcome | stage | code | message |',
    '|---|---|---|---|---|',
    ...lines,
    '',
  ];
}

function lastFailed(stages: StageAudit[]): StageAudit | null {
  for (let i = stages.length - 1; i >= 0; i--)
    if (['failed', 'timed-out', 'cancelled'].includes(stages[i].state)) return stages[i];
  return null;
}

function notStarted(img: ImageAudit, open: boolean): string {
  if (img.outcome) return img.outcome;
  return open ? 'not started yet' : 'not started';
}

function stageResult(s: StageAudit, img: ImageAudit, r: AuditReport, time: (t: string | null) => string): string {
  const attempt =
    s.attempts === null ? '' : `, attempt ${s.attempts}${s.maximumAttempts ? ` of ${s.maximumAttempts}` : ''}`;
  const earlier = s.error ? ` (previous attempt: ${s.error.code})` : '';
  const batch = s.batchSize !== null && s.batchSize > 1 ? ` (batch of ${s.batchSize})` : '';
  switch (s.state) {
    case 'completed': {
      const plan = s.stage === 'plan' && img.planDigest ? `, plan ${img.planDigest.slice(0, 12)}` : '';
      return `ok${s.summary ? `: ${s.summary}` : ''}${plan}${batch}${s.previousFailure ? `; retried after ${s.previousFailure.code}` : ''}`;
    }
    case 'failed':
      return `**failed**: ${s.error?.code ?? 'Error'}: ${firstLine(s.error?.message ?? '')}`;
    case 'timed-out':
      return s.error?.code === 'HOST_UNAVAILABLE'
        ? `**timed out**: HOST_UNAVAILABLE, no worker took it from ${s.taskQueue ?? 'its task queue'}`
        : `**timed out** (${s.error?.timeoutType ?? 'timeout'})${s.retryState ? `, ${s.retryState}` : ''}`;
    case 'cancelled':
      return 'cancelled';
    case 'running':
      return `running${attempt}, ${heartbeat(s.heartbeat, time)}${earlier}${batch}`;
    case 'scheduled':
      return `scheduled at ${time(s.scheduledAt)}${attempt}, waiting for a worker${s.taskQueue ? ` on ${s.taskQueue}` : ''}${batch}`;
    case 'retrying':
      return `waiting to retry${attempt}${s.nextAttemptAt ? ` at ${time(s.nextAttemptAt)}` : ''}${earlier}${batch}`;
    case 'cancel-requested':
      return `cancel requested${attempt}`;
    case 'paused':
      return `paused${attempt}`;
    case 'abandoned':
      return `never finished (${r.executions[s.execution]?.status ?? r.status})`;
    default:
      return 'open (no pending-activity details)';
  }
}

function heartbeat(h: HeartbeatInfo | null, time: (t: string | null) => string): string {
  if (!h) return 'no heartbeat yet';
  const at = h.at ? ` at ${time(h.at)}` : '';
  if (h.done !== null && h.total !== null) {
    const amount =
      h.unit === 'bytes'
        ? `${describeBytes(h.done)}/${describeBytes(h.total)}`
        : `${h.done}/${h.total} ${h.unit ?? ''}`.trim();
    return `last heartbeat ${amount}${at}`;
  }
  return `last heartbeat${at}`;
}

/** The package changes, images with the same changes together (a host's zones mostly share them). */
function changes(images: ImageAudit[], open: boolean): string[] {
  const groups = new Map<string, { img: ImageAudit; names: string[] }>();
  const unplanned = new Map<string, string[]>();
  for (const img of images) {
    if (img.changes === null) {
      const why = img.outcome === null ? (open ? 'Not planned yet' : 'Not planned') : `Not planned (${img.outcome})`;
      (unplanned.get(why) ?? unplanned.set(why, []).get(why)!).push(img.name);
      continue;
    }
    const key = img.changes.map((c) => `${c.stem}\0${c.from}\0${c.to}`).join('\n');
    const g = groups.get(key);
    if (g) g.names.push(img.name);
    else groups.set(key, { img, names: [img.name] });
  }
  const out: string[] = [];
  for (const { img, names } of groups.values()) {
    const on = `${names.length} image${names.length === 1 ? '' : 's'}: ${imageList(names, images)}`;
    if (img.changes!.length === 0) {
      out.push(`No changes (nothing to do) on ${on}`, '');
      continue;
    }
    out.push(`${img.changes!.length} package${img.changes!.length === 1 ? '' : 's'} on ${on}`, '');
    for (const c of img.changes!)
      out.push(`- ${code(c.stem)} ${c.fromVersion ?? '(new)'} -> ${c.toVersion ?? '(removed)'}`);
    out.push('');
  }
  for (const [why, names] of unplanned) out.push(`${why}: ${names.map(code).join(', ')}`, '');
  return out.length ? out : ['None.', ''];
}

/** The names, or, when they are most of many images, `every image except` the others. */
function imageList(names: string[], images: ImageAudit[]): string {
  if (names.length <= MAX_LISTED || names.length <= images.length / 2) return names.map(code).join(', ');
  const inList = new Set(names);
  const others = images.filter((i) => !inList.has(i.name)).map((i) => code(i.name));
  return others.length ? `every image except ${others.join(', ')}` : 'every image';
}

function errors(r: AuditReport, time: (t: string | null) => string): string[] {
  const who = (e: AuditError) => e.image ?? workflowOf(r, e);
  const out = ['| image | stage | attempt | code | message |', '|---|---|---|---|---|'];
  for (const e of r.errors)
    out.push(
      row([
        who(e),
        e.stage,
        e.attempt === null ? '–' : String(e.attempt),
        e.final ? e.code : `${e.code} (retried)`,
        firstLine(e.message),
      ]),
    );
  out.push('');
  // Each distinct message once, with every image it happened to (a host that is down fails them all alike).
  const groups = new Map<string, AuditError[]>();
  for (const e of r.errors) {
    const key = `${e.stage}\0${e.code}\0${e.final}\0${e.message}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(e);
  }
  let shown = 0;
  for (const list of groups.values()) {
    if (shown++ === MAX_FULL_MESSAGES) {
      out.push(
        `${groups.size - MAX_FULL_MESSAGES} more distinct messages: their first lines are in the table above, in full in \`--json\`.`,
        '',
      );
      break;
    }
    const e = list[0];
    const heading =
      list.length === 1 ? `${who(e)}, ${e.stage}: ${e.code}` : `${e.stage}: ${e.code}, ${list.length} times`;
    out.push(`### ${heading}`, '');
    if (list.length === 1) {
      const facts = [
        e.activityId ? `Activity ${code(e.activityId)}` : `The workflow execution ${workflowOf(r, e)}`,
        e.attempt === null ? null : `attempt ${e.attempt}`,
        e.retryState ? `retry state ${e.retryState}` : null,
        e.at ? `at ${time(e.at)}` : null,
      ];
      if (!e.final) facts.push('a failed attempt; the activity was retried');
      out.push(facts.filter((f) => f !== null).join(', ') + '.', '');
    } else {
      out.push(`${e.final ? '' : 'Failed attempts (retried) of: '}${list.map(who).map(code).join(', ')}.`, '');
    }
    out.push(fence(e.message), '');
  }
  return out;
}

function workflowOf(r: AuditReport, e: AuditError): string {
  const x: ExecutionAudit | undefined = e.execution === null ? undefined : r.executions[e.execution];
  return x ? `(workflow ${x.workflowId})` : '(workflow)';
}

function row(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

/** One table cell: one line, pipes escaped, bounded. */
function cell(s: string): string {
  const one = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  return one.length > MAX_CELL ? one.slice(0, MAX_CELL - 1) + '…' : one;
}

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return nl < 0 ? s : s.slice(0, nl);
}

function code(s: string): string {
  if (!s.includes('`')) return `\`${s}\``;
  const ticks = '`'.repeat(Math.max(...(s.match(/`+/g) ?? []).map((m) => m.length)) + 1);
  return `${ticks} ${s} ${ticks}`;
}

function fence(s: string): string {
  const ticks = '`'.repeat(Math.max(3, ...(s.match(/`+/g) ?? []).map((m) => m.length + 1)));
  return `${ticks}text\n${s}\n${ticks}`;
}

/** `13 ms`, `4.2 s`, `3 min 04 s`, `1 h 02 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
