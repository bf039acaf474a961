import { GeneratedRepo } from './generate-repo';
import { MachineInfo } from './machine';
import { COPY_CONCURRENCY } from './measure';
import { BASELINE_RUNS } from './phases';
import { Stage } from './rounds';
import { count, formatTable, megabytes, ratio, Row, seconds, throughput } from './table';

export const TARGETS = { planMs: 1000, prepareRatio: 2, executeRatio: 3 };

export interface ReportInput {
  machine: MachineInfo;
  repo: GeneratedRepo;
  /** null when the repository came from the cache. */
  generationMs: number | null;
  install: Stage;
  update: Stage;
  peakRss: number;
  depotPeakRss: number | null;
  sharedOrigins: boolean;
  /** Rounds run (fresh image and cache each); every measurement shows its fastest round. */
  rounds: number;
}

export function buildReport(r: ReportInput): { text: string; json: unknown } {
  const n = r.repo.shape.packages;
  const rows: Row[] = [];
  const verdict = (ok: boolean): Row['result'] => (ok ? 'PASS' : 'MISS');

  for (const [label, s] of [
    [`(a) install ${n}`, r.install],
    [`(b) update ${n}`, r.update],
  ] as const) {
    for (const [temp, ms] of [
      ['cold', s.plan.coldMs],
      ['warm', s.plan.warmMs],
    ] as const) {
      rows.push({
        phase: `plan ${label}, ${temp}`,
        measured: seconds(ms),
        baseline: '—',
        ratio: '—',
        target: `≤ ${seconds(TARGETS.planMs)}`,
        result: verdict(ms <= TARGETS.planMs),
      });
    }
  }
  for (const [label, s] of [
    ['(a) install', r.install],
    ['(b) update', r.update],
  ] as const) {
    const p = s.prepare;
    const q = p.ms / p.copyMs;
    rows.push({
      phase: `prepare ${label}`,
      measured: `${seconds(p.ms)}: ${throughput(p.bytes, p.files, p.ms)}`,
      baseline: `copyFile ${seconds(p.copyMs)}: ${throughput(p.bytes, p.files, p.copyMs)}`,
      ratio: ratio(q),
      target: `≤ ${ratio(TARGETS.prepareRatio)}`,
      result: verdict(q <= TARGETS.prepareRatio),
    });
  }
  for (const [label, s] of [
    ['(a) install', r.install],
    ['(b) update', r.update],
  ] as const) {
    const e = s.execute;
    const q = e.cpMs === null ? null : e.ms / e.cpMs;
    rows.push({
      phase: `execute ${label}`,
      measured: `${seconds(e.ms)}: ${throughput(e.bytes, e.files, e.ms)}`,
      baseline: e.cpMs === null ? '—' : `cp -a ${seconds(e.cpMs)}: ${throughput(e.bytes, e.files, e.cpMs)}`,
      ratio: q === null ? '—' : ratio(q),
      target: q === null ? '—' : `≤ ${ratio(TARGETS.executeRatio)}`,
      result: q === null ? '' : verdict(q <= TARGETS.executeRatio),
    });
  }
  rows.push({
    phase: 'peak RSS, bench process',
    measured: megabytes(r.peakRss),
    baseline: '—',
    ratio: '—',
    target: '—',
    result: '',
  });
  rows.push({
    phase: 'peak RSS, depot process',
    measured: r.depotPeakRss === null ? 'n/a' : megabytes(r.depotPeakRss),
    baseline: '—',
    ratio: '—',
    target: '—',
    result: '',
  });

  const m = r.machine;
  const sh = r.repo.shape;
  const ip = r.install.plan.plan.sizes;
  const up = r.update.plan.plan.sizes;
  const lines = [
    `machine: ${m.cores} cores (${m.cpu}), ${megabytes(m.memoryBytes)} RAM, node ${m.node}, ${m.os}, temp dir on ${m.tmpFs}; load average ${m.loadStart.toFixed(2)} at start, ${m.loadEnd.toFixed(2)} at end; creating a file took ${m.createMicros.toFixed(0)} µs at start`,
    `data: ${count(n)} packages × ${sh.actionsPerPackage} actions (${sh.layout.dirs} dirs, ${sh.layout.files} files, ${sh.layout.links} symlinks) = ${count(n * sh.actionsPerPackage)} actions per version`,
    `      v1: ${count(sh.v1.files)} files, ${megabytes(sh.v1.bytes)} (${megabytes(ip.downloadBytes)} gzip); v2: ${count(sh.v2.files)} files, ${megabytes(sh.v2.bytes)}`,
    `      update plan: ${count(up.add)} add, ${count(up.update)} update, ${count(up.remove)} remove; ${count(up.files)} files to write, ${megabytes(up.downloadBytes)} to download`,
    `      repository: ${count(sh.storedFiles)} stored content files, ${megabytes(sh.storedBytes)}; ` +
      (r.generationMs === null
        ? `reused from .bench-cache (generated in ${seconds(sh.generationMs)})`
        : `generated in ${seconds(r.generationMs)} (not part of the targets)`),
    '',
    formatTable(rows),
    '',
    'notes:',
    '  plan cold = catalog and manifests fetched from the depot, none parsed before; warm = the same request again: manifests from the content cache,',
    '    already parsed (a worker keeps parsed manifests by digest, so prepare and execute below reuse what their plan parsed).',
    r.sharedOrigins
      ? '  origins: one OriginPool (keep-alive sockets) shared by every phase (--shared-origins).'
      : '  origins: each phase opens its own OriginPool (fresh connections), as separate activities would; --shared-origins shares one.',
    `  prepare = prepare() over HTTP from a depot in its own process (download, gunzip, SHA-256 verify, admit to the cache),`,
    `    as a worker runs it after its plan (the action diff remembered); after a worker restart it first reads and parses the`,
    `    manifests again and re-derives the diff (install ${seconds(r.install.prepare.planActionsMs)}, update ${seconds(r.update.prepare.planActionsMs)}, timed alone);`,
    `    baseline = fs.copyFile of the same compressed files out of the repository, ${COPY_CONCURRENCY} in flight; MB/s counts compressed bytes. Page cache warm for both.`,
    `  baselines: fastest of ${BASELINE_RUNS} runs per round; measured phases: ${r.rounds === 1 ? 'one run (--rounds R: fastest of R rounds, each on a fresh image and cache)' : `fastest of ${r.rounds} rounds, each on a fresh image and cache`}; other load skews every number.`,
    `  execute = execute() incl. journal and its final syncfs; baseline = cp -a of the image root's top-level entries except var/ (no sync;`,
    `    cp -a followed by sync -f took ${r.install.execute.cpSyncMs === null ? '—' : seconds(r.install.execute.cpSyncMs)}). MB/s and files/s count file actions (pkg.size); install ran ${count(r.install.execute.steps)} journal steps, update ${count(r.update.execute.steps)}.`,
    `  peak RSS after each phase (bench process): plan ${megabytes(r.install.plan.peakRss)}, prepare ${megabytes(r.install.prepare.peakRss)}, execute ${megabytes(r.install.execute.peakRss)};` +
      ` after the update: ${megabytes(r.update.execute.peakRss)}. Depot: VmHWM from /proc.`,
  ];
  for (const [label, s] of [
    ['install', r.install],
    ['update', r.update],
  ] as const) {
    const ops = s.execute.fsOps;
    if (!ops) continue;
    const total = Object.values(ops).reduce((a, o) => a + o.ms, 0);
    lines.push(`  --profile, execute ${label}: ${seconds(total)} of ${seconds(s.execute.ms)} in FsLayer calls:`);
    for (const [op, o] of Object.entries(ops))
      lines.push(
        `    ${op.padEnd(13)} ${count(o.calls).padStart(8)} calls ${seconds(o.ms).padStart(10)}  ${((o.ms * 1000) / o.calls).toFixed(0).padStart(6)} µs/call`,
      );
  }

  const json = {
    machine: m,
    shape: { ...sh, installDownloadBytes: ip.downloadBytes, update: up },
    generationMs: r.generationMs,
    repositoryCached: r.generationMs === null,
    targets: TARGETS,
    install: strip(r.install),
    update: strip(r.update),
    peakRss: r.peakRss,
    depotPeakRss: r.depotPeakRss,
    sharedOrigins: r.sharedOrigins,
    rows,
  };
  return { text: lines.join('\n'), json };
}

function strip(s: Stage) {
  const { plan, ...planRest } = s.plan;
  return { plan: { ...planRest, sizes: plan.sizes }, prepare: s.prepare, execute: s.execute };
}
