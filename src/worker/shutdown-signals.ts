/**
 * Ctrl-C under `npm run` reaches our process twice: once from the terminal (the whole foreground
 * process group gets SIGINT) and once forwarded by npm. A repeat within this window is that echo,
 * not a user asking a second time.
 */
export const REPEAT_WINDOW_MS = 1000;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const NUMBER: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };

export interface ShutdownHandlers {
  /** The first SIGINT/SIGTERM: start a graceful stop. */
  first(signal: NodeJS.Signals): void;
  /** A later one (after REPEAT_WINDOW_MS): the user insists. @default exit at once with 128+signo */
  second?(signal: NodeJS.Signals): void;
}

/** Installs SIGINT/SIGTERM handlers; returns a function that removes them. */
export function onShutdownSignals(h: ShutdownHandlers): () => void {
  let firstAt: number | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (firstAt === null) {
      firstAt = Date.now();
      h.first(signal);
    } else if (Date.now() - firstAt >= REPEAT_WINDOW_MS) {
      if (h.second) h.second(signal);
      else process.exit(signalExitCode(signal));
    }
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.removeListener(s, handler);
  };
}

/** The shell's convention for "ended by a signal": 130 for SIGINT, 143 for SIGTERM. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (NUMBER[signal as (typeof SIGNALS)[number]] ?? 1);
}
