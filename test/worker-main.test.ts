import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../src/dev/dev-server';
import { formatLogLine } from '../src/worker/log-format';
import { MAX_TABLE_ROWS, resultTable } from '../src/client/progress-printer';
import type { UpdateResult } from '../src/contract/run-types';
import { withDefaultAddress } from '../src/dev/temporal-main';
import { parseWorkerArgs } from '../src/worker/worker-args';

const projectDir = path.join(__dirname, '..');
let server: DevServer;
let tmp: string;

before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'li-'));
  server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES });
});
after(async () => {
  await server?.stop();
  await fsp.rm(tmp, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(cmd, args, {
    cwd: projectDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function waitFor(r: Run, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!r.out().includes(text)) {
    if (Date.now() > deadline || r.child.exitCode !== null)
      assert.fail(`Expected "${text}" in the worker's output; got:\n${r.out()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('npm run worker', () => {
  it('exits 2 and names the flag when given an unknown one', async () => {
    const r = run('npm', ['run', '--silent', 'worker', '--', '--bogus']);
    assert.equal(await r.exited, 2);
    assert.match(r.out(), /unknown option '--bogus'/);
  });

  it('polls the task queue from TEMPORAL_ADDRESS and stops cleanly on SIGTERM', async () => {
    const r = run(
      process.execPath,
      [
        '--require',
        'ts-node/register',
        'src/worker/main.ts',
        '--task-queue',
        `wm-${process.pid}`,
        '--host',
        'h1',
        '--cache',
        path.join(tmp, 'cache'),
      ],
      {
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: server.namespace,
        TEMPORAL_CONFIG_FILE: path.join(tmp, 'absent.toml'),
      },
    );
    try {
      await waitFor(r, 'polling', 25_000);
      assert.match(
        r.out(),
        new RegExp(
          `of host 'h1' polling task queues 'wm-${process.pid}' \\(workflows\\) and 'linked-images@h1' \\(this host's activities\\) on ${server.address} namespace ${server.namespace}; content cache `,
        ),
      );
      assert.doesNotMatch(
        r.out(),
        /No workflows registered/,
        'the activity worker has no workflows by design: no warning about it',
      );
      r.child.kill('SIGTERM');
      assert.equal(await r.exited, 0);
      const lines = r.out().trimEnd().split('\n');
      assert.match(lines[lines.length - 1], /^\S+Z INFO  worker stopped$/);
    } finally {
      if (r.child.exitCode === null) r.child.kill('SIGKILL');
    }
  });
});

describe('log lines', () => {
  it('put a whole entry on one line, with nested metadata flattened and strings quoted', () => {
    const line = formatLogLine(
      'WARN',
      'activity failed\nsee below',
      { activity: { id: 'plan/zone:z1', attempt: 2 }, error: new Error('disk full\n  at x') },
      new Date(Date.UTC(2026, 10, 25, 12)),
    );
    assert.equal(
      line,
      '2026-11-25T12:00:00.000Z WARN  activity failed | see below activity.id=plan/zone:z1 activity.attempt=2 error="Error: disk full\\n  at x"',
    );
  });
});

describe('command lines', () => {
  it('take worker settings from flags first, then LINKED_IMAGES_* variables', () => {
    const env = { LINKED_IMAGES_TASK_QUEUE: 'from-env', LINKED_IMAGES_RECORD: 'rec.jsonl' };
    assert.equal(parseWorkerArgs([], env).taskQueue, 'from-env');
    assert.equal(parseWorkerArgs(['--task-queue', 'from-flag'], env).taskQueue, 'from-flag');
    assert.equal(parseWorkerArgs([], env).recordFile, path.resolve('rec.jsonl'));
    assert.equal(parseWorkerArgs(['--grace', '2m']).graceMs, 120_000);
    assert.throws(
      () => parseWorkerArgs(['--max-activities', '0']),
      /option '--max-activities <n>' argument '0' is invalid\. Expected an integer >= 1/,
    );
    assert.throws(
      () => parseWorkerArgs(['--max-activities', 'many']),
      /option '--max-activities <n>' argument 'many' is invalid/,
    );
    assert.throws(
      () => parseWorkerArgs(['--grace', 'soon']),
      /option '--grace <duration>' argument 'soon' is invalid\. Expected a duration like 30s/,
    );
    assert.throws(() => parseWorkerArgs(['--cache']), /option '--cache <dir>' argument missing/);
    assert.throws(() => parseWorkerArgs(['surplus']), /too many arguments/);
    assert.throws(
      () => parseWorkerArgs([], { LINKED_IMAGES_HOST: ' ' }),
      /Expected --host \(or LINKED_IMAGES_HOST\) to be non-empty/,
    );
    assert.equal(parseWorkerArgs(['-h']).help, true);
    assert.equal(parseWorkerArgs(['--host', 'h7']).hostTaskQueue, 'linked-images@h7');
    assert.equal(parseWorkerArgs([], { LINKED_IMAGES_HOST: 'h8' }).host, 'h8');
    assert.equal(parseWorkerArgs(['--host-task-queue', 'q9']).hostTaskQueue, 'q9');
    assert.equal(parseWorkerArgs([]).host, os.hostname());
    assert.throws(() => parseWorkerArgs(['--host', 'a b']), /Expected --host to be a host name/);
    assert.throws(() => parseWorkerArgs(['--host-task-queue', 'linked-images']), /to differ from --task-queue/);
  });

  it('point temporal CLI commands at the demo server only when no address is configured', () => {
    const none = { TEMPORAL_CONFIG_FILE: path.join(tmp, 'absent.toml') };
    assert.deepEqual(withDefaultAddress(['workflow', 'list'], none), [
      'workflow',
      'list',
      '--address',
      '127.0.0.1:7233',
    ]);
    assert.deepEqual(withDefaultAddress(['workflow', 'list', '--address', 'h:1'], none), [
      'workflow',
      'list',
      '--address',
      'h:1',
    ]);
    assert.deepEqual(withDefaultAddress(['workflow', 'list'], { ...none, TEMPORAL_ADDRESS: 'h:2' }), [
      'workflow',
      'list',
    ]);
    assert.deepEqual(withDefaultAddress(['server', 'start-dev'], none), ['server', 'start-dev']);
  });

  it("print a run's result as a table of at most MAX_TABLE_ROWS children, then the counts and the failures", () => {
    const n = MAX_TABLE_ROWS + 3;
    const r: UpdateResult = {
      resultVersion: 2,
      image: '/h',
      host: 'h',
      status: 'partial',
      exitCode: 3,
      dryRun: false,
      concurrency: 2,
      parent: { name: 'parent', outcome: 'updated', lastStage: 'execute', changes: 5, planDigest: null, error: null },
      counts: { updated: n - 1, 'nothing-to-do': 0, planned: 0, failed: 1, cancelled: 0, skipped: 0, deferred: 0 },
      failures: [{ name: 'zone:z2', stage: 'execute', code: 'IO_ERROR', message: 'disk full' }],
      failuresOmitted: 0,
      children: Array.from({ length: n }, (_, i) =>
        i === 1 ? 'zone:z2 failed execute 5' : `zone:z${i + 1} updated execute 5`,
      ),
      childrenOmitted: 7,
      executions: 3,
      partitions: 0,
    };
    const lines = resultTable(r);
    assert.match(lines[0], /^NAME +OUTCOME +LAST STAGE +CHANGES$/);
    assert.match(lines[1], /^parent +updated +execute +5$/);
    assert.match(lines[3], /^zone:z2 +failed +execute +5$/);
    assert.equal(lines.filter((l) => /^zone:z\d+ +(updated|failed) /.test(l)).length, MAX_TABLE_ROWS);
    assert.ok(lines.includes('... and 10 more children'), lines.join('\n'));
    assert.ok(lines.includes(`Children: ${n - 1} updated, 1 failed; 3 workflow executions`), lines.join('\n'));
    assert.ok(lines.includes('zone:z2: execute failed: IO_ERROR: disk full'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.startsWith('The host stopped answering')));
    // A host lost mid-execute: what it was executing is not known to the run, and the table says so.
    const lost = resultTable({
      ...r,
      failures: [{ name: 'zone:z2', stage: 'execute', code: 'HOST_UNAVAILABLE', message: 'no worker' }],
    });
    assert.match(lost[lost.length - 1], /^The host stopped answering during execute: .*audit-linked -R \/h`/);
  });
});
