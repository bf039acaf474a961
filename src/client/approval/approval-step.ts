/**
 * What a watch does when the run it follows waits for plan approval (`controls.approval` is
 * `waiting`): print the plans and their set digest, then, by mode, ask on the terminal, approve
 * them, or print how to approve or reject them and go on following.
 */
import { createInterface } from 'node:readline/promises';
import type { Client } from '@temporalio/client';
import { approveUpdate, rejectUpdate, type ApproveArgs, type RejectArgs } from '../../contract/controls';
import { executeControl } from '../controls/execute-control';
import { approvalCommands, planTable } from './plan-lines';
import { readPlans } from './read-plans';

/**
 * - `show`: print the plans and the commands that approve or reject them (`npm run watch`,
 *   `npm run update` without `--approve`);
 * - `ask`: print the plans and ask `Execute these plans? [y/N]` (`--approve` on a terminal):
 *   y approves, anything else rejects;
 * - `approve`: print the plans and approve them (`--approve --yes`, for scripts).
 */
export type ApprovalMode = 'show' | 'ask' | 'approve';

/** The reason `reject` is given when the operator does not answer y at the prompt. */
export const PROMPT_REJECT_REASON = 'rejected at the prompt';

export interface ApprovalIo {
  /** Prints lines (the watch's renderer notes). */
  print: (lines: string[]) => void;
  /** Asks a question and resolves with the answer, or null when the operator pressed Ctrl-C. @default askOnTerminal */
  ask?: (question: string) => Promise<string | null>;
}

/** How the step ended: `approved`/`rejected` (the Update was applied), `shown` (nothing sent, or an Update refused), `interrupted` (Ctrl-C at the prompt). */
export type ApprovalOutcome = 'approved' | 'rejected' | 'shown' | 'interrupted';

/**
 * One approval step for the set of plans `workflowId` waits on now. An Update the run refuses
 * (e.g. `approve` with a digest that changed because a child was re-planned) is printed with
 * the validator's message; the run then waits again, and the caller calls this again for the
 * new set digest. Throws when the plans cannot be read (the caller tries again next round).
 * @returns the outcome, or null when the run no longer waits (nothing printed).
 */
export async function approvalStep(
  client: Client,
  workflowId: string,
  mode: ApprovalMode,
  io: ApprovalIo,
): Promise<ApprovalOutcome | null> {
  const set = await readPlans(client, workflowId);
  if (!set) return null;
  io.print(['', ...planTable(set)]);
  let approve: boolean;
  if (mode === 'show') {
    io.print(approvalCommands(workflowId, set.setDigest));
    return 'shown';
  } else if (mode === 'approve') {
    approve = true;
  } else {
    const answer = await (io.ask ?? askOnTerminal)('Execute these plans? [y/N] ');
    if (answer === null) {
      io.print(approvalCommands(workflowId, set.setDigest));
      return 'interrupted';
    }
    approve = /^\s*y(es)?\s*$/i.test(answer);
  }
  const r = approve
    ? await executeControl(client, workflowId, approveUpdate.name, [{ digest: set.setDigest } satisfies ApproveArgs])
    : await executeControl(client, workflowId, rejectUpdate.name, [
        { reason: PROMPT_REJECT_REASON } satisfies RejectArgs,
      ]);
  if (!r.ok) {
    io.print([`The run refused to ${approve ? 'approve' : 'reject'} the plans: ${r.message}`]);
    return 'shown';
  }
  io.print([
    approve
      ? `Approved set digest ${set.setDigest}: the run executes these plans.`
      : `Rejected (${PROMPT_REJECT_REASON}): the run ends with nothing executed.`,
  ]);
  return approve ? 'approved' : 'rejected';
}

/**
 * Asks on this process's terminal (stdin, stdout) with node:readline/promises; Ctrl-C at the
 * prompt (the terminal in raw mode sends no SIGINT) resolves with null.
 */
export async function askOnTerminal(question: string): Promise<string | null> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const abort = new AbortController();
  rl.on('SIGINT', () => abort.abort());
  try {
    return await rl.question(question, { signal: abort.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') {
      process.stdout.write('\n');
      return null;
    }
    throw e;
  } finally {
    rl.close();
  }
}
