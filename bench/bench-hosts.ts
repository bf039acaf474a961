import * as path from 'path';
import { buildDemoHost, type DemoHost, type DemoHostOptions } from '../src/dev/demo-host';

/** A host built for one measured update, with the directory that holds it. */
export interface BenchHost extends DemoHost {
  /** `<root>/<nn>-<label>`: repository, parent, zones and cache, and room for the bench's own files. */
  dir: string;
  zones: number;
}

/**
 * The fresh hosts of one bench run, one per measured update, all under `root`. They are kept
 * until the end of the run (the bench removes `root` then): deleting many files makes creating files several times slower
 * on this VM's ext4 for minutes (bench/machine.ts probeFileCreation), which would slow every
 * host and update after it.
 */
export class BenchHosts {
  /** Directories of the hosts built so far, in order; the next one is numbered after them. */
  private readonly dirs: string[] = [];

  constructor(
    readonly root: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /**
   * A demo host of `zones` zones (src/dev/demo-host.ts buildDemoHost, zone:z1 installed and the
   * others cloned from it, which the image model cannot tell apart) with 1.0 installed and 1.1
   * published. `label` names its directory and its log line.
   */
  async build(label: string, zones: number, opts: Omit<DemoHostOptions, 'zones'> = {}): Promise<BenchHost> {
    const dir = path.join(
      this.root,
      `${String(this.dirs.length + 1).padStart(2, '0')}-${label.replace(/[^\w.-]+/g, '-')}`,
    );
    this.dirs.push(dir);
    const t0 = performance.now();
    const host = await buildDemoHost(dir, zones, undefined, { ...opts, zones: 'clone' });
    this.log(`  host ${path.basename(dir)}: ${zones} zones built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { ...host, dir, zones };
  }

  get count(): number {
    return this.dirs.length;
  }
}
