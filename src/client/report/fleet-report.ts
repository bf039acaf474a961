/**
 * `npm run report -- <fleet workflow ID>`: the report of an updateFleet run, a table per host,
 * from the fleet's result (once it is over) or its `hosts` query (while it runs), joined with each
 * host run's own visibility record (status, LinkedImageStatus, times). Drill down to a host with
 * `npm run report -- <fleet ID>/<host>`.
 */
import type { Client } from '@temporalio/client';
import { fleetHostsQuery, parseHostResultLine, type FleetResult, type HostLine } from '../../contract/fleet';
import { LINKED_IMAGE_STATUS } from '../../contract/search-attributes';
import { UPDATE_FLEET } from '../../contract/workflows';

/** One host of a fleet report. */
export interface FleetHostReport {
  name: string;
  workflowId: string;
  /** The host's outcome in the fleet: updated, nothing-to-do, failed, skipped, or pending / working while it runs. */
  outcome: string;
  /** Its run's result status, or LinkedImageStatus while it runs; null when it never started. */
  status: string | null;
  /** The run's Temporal execution status (RUNNING, COMPLETED, FAILED...), null when it never started. */
  execution: string | null;
  wave: number | null;
  zones: string;
  error: string | null;
}

/** The report of one fleet run (the JSON of `npm run report -- <fleet id> --json`). */
export interface FleetReport {
  fleetReportVersion: 1;
  workflowId: string;
  /** The fleet's execution status, and its result's status once it is over. */
  execution: string;
  status: string | null;
  exitCode: number | null;
  hosts: FleetHostReport[];
}

/** True when `workflowId` is an updateFleet run (described once). */
export async function isFleet(client: Client, workflowId: string, runId?: string): Promise<boolean> {
  const d = await client.workflow.getHandle(workflowId, runId).describe();
  return d.type === UPDATE_FLEET;
}

/** Reads the fleet report; hosts from the result when the fleet is over, else from its `hosts` query (a worker must run). */
export async function readFleetReport(client: Client, workflowId: string): Promise<FleetReport> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  const runs = new Map<string, { execution: string; status: string | null }>();
  for await (const w of client.workflow.list({ query: `WorkflowId STARTS_WITH '${workflowId}/'` })) {
    if (w.workflowId.slice(workflowId.length + 1).includes('/')) continue; // a host run's partition
    const sa = w.typedSearchAttributes.get(LINKED_IMAGE_STATUS);
    runs.set(w.workflowId, { execution: w.status.name, status: sa ?? null });
  }
  let lines: HostLine[] = [];
  let result: FleetResult | null = null;
  if (d.status.name === 'COMPLETED') {
    result = (await handle.result()) as FleetResult;
    lines = result.hosts.map((l) => parseHostResultLine(l, workflowId, result!));
  } else {
    for (let offset = 0; ; offset += 1000) {
      const page = await handle.query(fleetHostsQuery, { offset, limit: 1000 });
      lines.push(...page.hosts);
      if (offset + 1000 >= page.total) break;
    }
  }
  return {
    fleetReportVersion: 1,
    workflowId,
    execution: d.status.name,
    status: result?.status ?? null,
    exitCode: result?.exitCode ?? null,
    hosts: lines.map((l) => {
      const run = runs.get(l.workflowId);
      return {
        name: l.name,
        workflowId: l.workflowId,
        outcome: l.outcome,
        status: l.status ?? run?.status ?? null,
        execution: run?.execution ?? null,
        wave: l.wave + 1,
        zones: `${l.updated ?? '-'}/${l.children ?? '-'}`,
        error: l.error ? `${l.error.code}: ${l.error.message}` : null,
      };
    }),
  };
}

/** The fleet report as Markdown: a line for the fleet, a table per host, how to drill down. */
export function fleetMarkdown(r: FleetReport): string {
  const out = [
    `# Fleet run ${r.workflowId}`,
    '',
    `${r.execution}${r.status ? `, status ${r.status} (exit ${r.exitCode})` : ''}; ${r.hosts.length} hosts.`,
    '',
    '| host | wave | outcome | run status | execution | zones updated | error |',
    '|---|---|---|---|---|---|---|',
    ...r.hosts.map(
      (h) =>
        `| ${h.name} | ${h.wave ?? '-'} | ${h.outcome} | ${h.status ?? '-'} | ${h.execution ?? '-'} | ${h.zones} | ${(h.error ?? '').replace(/\|/g, '\\|').slice(0, 200)} |`,
    ),
    '',
    `A host's own report: \`npm run report -- ${r.workflowId}/<host>\`.`,
    '',
  ];
  return out.join('\n');
}
