/**
 * Makes a command-line program end quietly when what reads its stdout goes away (`... | head -1`):
 * the write then fails with EPIPE, which Node raises as an unhandled 'error' event (a stack trace
 * and exit 1). The reader took what it wanted, so the program exits with the code it has so far
 * (0 unless set). Any other stdout error is raised as before. Call once, first thing in a main.
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}
