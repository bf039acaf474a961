import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface MachineInfo {
  cores: number;
  cpu: string;
  memoryBytes: number;
  node: string;
  os: string;
  /** File system of the temp dir holding image, cache and baselines (execute's syncfs cost depends on it). */
  tmpFs: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews every number. */
  loadStart: number;
  loadEnd: number;
  /** Microseconds to create one empty file, measured at the start (see probeFileCreation). */
  createMicros: number;
}

/**
 * Creates 2,000 empty files, one after another, and returns µs per file. On ext4 without a
 * journal, creation is several times slower for minutes after many files were deleted (the
 * allocator skips recently freed inodes), e.g. right after `npm test` or an earlier bench run;
 * every phase and baseline is then slower, execute most.
 */
export async function probeFileCreation(dir: string): Promise<number> {
  const probe = path.join(dir, 'create-probe');
  await fs.mkdir(probe);
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) await (await fs.open(path.join(probe, String(i)), 'wx')).close();
  return ((performance.now() - t0) * 1000) / 2000;
}

/** statfs magic numbers of the file systems a benchmark is likely to run on. */
const FS_NAMES: Record<number, string> = {
  0xef53: 'ext4',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
  0x6969: 'nfs',
  0x1a: 'apfs',
};

export async function machineInfo(tmpDir: string, loadStart: number, createMicros: number): Promise<MachineInfo> {
  let tmpFs = 'unknown';
  try {
    const type = (await fs.statfs(tmpDir)).type;
    tmpFs = FS_NAMES[type] ?? `0x${type.toString(16)}`;
  } catch {
    // statfs is missing on some platforms; the name is only informative.
  }
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    tmpFs,
    loadStart,
    loadEnd: os.loadavg()[0],
    createMicros,
  };
}
