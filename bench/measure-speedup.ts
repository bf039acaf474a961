import type { BenchContext } from './bench-context';
import { speedupFigures, type SpeedupFigure } from './update-figures';
import { directUpdateSeconds } from './direct-process';
import { runWorkflowUpdate } from './workflow-update';

/**
 * Part (b): nominal zones (before --zones-scale), simulated stage work in ms per image and stage,
 * the concurrencies run, and the size of the file each zone's own package (zone/tools) brings.
 * With it every child has all three stages to do (the demo's cloned zones need only files of the
 * parent's plan and are prepared with the parent: two stages each).
 *
 * 64 zones, which every concurrency run divides, so that the figure measures concurrency rather
 * than a last wave's idle places: 50 zones at 8 go in 7 waves of which the last fills 2 of 8
 * places, and with the parent's serial stages (its plan, prepare and execute, and the children's
 * one publisher check: 4 × 200 ms) even an update with no real work could not pass
 * (0.8 + 150 × 0.2) / (0.8 + 3 × 7 × 0.2) = 6.2× at 8; at 64 zones that bound is 7.0×.
 */
export const SPEEDUP_CASES = { zones: 64, stageMs: 200, concurrency: [1, 2, 4, 8, 16], zoneFileBytes: 10_000 } as const;

/**
 * Speed-up with concurrency: the workflow (runWorkflowUpdate, start to result) at each
 * concurrency on a fresh host whose zones each have a package of their own, the fastest of
 * `ctx.rounds` runs each (ascending concurrencies in odd rounds, descending in even ones), against
 * the run at concurrency 1; and the same for the direct update (directUpdateSeconds, in a process of
 * its own, on its own fresh host), whose speed-up is what the machine allows the workload with no orchestration at all.
 */
export async function measureSpeedup(ctx: BenchContext): Promise<SpeedupFigure[]> {
  const zones = ctx.zones(SPEEDUP_CASES.zones);
  const { stageMs } = SPEEDUP_CASES;
  const best = new Map(SPEEDUP_CASES.concurrency.map((c) => [c, { workflow: Infinity, direct: Infinity }]));
  for (let round = 1; round <= ctx.rounds; round++) {
    const order = round % 2 === 1 ? [...SPEEDUP_CASES.concurrency] : [...SPEEDUP_CASES.concurrency].reverse();
    for (const concurrency of order) {
      ctx.log(
        `(b) speed-up: ${zones} zones, ${stageMs} ms/stage, C=${concurrency}${ctx.rounds > 1 ? ` [round ${round} of ${ctx.rounds}]` : ''}`,
      );
      const b = best.get(concurrency)!;
      const build = (side: string) =>
        ctx.hosts.build(`speedup-${zones}z-c${concurrency}-${side}`, zones, {
          bigFileBytes: SPEEDUP_CASES.zoneFileBytes,
        });
      const host = await build('workflow');
      const { seconds } = await runWorkflowUpdate(ctx.server, host, { concurrency, stageDelayMs: stageMs });
      b.workflow = Math.min(b.workflow, seconds);
      const directSeconds = await directUpdateSeconds(await build('direct'), { concurrency, stageDelayMs: stageMs });
      b.direct = Math.min(b.direct, directSeconds);
      ctx.log(`    workflow ${seconds.toFixed(2)} s, direct ${directSeconds.toFixed(2)} s`);
    }
  }
  return speedupFigures(
    [...best].map(([concurrency, b]) => ({ concurrency, seconds: b.workflow, directSeconds: b.direct })),
    { zones, stageMs },
  );
}
