import type { MachineInfo } from './machine';

/** Part (a): the workflow against the same update done with the image model's functions in a fresh process, on identical fresh hosts. */
export interface OverheadFigure {
  zones: number;
  /** Simulated work before every stage of every image, in milliseconds. */
  stageMs: number;
  /** From the client's start to the result, in seconds (fastest round). */
  workflowSeconds: number;
  /** The direct update in a fresh process (runDirectUpdateProcess), its own wall clock, in seconds (fastest round). */
  directSeconds: number;
  /** workflowSeconds / directSeconds. */
  ratio: number;
  /** The run's concurrency (children at once in each stage). */
  concurrency: number;
}

/** Part (b): one concurrency of the workflow. */
export interface SpeedupFigure {
  concurrency: number;
  /** From start to result, in seconds (fastest round). */
  seconds: number;
  /** seconds at concurrency 1 / seconds here. */
  speedup: number;
  /** The same update through the image model's functions (runDirectUpdateProcess, no orchestration), in seconds (fastest round). */
  directSeconds: number;
  /** directSeconds at concurrency 1 / directSeconds here: what this machine allows this workload without any orchestration. */
  directSpeedup: number;
  zones: number;
  /** Simulated work before every stage of every image, in milliseconds. */
  stageMs: number;
}

/** Part (c): duplicate work of one workflow run, with or without a worker SIGKILLed in the middle of prepare. */
export interface DuplicateFigure {
  crash: boolean;
  /** Plan activity starts of the child planned most often (1: no child was planned twice). */
  maxPlansPerChild: number;
  /** Compressed content bytes the depot sent during the run (file and filelist response bodies). */
  downloadedBytes: number;
  /** Compressed bytes of the distinct content the run needed that was not in the host's cache at its start. */
  uniqueBytes: number;
  /** Files behind uniqueBytes (each filelist frame adds a header of under FRAME_HEADER_BYTES). */
  uniqueFiles: number;
  /** Compressed size of the files with a partial download on disk at the kill (0 without a crash): what may come twice. */
  inFlightBytes: number;
  zones: number;
  concurrency: number;
}

/** Part (d): pkg(5)'s old serial, staged recursion against the workflow. */
export interface LegacyFigure {
  zones: number;
  /** runLegacyUpdate from call to return, in seconds (fastest round; compiling the CLI excluded). */
  legacySeconds: number;
  /** The workflow at the part's concurrency, start to result, in seconds (fastest round). */
  workflowSeconds: number;
  /** legacySeconds / workflowSeconds. */
  speedup: number;
  concurrency: number;
}

/** Everything `npm run bench --json FILE` writes. Parts left out with --only are empty (legacy: null). */
export interface UpdateFigures {
  overhead: OverheadFigure[];
  speedup: SpeedupFigure[];
  duplicates: DuplicateFigure[];
  legacy: LegacyFigure | null;
  rounds: number;
  zonesScale: number;
  machine: MachineInfo;
  /** Whole run, hosts and worker starts included, in seconds. */
  totalSeconds: number;
}

/** Upper bound of a filelist frame header (`<64 hex> <size>\n`), in bytes: what the depot sends per file beyond its content. */
export const FRAME_HEADER_BYTES = 100;

export function overheadFigure(
  run: { zones: number; stageMs: number; concurrency: number },
  workflowSeconds: number,
  directSeconds: number,
): OverheadFigure {
  return {
    zones: run.zones,
    stageMs: run.stageMs,
    workflowSeconds,
    directSeconds,
    ratio: workflowSeconds / directSeconds,
    concurrency: run.concurrency,
  };
}

/** Speed-ups against the run at concurrency 1, in order of concurrency. Throws RangeError without one at concurrency 1. */
export function speedupFigures(
  runs: { concurrency: number; seconds: number; directSeconds: number }[],
  host: { zones: number; stageMs: number },
): SpeedupFigure[] {
  const one = runs.find((r) => r.concurrency === 1);
  if (!one)
    throw new RangeError(
      `Expected a run at concurrency 1 to compare with, got concurrencies ${runs.map((r) => r.concurrency).join(', ') || 'none'}`,
    );
  return [...runs]
    .sort((a, b) => a.concurrency - b.concurrency)
    .map((r) => ({
      concurrency: r.concurrency,
      seconds: r.seconds,
      speedup: one.seconds / r.seconds,
      directSeconds: r.directSeconds,
      directSpeedup: one.directSeconds / r.directSeconds,
      zones: host.zones,
      stageMs: host.stageMs,
    }));
}

export function legacyFigure(
  zones: number,
  concurrency: number,
  legacySeconds: number,
  workflowSeconds: number,
): LegacyFigure {
  return { zones, legacySeconds, workflowSeconds, speedup: legacySeconds / workflowSeconds, concurrency };
}

/**
 * Of several rounds' duplicate figures for the same case, the one that did the most duplicate
 * work (most plans of one child, then most bytes beyond the unique ones): duplicate work is a
 * defect to find, not a time to beat, so the worst round is the one that counts.
 */
export function worstDuplicates(rounds: DuplicateFigure[]): DuplicateFigure {
  if (rounds.length === 0) throw new RangeError('Expected at least one round');
  const extra = (d: DuplicateFigure) => d.downloadedBytes - d.uniqueBytes;
  return rounds.reduce((w, d) =>
    d.maxPlansPerChild > w.maxPlansPerChild || (d.maxPlansPerChild === w.maxPlansPerChild && extra(d) > extra(w))
      ? d
      : w,
  );
}
