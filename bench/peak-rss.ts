import { readFileSync } from 'fs';

/** One reading of /proc/<pid>/status, in bytes. */
export interface MemoryStatus {
  /** VmHWM: the kernel's peak resident set of the process since it started. */
  hwmBytes: number;
  /** VmRSS: its resident set now. */
  rssBytes: number;
}

export interface PeakRss {
  /** The larger of the last VmHWM read and the largest VmRSS sampled; null when nothing could be read (no /proc, or the process was gone before the first sample). */
  peakBytes: number | null;
  /** The last VmHWM read (exact up to that moment), or null. */
  hwmBytes: number | null;
  /** The largest VmRSS sampled, or null. */
  maxRssBytes: number | null;
  /** Readings that succeeded. */
  samples: number;
  /** True once a reading found the process gone (or a zombie): nothing after that was seen. */
  exited: boolean;
}

export interface PeakRssSampler {
  /** The figures so far, without stopping. */
  current(): PeakRss;
  /** Takes a last reading (if the process is still there), stops sampling and returns the figures. Idempotent. */
  stop(): PeakRss;
}

/**
 * VmHWM and VmRSS of `pid` from /proc/<pid>/status, or null when the file cannot be read (no
 * such process, not Linux) or the process has exited and not yet been reaped (a zombie has no
 * memory lines).
 */
export function readMemoryStatus(pid: number): MemoryStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const hwm = kb('VmHWM');
  const rss = kb('VmRSS');
  return hwm === null || rss === null ? null : { hwmBytes: hwm, rssBytes: rss };
}

/**
 * Samples the memory of another process (a pkg process, a worker, the Temporal server) every
 * `intervalMs` (default 100) until stop() or until the process is gone. VmHWM is the kernel's
 * exact peak, but it can only be read while the process lives, so each sample keeps the latest;
 * VmRSS samples cover a process whose VmHWM was reset (clear_refs). A sample is one synchronous
 * read of a small /proc file (microseconds). The timer does not keep this process alive.
 */
export function samplePeakRss(pid: number, opts: { intervalMs?: number } = {}): PeakRssSampler {
  const r: PeakRss = { peakBytes: null, hwmBytes: null, maxRssBytes: null, samples: 0, exited: false };
  let timer: NodeJS.Timeout | null = null;
  const sample = () => {
    const s = readMemoryStatus(pid);
    if (!s) {
      r.exited = true;
      if (timer) clearInterval(timer);
      timer = null;
      return;
    }
    r.samples++;
    r.hwmBytes = s.hwmBytes;
    r.maxRssBytes = Math.max(r.maxRssBytes ?? 0, s.rssBytes);
    r.peakBytes = Math.max(r.hwmBytes, r.maxRssBytes);
  };
  sample();
  if (!r.exited) {
    timer = setInterval(sample, opts.intervalMs ?? 100);
    timer.unref();
  }
  return {
    current: () => ({ ...r }),
    stop: () => {
      if (timer) {
        clearInterval(timer);
        timer = null;
        sample();
      }
      return { ...r };
    },
  };
}
