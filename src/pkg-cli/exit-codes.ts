/**
 * pkg(5)'s exit codes, as src/modules/client/pkgdefs.py defines them. Only those this command
 * line uses are listed; ImageError codes carry their own (src/model/errors.ts).
 */
export const EXIT = {
  /** Command succeeded. */
  OK: 0,
  /** An error occurred. */
  OOPS: 1,
  /** Invalid command line options were specified. */
  BADOPT: 2,
  /** Multiple operations were requested, but not all succeeded. */
  PARTIAL: 3,
  /** No changes were made: nothing to do. */
  NOP: 4,
  /** Image is not in sync with its constraints (audit-linked). */
  DIVERGED: 52,
  /** Image is not linked to a parent image. */
  NOPARENT: 53,
} as const;

/**
 * The exit code of an operation run on several images (children), from each one's code, as
 * pkg(5) combines them: every image OK or NOP gives OK when any changed, NOP when none did;
 * every image failing the same way gives that code (e.g. all diverged: 52), failing different
 * ways EXIT_OOPS (1); some succeeding and some failing gives EXIT_PARTIAL (3). No images at all
 * gives `none` (default NOP: there was nothing to do).
 */
export function combineExits(codes: readonly number[], none: number = EXIT.NOP): number {
  if (codes.length === 0) return none;
  const ok = (c: number) => c === EXIT.OK || c === EXIT.NOP;
  const failed = codes.filter((c) => !ok(c));
  if (failed.length === 0) return codes.includes(EXIT.OK) ? EXIT.OK : EXIT.NOP;
  if (failed.length < codes.length) return EXIT.PARTIAL;
  return failed.every((c) => c === failed[0]) ? failed[0] : EXIT.OOPS;
}
