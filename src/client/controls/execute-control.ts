/**
 * Executes one control Update of a run (src/contract/controls.ts) and says how it went: the new
 * control state, or why it was not applied (the validator's message, a run that has ended, a
 * server that cannot be reached). Used by `npm run control` and by the approval step.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { ControlState } from '../../contract/controls';

/** An Update's outcome: applied, with the state it answered; or refused / not delivered, with the reason. */
export type ControlOutcome = { ok: true; state: ControlState } | { ok: false; message: string };

/**
 * Executes the Update named `name` with `args` on the latest run of `workflowId` and waits for its answer.
 * Never throws: a validator's rejection (WorkflowUpdateFailedError, whose cause carries the
 * validator's message) and any other error (no such workflow, a closed run, no server) come back
 * as `{ ok: false, message }`.
 */
export async function executeControl(
  client: Client,
  workflowId: string,
  name: string,
  args: unknown[],
): Promise<ControlOutcome> {
  try {
    const h = client.workflow.getHandle(workflowId);
    const state = args.length
      ? await h.executeUpdate<ControlState, [unknown, ...unknown[]]>(name, { args: args as [unknown, ...unknown[]] })
      : await h.executeUpdate<ControlState, []>(name);
    return { ok: true, state };
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) return { ok: false, message: e.cause?.message ?? e.message };
    return { ok: false, message: (e as Error).message };
  }
}
