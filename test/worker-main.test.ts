import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../worker/dev-server';
import { formatLogLine } from '../worker/log-format';
import { describeChanges } from '../worker/progress-printer';
import { withDefaultAddress } from '../worker/temporal-main';
import { parseWorkerArgs } from '../worker/worker-args';

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
  const child = spawn(cmd, args, { cwd: projectDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

async function waitFor(r: Run, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!r.out().includes(text)) {
    if (Date.now() > deadline || r.child.exitCode !== null) assert.fail(`Expected "${text}" in the worker's output; got:\n${r.out()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('npm run worker', () => {
  it('exits 2 and names the flag when given an unknown one', async () => {
    const r = run('npm', ['run', '--silent', 'worker', '--', '--bogus']);
    assert.equal(await r.exited, 2);
    assert.match(r.out(), /Unknown option '--bogus'/);
  });

  it('polls the task queue from TEMPORAL_ADDRESS and stops cleanly on SIGTERM', async () => {
    const r = run(process.execPath, ['--require', 'ts-node/register', 'worker/main.ts', '--task-queue', `wm-${process.pid}`, '--cache', path.join(tmp, 'cache')], {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_CONFIG_FILE: path.join(tmp, 'absent.toml'),
    });
    try {
      await waitFor(r, 'polling', 25_000);
      assert.match(r.out(), new RegExp(`polling task queue 'wm-${process.pid}' on ${server.address} namespace ${server.namespace}; content cache `));
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
    const line = formatLogLine('WARN', 'activity failed\nsee below', { activity: { id: 'plan/zone:z1', attempt: 2 }, error: new Error('disk full\n  at x') }, new Date(Date.UTC(2026, 10, 25, 12)));
    assert.equal(line, '2026-11-25T12:00:00.000Z WARN  activity failed | see below activity.id=plan/zone:z1 activity.attempt=2 error="Error: disk full\\n  at x"');
  });
});

describe('command lines', () => {
  it('take worker settings from flags first, then LINKED_IMAGES_* variables', () => {
    const env = { LINKED_IMAGES_TASK_QUEUE: 'from-env', LINKED_IMAGES_RECORD: 'rec.jsonl' };
    assert.equal(parseWorkerArgs([], env).taskQueue, 'from-env');
    assert.equal(parseWorkerArgs(['--task-queue', 'from-flag'], env).taskQueue, 'from-flag');
    assert.equal(parseWorkerArgs([], env).recordFile, path.resolve('rec.jsonl'));
    assert.equal(parseWorkerArgs(['--grace', '2m']).graceMs, 120_000);
    assert.throws(() => parseWorkerArgs(['--max-activities', '0']), /--max-activities/);
  });

  it('point temporal CLI commands at the demo server only when no address is configured', () => {
    const none = { TEMPORAL_CONFIG_FILE: path.join(tmp, 'absent.toml') };
    assert.deepEqual(withDefaultAddress(['workflow', 'list'], none), ['workflow', 'list', '--address', '127.0.0.1:7233']);
    assert.deepEqual(withDefaultAddress(['workflow', 'list', '--address', 'h:1'], none), ['workflow', 'list', '--address', 'h:1']);
    assert.deepEqual(withDefaultAddress(['workflow', 'list'], { ...none, TEMPORAL_ADDRESS: 'h:2' }), ['workflow', 'list']);
    assert.deepEqual(withDefaultAddress(['server', 'start-dev'], none), ['server', 'start-dev']);
  });

  it('summarise a plan\'s changes by version pair', () => {
    const c = (from: string | null, to: string | null) => ({ stem: 'x', from, to });
    assert.equal(describeChanges([c('pkg://d/a@1.0:20261125T120000Z', 'pkg://d/a@1.1:20261125T120000Z'), c('pkg://d/b@1.0', 'pkg://d/b@1.1'), c(null, 'pkg://d/c@2.0')]), '2 packages 1.0 -> 1.1, 1 package new -> 2.0');
    assert.equal(describeChanges([]), '-');
  });
});
