import { megabytes, ratio, Row, seconds } from './table';
import {
  DuplicateFigure,
  FRAME_HEADER_BYTES,
  LegacyFigure,
  OverheadFigure,
  SpeedupFigure,
  UpdateFigures,
} from './update-figures';

/** The concurrency whose speed-up has a target, and the target (at least this many times faster than concurrency 1). */
export const SPEEDUP_TARGET = { concurrency: 8, min: 6 } as const;

/** The largest workflow/direct ratio allowed: 2 when stages do no simulated work (pure orchestration), 1.2 when they take 200 ms. */
export function overheadTarget(stageMs: number): number {
  return stageMs === 0 ? 2 : 1.2;
}

/**
 * Most content bytes a run may be served without counting as duplicate work: the unique bytes,
 * a filelist frame header per file, and after a crash the in-flight files' bytes once more.
 */
export function duplicateAllowance(d: DuplicateFigure): number {
  return d.uniqueBytes + d.uniqueFiles * FRAME_HEADER_BYTES + d.inFlightBytes;
}

/** No child planned twice, and no content served beyond duplicateAllowance. */
export function duplicatesPass(d: DuplicateFigure): boolean {
  return d.maxPlansPerChild === 1 && d.downloadedBytes <= duplicateAllowance(d);
}

const verdict = (ok: boolean): Row['result'] => (ok ? 'PASS' : 'MISS');
const secs = (s: number) => seconds(s * 1000);

export function overheadRow(o: OverheadFigure): Row {
  const max = overheadTarget(o.stageMs);
  return {
    phase: `overhead: ${o.zones} zones, ${o.stageMs} ms/stage, C=${o.concurrency}`,
    measured: `workflow ${secs(o.workflowSeconds)}`,
    baseline: `direct ${secs(o.directSeconds)}`,
    ratio: ratio(o.ratio),
    target: `≤ ${ratio(max)}`,
    result: verdict(o.ratio <= max),
  };
}

export function speedupRow(s: SpeedupFigure, base: SpeedupFigure): Row {
  const targeted = s.concurrency === SPEEDUP_TARGET.concurrency;
  return {
    phase: `speed-up: ${s.zones} zones, ${s.stageMs} ms/stage, C=${s.concurrency}`,
    measured: secs(s.seconds),
    // The direct update's speed-up is the bound this machine puts on the workload (2 cores shared
    // by every image's real work): orchestration cannot make the workflow's higher.
    baseline: `C=${base.concurrency} ${secs(base.seconds)}; direct ${ratio(s.directSpeedup)}`,
    ratio: ratio(s.speedup),
    target: targeted ? `≥ ${ratio(SPEEDUP_TARGET.min)}` : '',
    result: targeted ? verdict(s.speedup >= SPEEDUP_TARGET.min) : '',
  };
}

export function duplicatesRow(d: DuplicateFigure): Row {
  return {
    phase: `duplicates: ${d.zones} zones, C=${d.concurrency}, ${d.crash ? 'worker SIGKILLed mid-prepare' : 'no crash'}`,
    measured: `${d.maxPlansPerChild} plan(s)/child, ${megabytes(d.downloadedBytes)} served`,
    baseline: `unique ${megabytes(d.uniqueBytes)}${d.crash ? `, in flight ${megabytes(d.inFlightBytes)}` : ''}`,
    ratio: d.uniqueBytes > 0 ? ratio(d.downloadedBytes / d.uniqueBytes) : '—',
    target: `1 plan/child, ≤ unique${d.crash ? ' + in flight' : ''} + headers`,
    result: verdict(duplicatesPass(d)),
  };
}

export function legacyRow(l: LegacyFigure): Row {
  return {
    phase: `legacy: ${l.zones} zones, pkg processes vs workflow C=${l.concurrency}`,
    measured: `workflow ${secs(l.workflowSeconds)}`,
    baseline: `legacy ${secs(l.legacySeconds)}`,
    ratio: ratio(l.speedup),
    target: '',
    result: '',
  };
}

/** The table rows of every figure there is, in the parts' order. */
export function updateRows(f: Pick<UpdateFigures, 'overhead' | 'speedup' | 'duplicates' | 'legacy'>): Row[] {
  const rows = f.overhead.map(overheadRow);
  const base = f.speedup.find((s) => s.concurrency === 1);
  if (base) rows.push(...f.speedup.map((s) => speedupRow(s, base)));
  rows.push(...f.duplicates.map(duplicatesRow));
  if (f.legacy) rows.push(legacyRow(f.legacy));
  return rows;
}
