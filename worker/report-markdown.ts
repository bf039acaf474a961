/**
 * An AuditReport as Markdown for a change ticket: a header, one table row per image and stage,
 * the FMRI changes per image, the errors (first line in a table, in full below), and the
 * command that shows the whole history.
 */
import type { AuditError, AuditReport, HeartbeatInfo, ImageAudit, StageAudit } from './audit-report';
import { describeBytes } from './history-decode';

const MAX_CELL = 120;

export function reportMarkdown(r: AuditReport): string {
  const day = r.startedAt?.slice(0, 10) ?? r.generatedAt.slice(0, 10);
  const time = (t: string | null) => (t === null ? '–' : t.startsWith(day) ? t.slice(11) : t);
  const open = r.status === 'RUNNING' || r.status === 'PAUSED';
  const out: string[] = [];

  out.push(`# Linked-image update audit: \`${r.workflowId}\``, '');
  const item = (k: string, v: string) => out.push(`- **${k}:** ${v}`);
  item('Workflow ID', code(r.workflowId));
  item('Run ID', r.runId ? code(r.runId) : 'unknown');
  item('Parent image', r.parentImage ? code(r.parentImage) : 'unknown');
  item('Status', statusLine(r, open));
  item('Started', r.startedAt ?? 'unknown');
  item('Closed', r.closedAt ?? (open ? 'not yet (still running)' : 'unknown'));
  item('Duration', r.durationMs === null ? 'unknown' : `${duration(r.durationMs)}${open ? ` so far (as of ${r.generatedAt})` : ''}`);
  item('Concurrency', r.concurrency === null ? 'unknown' : r.concurrency <= 0 ? `${r.concurrency} (no limit)` : String(r.concurrency));
  item('Dry run', r.dryRun === null ? 'unknown' : r.dryRun ? 'yes (planned only, nothing changed)' : 'no');
  item('Task queue', `${r.taskQueue ? code(r.taskQueue) : 'unknown'}; started by ${r.startedBy ? code(r.startedBy) : 'unknown'}`);
  if (r.server) item('Server', `${code(r.server.address)}, namespace ${code(r.server.namespace)}`);
  out.push('');

  out.push('## Stages', '', `Times are UTC${r.startedAt ? ` on ${day}` : ''}. For a retried stage, started and duration are those of its last attempt.`, '');
  out.push('| image | stage | started | ended | duration | attempts | worker | result |', '|---|---|---|---|---|---|---|---|');
  for (const img of r.images) {
    if (img.stages.length === 0) out.push(row([img.name, '–', '–', '–', '–', '–', '–', notStarted(img, open)]));
    for (const s of img.stages) {
      out.push(row([img.name, s.stage, time(s.startedAt), time(s.endedAt), s.durationMs === null ? '–' : duration(s.durationMs), s.attempts === null ? '–' : String(s.attempts), s.worker ?? '–', stageResult(s, r, time)]));
    }
  }
  out.push('');

  out.push('## Changes', '');
  for (const img of r.images) out.push(...changes(img), '');

  out.push('## Errors', '');
  if (r.errors.length === 0) out.push('None.', '');
  else out.push(...errors(r.errors, time));

  out.push('---', '');
  const run = r.runId ? ` --run-id ${r.runId}` : '';
  out.push(`- Full history, every event of the run: \`npm run temporal -- workflow show -w ${r.workflowId}${run}\``);
  if (open) out.push(`- Pending activities and their heartbeats now: \`npm run temporal -- workflow describe -w ${r.workflowId}${run}\``);
  out.push(`- This report: \`npm run report -- ${r.workflowId}${run}\` (\`--json\` for the machine-readable form), generated ${r.generatedAt} from ${r.historyLength} history events.`);
  return out.join('\n') + '\n';
}

function statusLine(r: AuditReport, open: boolean): string {
  if (open) return `**${r.status}** (still running; the result is not known yet)`;
  if (r.result) return `**${r.status}**; result **${r.result.status}**, pkg exit code ${r.result.exitCode}`;
  return `**${r.status}**${r.closeReason ? ` (${cell(r.closeReason)})` : ''}; no result`;
}

function notStarted(img: ImageAudit, open: boolean): string {
  if (img.outcome) return img.outcome;
  return open ? 'not started yet' : 'not started';
}

