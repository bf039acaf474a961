import { FsLayer, realFs } from '../src/image/fs-layer';

export interface OpStats {
  calls: number;
  ms: number;
}

/**
 * realFs with a stopwatch on every call (--profile): execute runs its steps one after another,
 * so the summed time per operation says where its wall-clock time goes.
 */
export function profiledFs(): { fs: FsLayer; stats: Map<string, OpStats> } {
  const stats = new Map<string, OpStats>();
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(realFs) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      const t0 = process.hrtime.bigint();
      try {
        return await fn(...args);
      } finally {
        const s = stats.get(name) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += Number(process.hrtime.bigint() - t0) / 1e6;
        stats.set(name, s);
      }
    };
  }
  return { fs: wrapped as unknown as FsLayer, stats };
}
