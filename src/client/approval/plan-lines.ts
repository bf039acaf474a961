/**
 * What an operator reads before approving a run's plans: a table of the plans (parent first,
 * then each child: name, package changes, download size, plan digest) with the set digest, and
 * the exact commands that approve or reject them. Pure: no I/O.
 */
import prettyBytes from 'pretty-bytes';
import type { PlanLine } from '../../contract/controls';
import { shortDigest } from '../controls/control-state-lines';

/** Every plan of a run that waits for approval, as read-plans.ts gathers it from the `plans` query. */
export interface PlanSet {
  /** The digest `approve` must be given (ControlState.setDigest). */
  setDigest: string;
  /** The parent's plan, null when it changes nothing. */
  parent: PlanLine | null;
  /** The children's plans that change something, in selection order. */
  children: PlanLine[];
}

/**
 * The plans as a table, then the totals of those in the set and the set digest:
 *
 *     Plans waiting for approval:
 *       NAME     CHANGES  DOWNLOAD  PLAN
 *       parent   3        1.2 MB    1a2b3c4d5e6f…
 *       zone:z1  5        800 kB    0f9e8d7c6b5a…
 *       zone:z2  2        -         99aa88bb77cc…  not in the set (failed or skipped since it was planned)
 *     2 plans in the set, 8 package changes, 2 MB to download (prepared and verified)
 *     Set digest: <the whole digest>
 *
 * A download not known (null) shows as `-` and counts 0; a plan not `included` is listed, marked, and not counted.
 */
export function planTable(set: PlanSet): string[] {
  const plans = [...(set.parent ? [set.parent] : []), ...set.children];
  const rows = [
    ['NAME', 'CHANGES', 'DOWNLOAD', 'PLAN'],
    ...plans.map((p) => [
      p === set.parent ? 'parent' : p.name,
      String(p.changes),
      p.downloadBytes === null ? '-' : prettyBytes(p.downloadBytes),
      shortDigest(p.planDigest),
    ]),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  const fullWidth = 2 + widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  const table = rows.map((r, i) => {
    const line = `  ${r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]))).join('  ')}`;
    const left = i > 0 && !plans[i - 1].included;
    return left ? `${line.padEnd(fullWidth)}  not in the set (failed or skipped since it was planned)` : line;
  });
  const inSet = plans.filter((p) => p.included);
  const changes = inSet.reduce((n, p) => n + p.changes, 0);
  const bytes = inSet.reduce((n, p) => n + (p.downloadBytes ?? 0), 0);
  return [
    'Plans waiting for approval:',
    ...table,
    `${inSet.length} plan${inSet.length === 1 ? '' : 's'} in the set, ${changes} package change${changes === 1 ? '' : 's'}, ${prettyBytes(bytes)} to download (prepared and verified)`,
    `Set digest: ${set.setDigest}`,
  ];
}

/** The input of `approve` as the temporal CLI takes it: `{"digest":"<setDigest>"}`. */
export function approveInput(setDigest: string): string {
  return JSON.stringify({ digest: setDigest });
}

/**
 * How to approve or reject from another shell: the `temporal workflow update execute` lines (the
 * digest in full: `approve` refuses any other) and the `npm run control` ones.
 */
export function approvalCommands(workflowId: string, setDigest: string): string[] {
  return [
    'Approve them (the digest says which plans; approve refuses any other):',
    `  temporal workflow update execute -w ${workflowId} --name approve --input '${approveInput(setDigest)}'`,
    `  npm run control -- ${workflowId} approve --digest ${setDigest}`,
    'or reject them (the run ends with nothing executed, status rejected):',
    `  temporal workflow update execute -w ${workflowId} --name reject --input '{"reason":"<why>"}'`,
    `  npm run control -- ${workflowId} reject --reason '<why>'`,
  ];
}
