export interface Row {
  phase: string;
  measured: string;
  baseline: string;
  ratio: string;
  target: string;
  /** '' for rows that inform but have no target. */
  result: 'PASS' | 'MISS' | '';
}

const HEADERS: Row = {
  phase: 'phase',
  measured: 'measured',
  baseline: 'baseline',
  ratio: 'ratio',
  target: 'target',
  result: 'PASS/MISS' as Row['result'],
};
const COLUMNS = Object.keys(HEADERS) as (keyof Row)[];

/** A plain-text table, columns padded to their widest cell. */
export function formatTable(rows: Row[]): string {
  const all = [HEADERS, ...rows];
  const width = (c: keyof Row) => Math.max(...all.map((r) => r[c].length));
  const line = (r: Row) =>
    COLUMNS.map((c) => r[c].padEnd(width(c)))
      .join(' | ')
      .trimEnd();
  const rule = COLUMNS.map((c) => '-'.repeat(width(c))).join('-+-');
  return [line(HEADERS), rule, ...rows.map(line)].join('\n');
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "12.3 MB/s, 4,567 files/s" for `bytes` and `files` moved in `ms`. */
export function throughput(bytes: number, files: number, ms: number): string {
  const s = ms / 1000;
  return `${(bytes / 1e6 / s).toFixed(1)} MB/s, ${count(Math.round(files / s))} files/s`;
}

export function ratio(r: number): string {
  return `${r.toFixed(2)}×`;
}
