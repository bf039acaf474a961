import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'child_process';
import * as path from 'path';
import { buildDemoHost } from '../src/dev/demo-host';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup, tempDir } from './helpers/tree';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

/** Runs `npm run update -- ...` (the script's own file, as npm would) against the test server. */
function updateCli(
  args: string[],
  onOutput?: (out: string) => void,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--require', 'ts-node/register', path.join(__dirname, '../src/client/update-main.ts'), ...args],
      {
        cwd: path.join(__dirname, '..'),
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: env.server.address,
          TEMPORAL_NAMESPACE: env.server.namespace,
          ...extraEnv,
        },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      onOutput?.(out);
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run update', () => {
  it('starts a run with a static summary and search attributes, follows it, and refuses its ID a second time', async () => {
    const dir = await tempDir('upd');
    const host = await buildDemoHost(dir, 2);
    await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
      const id = `ops-${Date.now()}`;
      const r = await updateCli([
        host.parent,
        '-r',
        '-C',
        '2',
        '--id',
        id,
        '--task-queue',
        taskQueue,
        '--host',
        hostName,
      ]);
      assert.equal(r.code, 0, r.out);
      assert.match(
        r.out,
        new RegExp(
          `Started ${id} \\(update ${host.parent}: all children updated \\(-r\\), -C 2\\) on [^,]+, host '${hostName}'`,
        ),
      );
      assert.match(r.out, /zone:z2 +updated +execute +5/);
      assert.match(r.out, /Children: 2 updated; 1 workflow execution/);
      assert.match(r.out, /Status: ok, exit code 0/);
      const desc = await env.client.workflow.getHandle(id).describe();
      assert.equal(await desc.staticSummary(), `update ${host.parent}: all children updated (-r), -C 2`);
      const again = await updateCli([host.parent, '--id', id, '--task-queue', taskQueue, '--host', hostName]);
      assert.equal(again.code, 1);
      assert.match(again.out, /was already used; a run is never started twice/);
      // Without -r the zones are only synced: after the full update there is nothing to do (pkg's exit 4);
      // without -C, PKG_CONCURRENCY gives the concurrency, as pkg(5) reads it.
      const nothing = await updateCli([host.parent, '--task-queue', taskQueue, '--host', hostName], undefined, {
        PKG_CONCURRENCY: '5',
      });
      assert.equal(nothing.code, 4, nothing.out);
      assert.match(nothing.out, /: all children synced, -C 5\)/);
      const bad = await updateCli([host.parent, '--task-queue', taskQueue, '--host', hostName], undefined, {
        PKG_CONCURRENCY: 'abc',
      });
      assert.equal(bad.code, 2, bad.out);
      assert.match(bad.out, /PKG_CONCURRENCY: expected an integer \(0 or less: no limit\), got "abc"/);
      // --follow starts nothing: it follows a run already there (this one has ended) to its table and code.
      const followed = await updateCli(['--follow', id]);
      assert.equal(followed.code, 0, followed.out);
      assert.match(followed.out, /zone:z2 +updated +execute +5/);
      assert.match(followed.out, /Status: ok, exit code 0/);
    });
  });

  it(
    'exits 1 with the failure type and message when the run fails (an unknown child)',
    { timeout: 60_000 },
    async () => {
      const host = await buildDemoHost(await tempDir('upd-fail'), 1);
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
        const r = await updateCli([
          host.parent,
          '-r',
          '--child',
          'zone:nope',
          '--task-queue',
          taskQueue,
          '--host',
          hostName,
          '--id',
          `fail-${Date.now()}`,
        ]);
        assert.equal(r.code, 1, r.out);
        assert.match(
          r.out,
          /failed: InvalidInput: Invalid input: children: unknown child 'zone:nope'; attached children: zone:z1/,
        );
      });
    },
  );

  it('exits 1 and says so when the run is terminated while it follows it', { timeout: 60_000 }, async () => {
    const host = await buildDemoHost(await tempDir('upd-term'), 2);
    const slow = { cacheDir: host.cacheDir, beforeStage: () => new Promise<void>((r) => setTimeout(r, 1500)) };
    await env.withWorker(slow, async (taskQueue, hostName) => {
      const id = `term-${Date.now()}`;
      let terminated = false;
      const r = await updateCli([host.parent, '--task-queue', taskQueue, '--host', hostName, '--id', id], (out) => {
        if (!terminated && out.includes('Started')) {
          terminated = true;
          void env.client.workflow.getHandle(id).terminate('operator: wrong maintenance window');
        }
      });
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, new RegExp(`Workflow ${id} was terminated: operator: wrong maintenance window`));
    });
  });

  it('names a bad flag value, an unknown option, a missing value or argument, and exits 2', async () => {
    const bad: [string[], RegExp][] = [
      [['/x', '-C', '1.5'], /option '-C, --concurrency <N>' argument '1\.5' is invalid\. Expected an integer\./],
      [['/x', '--colour'], /unknown option '--colour'/],
      [['/x', '--id'], /option '--id <workflow ID>' argument missing/],
      [[], /missing required argument 'parent image'/],
      [['/x', '/y'], /too many arguments\. Expected 1 argument but got 2/],
      [['/x', '--follow', 'some-run'], /--follow starts nothing: expected no parent image, got '\/x'/],
      // Checked against the workflow's own input schema before a run is started (no failed run left behind).
      [
        ['/x', '--host-timeout', 'forever'],
        /hostTimeout: expected a duration like '90s', '10m' or '1h', got "forever"/,
      ],
      [['/x', '--host-timeout', '0s'], /hostTimeout: expected a duration above 0/],
      [['/x', '--child', 'z1'], /children\.0: expected a child name like 'zone:z1', got "z1"/],
      // pkg(5): -z and -Z need -r, and may not be combined (client/options.py).
      [
        ['/x', '-z', 'zone:z1'],
        /option '-z, --child': children: recursing into only some children \(pkg -z\) needs recursive: true \(pkg -r\)/,
      ],
      [
        ['/x', '-r', '-z', 'zone:z1', '-Z', 'zone:z2'],
        /option '-Z, --exclude': exclude: cannot be combined with children/,
      ],
    ];
    for (const [args, message] of bad) {
      const r = await updateCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.out, message);
    }
  });
});
