import { DefaultLogger, type LogEntry, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * `2026-11-25T12:00:00.000Z INFO  <message> key=value ...`: one line per event, so that `grep`,
 * journald and log shippers see one record per line. Metadata is flattened (`a.b=1`); strings
 * with spaces, quotes or newlines are JSON-quoted, so a stack trace never spans lines.
 */
export function formatLogLine(level: LogLevel, message: string, meta?: LogMetadata, at: Date = new Date()): string {
  const pairs: string[] = [];
  if (meta) flatten('', meta, pairs, 0);
  return `${at.toISOString()} ${level.padEnd(5)} ${oneLine(message)}${pairs.length ? ' ' + pairs.join(' ') : ''}`;
}

export function formatLogEntry(entry: LogEntry): string {
  return formatLogLine(entry.level, entry.message, entry.meta, new Date(Number(entry.timestampNanos / 1_000_000n)));
}

/**
 * SDK messages that this project's own set-up causes on purpose: the host's activity worker has
 * no workflows (they run on the shared queue), which the SDK reports as a warning.
 */
export function isExpectedSdkMessage(message: string): boolean {
  return message === 'No workflows registered, not polling for workflow tasks';
}

/** A Temporal logger writing one formatted line per entry to `write` (default: stdout); expected SDK messages are dropped. */
export function oneLineLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
): DefaultLogger {
  return new DefaultLogger(level, (entry) => {
    if (!isExpectedSdkMessage(entry.message)) write(formatLogEntry(entry));
  });
}

const MAX_DEPTH = 3;
const MAX_VALUE = 500;

function flatten(prefix: string, value: unknown, out: string[], depth: number): void {
  if (value instanceof Error) {
    out.push(`${prefix}=${quote(`${value.name}: ${value.message}`)}`);
    return;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    depth < MAX_DEPTH
  ) {
    for (const [k, v] of Object.entries(value))
      if (v !== undefined) flatten(prefix ? `${prefix}.${k}` : k, v, out, depth + 1);
    return;
  }
  out.push(`${prefix || 'meta'}=${render(value)}`);
}

function render(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  const s = JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE ? quote(s.slice(0, MAX_VALUE) + '...') : s;
}

function quote(s: string): string {
  const t = s.length > MAX_VALUE ? s.slice(0, MAX_VALUE) + '...' : s;
  return t !== '' && /^[^\s"'=\\]+$/.test(t) ? t : JSON.stringify(t);
}

function oneLine(s: string): string {
  return s.includes('\n') || s.includes('\r') ? s.replace(/\r?\n|\r/g, ' | ') : s;
}
