/**
 * The output lines (StageOutput.lines: pkg(5)'s per-child output, e.g. `Download: 3/3 files, ...`)
 * of activities that completed, read from the history of the execution that ran them. The watch
 * asks only in rounds where activities ended, and only for those, so a quiet run costs no
 * history reads.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

/** At most this many history pages are read for one round (a bounded run's execution has a few). */
const MAX_PAGES = 20;

/**
 * Per activity ID of `ids` that completed in execution `workflowId` (its latest run), the
 * `lines` its result holds ([] when the result has none, e.g. publisher-check). IDs that did not
 * complete (failed, cancelled, not found) are left out. Throws what the SDK throws when the
 * server cannot be reached.
 */
export async function readStageOutputs(
  client: Client,
  workflowId: string,
  ids: ReadonlySet<string>,
): Promise<Map<string, string[]>> {
  const scheduled = new Map<string, string>(); // scheduled event ID -> activity ID
  const out = new Map<string, string[]>();
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      nextPageToken,
    });
    for (const e of r.history?.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s?.activityId && ids.has(s.activityId)) scheduled.set(String(e.eventId), s.activityId);
      const c = e.activityTaskCompletedEventAttributes;
      const id = c ? scheduled.get(String(c.scheduledEventId)) : undefined;
      if (c && id) out.set(id, linesOf(c.result?.payloads?.[0]));
    }
    if (!r.nextPageToken?.length) break;
    nextPageToken = r.nextPageToken;
  }
  return out;
}

function linesOf(payload: Parameters<typeof defaultPayloadConverter.fromPayload>[0] | undefined): string[] {
  if (!payload) return [];
  try {
    const v = defaultPayloadConverter.fromPayload<{ lines?: unknown }>(payload);
    return Array.isArray(v?.lines) ? v.lines.filter((l): l is string => typeof l === 'string') : [];
  } catch {
    return [];
  }
}
