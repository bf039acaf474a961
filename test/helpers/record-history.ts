/**
 * Records the workflow histories that test/workflow-replay.test.ts replays (test/histories/*.json).
 *
 * Regenerate (only after a deliberate, incompatible change to the workflow, which running
 * workflows would not survive either — prefer `patched()`; see README):
 *
 *   node --require ts-node/register test/helpers/record-history.ts [--force]
 *
 * Only histories not yet on disk are recorded, unless --force: old histories are kept on purpose.
 *
 * It starts its own dev server (the temporal CLI is found or installed like in the tests), runs
 * each scenario below on a fresh demo host in a temp dir, and saves `temporal workflow show
 * --output json` of the run, the same format an operator would attach to a bug report.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { UpdateResult } from '../../workflows/types';
import { cliRunner, parseJson } from './cli-runner';
import { startTemporalEnv } from './temporal-env';
import { cleanup } from './tree';
import { emptyOriginFor, Host, makeHost, setZonePublishers } from './workflow-fixture';

export const HISTORY_DIR = path.join(__dirname, '..', 'histories');

interface Scenario {
  file: string;
  /** @default 'updateLinkedImages' */
  workflow?: 'updateLinkedImages' | 'auditLinkedImages';
  zones: number;
  input: Record<string, unknown>;
  /** Breaks the host before the run. */
  prepare?: (host: Host) => Promise<void>;
  /** The result status the scenario must end with, or the recording is refused. */
  expect: UpdateResult['status'] | 'synced';
}

export const SCENARIOS: Scenario[] = [
  { file: 'update-3-children.json', zones: 3, input: { concurrency: 2 }, expect: 'ok' },
  { file: 'dry-run-3-children.json', zones: 3, input: { concurrency: 0, dryRun: true }, expect: 'ok' },
  {
    file: 'publisher-mismatch.json',
    zones: 3,
    input: { concurrency: 1 },
    prepare: (h) => setZonePublishers(h.children[1].path, (pubs) => [{ name: 'other', origins: ['file:///nonexistent'], sticky: true, enabled: true }, ...pubs]),
    expect: 'failed',
  },
  { file: 'plan-failure.json', zones: 3, input: { concurrency: 0 }, prepare: async (h) => void (await emptyOriginFor(h.children[1].path)), expect: 'failed' },
  // Recorded after the 'search-attributes' patch: the shape runs started by today's code have.
  // The four above predate it and must keep replaying (patched() is false in them).
  { file: 'update-3-children-search-attributes.json', zones: 3, input: { concurrency: 2 }, expect: 'ok' },
  { file: 'audit-3-children.json', workflow: 'auditLinkedImages', zones: 3, input: {}, expect: 'synced' },
];

/** Histories are kept once recorded: a history from older code is exactly what replay must still accept. */
async function exists(file: string): Promise<boolean> {
  return fs.stat(path.join(HISTORY_DIR, file)).then(() => true, () => false);
}

async function main(): Promise<void> {
  const env = await startTemporalEnv();
  const cli = cliRunner(env.server);
  try {
    await fs.mkdir(HISTORY_DIR, { recursive: true });
    const force = process.argv.includes('--force');
    for (const s of SCENARIOS) {
      if (!force && (await exists(s.file))) continue;
      const host = await makeHost(s.zones);
      await s.prepare?.(host);
      const workflowId = `record-${path.basename(s.file, '.json')}`;
      const result = await env.withWorker({ cacheDir: host.cacheDir, recordFile: host.recordFile }, (taskQueue) =>
        env.client.workflow.execute<(i: unknown) => Promise<{ status: string }>>(s.workflow ?? 'updateLinkedImages', { taskQueue, workflowId, args: [{ image: host.parent, ...s.input }] }),
      );
      if (result.status !== s.expect) throw new Error(`${s.file}: expected status '${s.expect}', got '${result.status}': ${JSON.stringify(result)}`);
      const shown = await cli(['workflow', 'show', '--workflow-id', workflowId, '--output', 'json']);
      const history = parseJson<{ events: unknown[] }>(shown, 'workflow show');
      await fs.writeFile(path.join(HISTORY_DIR, s.file), JSON.stringify(history, null, 2) + '\n');
      console.log(`${s.file}: ${history.events.length} events, status ${result.status}`);
    }
  } finally {
    await env.close();
    await cleanup();
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
