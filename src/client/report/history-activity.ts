/** What the audit report says about one activity's result and heartbeat. Pure. */
import type { temporal } from '@temporalio/proto';
import type { HeartbeatInfo } from './audit-report';
import { firstValue, iso, tsToMs } from './history-decode';

/**
 * One line from an activity's result, by activity type (src/contract/activity-types.ts; the legacy types
 * and those since bounded runs): `3 children`, `5 changes`, `12 files, 40.1 KiB (fetched 12,
 * 40.1 KiB)`, `applied, 42 steps`. Null when the result has no shape we know (a newer activity,
 * a payload we could not decode). A publisher-check batch is summarized per child by the caller.
 */
export function activitySummary(activityType: string, result: unknown, bytes: (n: number) => string): string | null {
  if (result === null || typeof result !== 'object') return null;
  const r = result as Record<string, unknown>;
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : null);
  switch (activityType) {
    case 'describeImage':
      if (typeof r.problem === 'string') return `not usable: ${r.problem}`;
      return Array.isArray(r.children) ? plural(r.children.length, 'child', 'children') : null;
    case 'describeParent': {
      if (Array.isArray(r.problems) && r.problems.length > 0) return `not usable: ${r.problems.join('; ')}`;
      const [total, size] = [n('total'), n('partitionSize')];
      if (total === null) return null;
      const parts = r.children === null && size ? Math.ceil(total / size) : 0;
      return `${plural(total, 'child', 'children')}${parts ? ` in ${plural(parts, 'partition', 'partitions')} of at most ${size}` : ''}`;
    }
    case 'listChildren':
      return Array.isArray(r.names) ? plural(r.names.length, 'child', 'children') : null;
    case 'planImage':
    case 'plan': {
      const changes = (r.plan as { changes?: unknown[] } | undefined)?.changes;
      if (!Array.isArray(changes)) return null;
      return changes.length === 0 ? 'nothing to do' : plural(changes.length, 'change', 'changes');
    }
    case 'prepareImage':
    case 'prepare': {
      const [files, size, fetched, fetchedBytes] = [n('files'), n('bytes'), n('fetchedFiles'), n('fetchedBytes')];
      if (files === null || size === null) return null;
      return `${plural(files, 'file', 'files')}, ${bytes(size)}${fetched !== null && fetchedBytes !== null ? ` (fetched ${fetched}, ${bytes(fetchedBytes)})` : ''}`;
    }
    case 'executeImage':
    case 'execute':
      if (typeof r.status !== 'string') return null;
      return `${r.status}${n('steps') !== null ? `, ${plural(n('steps')!, 'step', 'steps')}` : ''}${r.resumed === true ? ', resumed' : ''}${r.reprepared === true ? ', prepared again first' : ''}`;
    default:
      return null;
  }
}

/** Heartbeat details as prepare and execute send them (`{ stage, done, total, unit }`), or whatever else was sent. */
export function heartbeatOf(
  details: temporal.api.common.v1.IPayloads | null | undefined,
  at: Parameters<typeof tsToMs>[0],
): HeartbeatInfo | null {
  const atMs = tsToMs(at);
  const value = firstValue(details);
  if (atMs === null && value === undefined) return null;
  const v = (value ?? null) as Record<string, unknown> | null;
  if (
    v &&
    typeof v === 'object' &&
    typeof v.done === 'number' &&
    typeof v.total === 'number' &&
    typeof v.unit === 'string'
  ) {
    return { done: v.done, total: v.total, unit: v.unit, details: null, at: iso(atMs) };
  }
  return { done: null, total: null, unit: null, details: value ?? null, at: iso(atMs) };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
