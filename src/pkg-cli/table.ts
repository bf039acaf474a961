import { CliIo } from './command';

/**
 * Writes a table as pkg(5)'s listings: the header, then one line per row, each column padded to
 * its widest cell (header included) and columns two spaces apart; the last column is not padded.
 */
export function writeTable(io: CliIo, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  io.stdout.write([header, ...rows].map((r) => line(r) + '\n').join(''));
}
