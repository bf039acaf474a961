/**
 * `npm run update -- --fleet hosts.json [update options] [--waves 1,5,20%] [--host-concurrency N]
 * [--max-host-failures N|N%] [--wave-approval]`: starts one updateFleet run over the hosts of a
 * JSON file, the command line's update options applied to every host, and follows it.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { fleetInputProblems, type FleetRequest } from '../../contract/fleet';
import { recursionProblems, updateInputProblems } from '../../contract/input';
import { DEFAULT_TASK_QUEUE, UPDATE_FLEET, type UpdateFleetWorkflow } from '../../contract/workflows';
import { timestampOf } from '../../model/fmri';
import { connectClient, reusingFirst } from '../connection-settings';
import { followFleet } from './follow-fleet';

export interface StartFleetOptions {
  /** The hosts file: `[{"name", "image", "taskQueue"?}]`, or a whole fleet input `{"hosts": [...], "waves": ..., "update": {...}}`. */
  file: string;
  /** Update options from the command line, applied to every host (over the file's `update`). */
  update: Record<string, unknown>;
  /** Fleet options from the command line (over the file's). */
  fleet: {
    waves?: (number | string)[];
    hostConcurrency?: number;
    maxHostFailures?: number | string;
    waveApproval?: boolean;
  };
  id?: string;
  taskQueue?: string;
  wait: boolean;
}

/** Exit code 2 problems (bad file, bad options) before anything is started, one per line; else starts and follows. */
export async function startFleet(o: StartFleetOptions): Promise<number> {
  const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), o.file);
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`--fleet ${o.file}: ${(e as Error).message}\n`);
    return 2;
  }
  const base = (Array.isArray(raw) ? { hosts: raw } : raw) as Record<string, unknown>;
  const defined = Object.fromEntries(Object.entries(o.fleet).filter(([, v]) => v !== undefined));
  const input: FleetRequest = {
    ...(base as FleetRequest),
    ...defined,
    update: { ...((base.update as object) ?? {}), ...o.update },
  };
  const problems = fleetInputProblems(input);
  const first = Array.isArray(input.hosts) ? input.hosts[0] : undefined;
  if (!problems.length && first)
    for (const p of [
      ...updateInputProblems({ ...input.update, image: first.image, host: first.name }),
      ...recursionProblems(input.update ?? {}),
    ])
      problems.push(`update.${p}`);
  if (problems.length) {
    process.stderr.write(
      `--fleet ${o.file}: ${problems.join('\n')}\nRun "npm run update -- --help" for the options.\n`,
    );
    return 2;
  }
  let conn: Awaited<ReturnType<typeof connectClient>>;
  try {
    conn = await connectClient();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const workflowId = o.id ?? `fleet-${timestampOf(new Date())}`;
  const summary = `update fleet of ${input.hosts.length} hosts${input.waves ? `, waves ${JSON.stringify(input.waves)}` : ''}`;
  let handed = false;
  try {
    try {
      await conn.client.workflow.start<UpdateFleetWorkflow>(UPDATE_FLEET, {
        taskQueue: o.taskQueue ?? process.env.LINKED_IMAGES_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: summary,
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        process.stderr.write(
          `Workflow ID '${workflowId}' was already used; a fleet run is never started twice under one ID.\n`,
        );
        return 1;
      }
      throw e;
    }
    process.stdout.write(`Started ${workflowId} (${summary}) on ${conn.address}\n`);
    if (!o.wait) return 0;
    handed = true;
    return await followFleet({ workflowId, connect: reusingFirst(conn) });
  } finally {
    if (!handed) await conn.connection.close().catch(() => undefined);
  }
}
