import type { BenchContext } from './bench-context';
import { runLegacyUpdate } from './legacy-update';
import { compiledPkgCli } from './pkg-command';
import { legacyFigure, type LegacyFigure } from './update-figures';
import { runWorkflowUpdate } from './workflow-update';

/** Part (d): nominal zones (before --zones-scale) and the workflow's concurrency. No simulated stage work on either side. */
export const LEGACY_CASE = { zones: 20, concurrency: 8 } as const;

/**
 * pkg(5)'s old way against the workflow: runLegacyUpdate (children one after another, four
 * `pkg` processes per child, later stages planning and preparing again; the CLI compiled once
 * before the clock starts) and the workflow at LEGACY_CASE.concurrency, each on a fresh
 * identical host, alternating which goes first by round; the fastest of `ctx.rounds` each.
 */
export async function measureLegacy(ctx: BenchContext): Promise<LegacyFigure> {
  const zones = ctx.zones(LEGACY_CASE.zones);
  const { concurrency } = LEGACY_CASE;
  const pkg = await compiledPkgCli();
  const best = { workflow: Infinity, legacy: Infinity };
  for (let round = 1; round <= ctx.rounds; round++) {
    ctx.log(
      `(d) legacy: ${zones} zones, pkg processes vs workflow C=${concurrency}${ctx.rounds > 1 ? ` [round ${round} of ${ctx.rounds}]` : ''}`,
    );
    const hosts = {
      workflow: await ctx.hosts.build(`legacy-${zones}z-workflow`, zones),
      legacy: await ctx.hosts.build(`legacy-${zones}z-legacy`, zones),
    };
    for (const side of round % 2 === 1 ? (['legacy', 'workflow'] as const) : (['workflow', 'legacy'] as const)) {
      let seconds: number;
      if (side === 'workflow') seconds = (await runWorkflowUpdate(ctx.server, hosts.workflow, { concurrency })).seconds;
      else {
        const t0 = performance.now();
        const r = await runLegacyUpdate(hosts.legacy, { pkg });
        seconds = (performance.now() - t0) / 1000;
        ctx.log(
          `    legacy: ${r.processes} pkg processes, plans ${r.runs.plan}, prepares ${r.runs.prepare}, executes ${r.runs.execute}`,
        );
      }
      best[side] = Math.min(best[side], seconds);
      ctx.log(`    ${side} ${seconds.toFixed(2)} s`);
    }
  }
  return legacyFigure(zones, concurrency, best.legacy, best.workflow);
}