function stageResult(s: StageAudit, r: AuditReport, time: (t: string | null) => string): string {
  const attempt = s.attempts === null ? '' : `, attempt ${s.attempts}${s.maximumAttempts ? ` of ${s.maximumAttempts}` : ''}`;
  const earlier = s.error ? ` (previous attempt: ${s.error.code})` : '';
  switch (s.state) {
    case 'completed':
      return `ok${s.summary ? `: ${s.summary}` : ''}${s.previousFailure ? `; retried after ${s.previousFailure.code}` : ''}`;
    case 'failed':
      return `**failed**: ${s.error?.code ?? 'Error'}: ${firstLine(s.error?.message ?? '')}`;
    case 'timed-out':
      return `**timed out** (${s.error?.timeoutType ?? 'timeout'})${s.retryState ? `, ${s.retryState}` : ''}`;
    case 'cancelled':
      return 'cancelled';
    case 'running':
      return `running${attempt}, ${heartbeat(s.heartbeat, time)}${earlier}`;
    case 'scheduled':
      return `scheduled at ${time(s.scheduledAt)}${attempt}, waiting for a worker`;
    case 'retrying':
      return `waiting to retry${attempt}${s.nextAttemptAt ? ` at ${time(s.nextAttemptAt)}` : ''}${earlier}`;
    case 'cancel-requested':
      return `cancel requested${attempt}`;
    case 'paused':
      return `paused${attempt}`;
    case 'abandoned':
      return `never finished (workflow ${r.status})`;
    default:
      return 'open (no pending-activity details)';
  }
}

function heartbeat(h: HeartbeatInfo | null, time: (t: string | null) => string): string {
  if (!h) return 'no heartbeat yet';
  const at = h.at ? ` at ${time(h.at)}` : '';
  if (h.done !== null && h.total !== null) {
    const amount = h.unit === 'bytes' ? `${describeBytes(h.done)}/${describeBytes(h.total)}` : `${h.done}/${h.total} ${h.unit ?? ''}`.trim();
    return `last heartbeat ${amount}${at}`;
  }
  return `last heartbeat${at}`;
}

function changes(img: ImageAudit): string[] {
  const out = [`### ${img.name}${img.path ? ` (${code(img.path)})` : ''}`, ''];
  if (img.changes === null) return [...out, img.outcome === null ? 'Not planned.' : `Not planned (${img.outcome}).`];
  if (img.changes.length === 0) return [...out, 'No changes: nothing to do.'];
  out.push(`${img.changes.length} package${img.changes.length === 1 ? '' : 's'}${img.planDigest ? `, plan digest ${code(img.planDigest.slice(0, 12))}` : ''}:`, '');
  for (const c of img.changes) out.push(`- ${code(c.stem)} ${c.fromVersion ?? '(new)'} -> ${c.toVersion ?? '(removed)'}`);
  return out;
}

function errors(list: AuditError[], time: (t: string | null) => string): string[] {
  const out = ['| image | stage | attempt | code | message |', '|---|---|---|---|---|'];
  for (const e of list) out.push(row([e.image ?? '(workflow)', e.stage, e.attempt === null ? '–' : String(e.attempt), e.final ? e.code : `${e.code} (retried)`, firstLine(e.message)]));
  out.push('');
  for (const e of list) {
    out.push(`### ${e.image ?? 'workflow'}, ${e.stage}: ${e.code}`, '');
    const facts = [e.activityId ? `Activity ${code(e.activityId)}` : 'The workflow itself', e.attempt === null ? null : `attempt ${e.attempt}`, e.retryState ? `retry state ${e.retryState}` : null, e.at ? `at ${time(e.at)}` : null];
    if (!e.final) facts.push('a failed attempt; the activity was retried');
    out.push(facts.filter((f) => f !== null).join(', ') + '.', '', fence(e.message), '');
  }
  return out;
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
  return s.split('\n')[0];
}

function code(s: string): string {
  const ticks = '`'.repeat(Math.max(0, ...(s.match(/`+/g) ?? []).map((m) => m.length)) + 1);
  return ticks.length > 1 ? `${ticks} ${s} ${ticks}` : `\`${s}\``;
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
