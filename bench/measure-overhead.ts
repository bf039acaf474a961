import type { BenchContext } from './bench-context';
import { directUpdateSeconds } from './direct-process';
import { overheadFigure, type OverheadFigure } from './update-figures';
import { runWorkflowUpdate } from './workflow-update';

/** Part (a): nominal zone counts (before --zones-scale), simulated stage work in ms per image and stage, and the concurrency of both sides. */
export const OVERHEAD_CASES = { zones: [50, 200], stageMs: [0, 200], concurrency: 8 } as const;

/**
 * Orchestration overhead: for each zone count and stage delay, the workflow (runWorkflowUpdate:
 * dev server, the worker in its own fresh process, start to result) and the direct update (the
 * same update with the image model's functions, in a fresh process of its own as well:
 * runDirectUpdateProcess) at the same concurrency, each on a fresh identical host. The two sides alternate, and which goes first alternates by round; each side
 * counts its fastest of `ctx.rounds` runs. Throws when an update does not end `ok`.
 */
export async function measureOverhead(ctx: BenchContext): Promise<OverheadFigure[]> {
  const { concurrency } = OVERHEAD_CASES;
  const cases = OVERHEAD_CASES.zones.flatMap((z) =>
    OVERHEAD_CASES.stageMs.map((stageMs) => ({ zones: ctx.zones(z), stageMs, concurrency })),
  );
  const best = cases.map(() => ({ workflow: Infinity, direct: Infinity }));
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const [i, c] of cases.entries()) {
      const what = `${c.zones} zones, ${c.stageMs} ms/stage, C=${concurrency}`;
      ctx.log(`(a) overhead: ${what}${ctx.rounds > 1 ? ` [round ${round} of ${ctx.rounds}]` : ''}`);
      const hosts = {
        workflow: await ctx.hosts.build(`overhead-${c.zones}z-${c.stageMs}ms-workflow`, c.zones),
        direct: await ctx.hosts.build(`overhead-${c.zones}z-${c.stageMs}ms-direct`, c.zones),
      };
      for (const side of round % 2 === 1 ? (['workflow', 'direct'] as const) : (['direct', 'workflow'] as const)) {
        const seconds =
          side === 'workflow'
            ? (await runWorkflowUpdate(ctx.server, hosts.workflow, { concurrency, stageDelayMs: c.stageMs })).seconds
            : await directUpdateSeconds(hosts.direct, { concurrency, stageDelayMs: c.stageMs });
        best[i][side] = Math.min(best[i][side], seconds);
        ctx.log(`    ${side} ${seconds.toFixed(2)} s`);
      }
    }
  }
  return cases.map((c, i) => overheadFigure(c, best[i].workflow, best[i].direct));
}
