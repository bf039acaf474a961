import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { heartbeat } from '@temporalio/activity';
import { buildDemoHost } from '../src/dev/demo-host';
import { ImageError } from '../src/model/errors';
import { UPDATE_LINKED_IMAGES, type UpdateLinkedImagesWorkflow } from '../src/contract/workflows';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup, tempDir } from './helpers/tree';
import { CuttingProxy } from './helpers/cutting-proxy';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

const MAIN = path.join(__dirname, '../src/client/watch-main.ts');

interface Cli {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  out: () => string;
  /** Resolves once the output matches. */
  until: (re: RegExp) => Promise<void>;
  exit: Promise<number | null>;
}

/** Runs `file <args>` against the test server (or `address`), collecting its output. */
function run(file: string, args: string[], address = env.server.address): Cli {
  const child = spawn(file, args, {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: env.server.namespace },
  });
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    out += d;
    for (const w of [...waiters])
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    out: () => out,
    until: (re) =>
      re.test(out)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ re, resolve });
            void exit.then(() => setTimeout(() => reject(new Error(`exited before ${re}:\n${out}`)), 100));
          }),
    exit,
  };
}

const watchCli = (args: string[], address?: string) =>
  run(process.execPath, ['--require', 'ts-node/register', MAIN, ...args], address);

async function startRun(parent: string, taskQueue: string, host: string, id: string) {
  return env.client.workflow.start<UpdateLinkedImagesWorkflow>(UPDATE_LINKED_IMAGES, {
    taskQueue,
    workflowId: id,
    args: [{ image: parent, host, concurrency: 2, recursive: true }],
  });
}

describe('npm run watch', () => {
  it(
    "follows a run started by someone else in line mode: a stalled child's attempt, last error and next retry, then the table and the run's exit code",
    { timeout: 180_000 },
    async () => {
      // zone/tools (zone-only, so each zone prepares its own files) gives zone:z1 a prepare to stall in.
      const host = await buildDemoHost(await tempDir('watch-lines'), 2, undefined, { bigFileBytes: 10_000 });
      let locked = true;
      const deps = {
        cacheDir: host.cacheDir,
        beforeStage: async (stage: string, name: string) => {
          if (stage === 'prepare' && name === 'zone:z1' && locked)
            throw new ImageError('LOCKED', 'image locked by pid 15913');
        },
      };
      await env.withWorker(deps, async (taskQueue, hostName) => {
        const id = `watch-lines-${Date.now()}`;
        await startRun(host.parent, taskQueue, hostName, id);
        const cli = watchCli([id, '--plain', '--interval-ms', '200']);
        await cli.until(
          /zone:z1 prepare: (retrying|waiting for a worker), attempt \d+\/20; .*image locked by pid 15913/,
        );
        locked = false;
        assert.equal(await cli.exit, 0, cli.out());
        const out = cli.out();
        assert.match(out, new RegExp(`Watching ${id} on `));
        assert.match(out, /LOCKED: image locked by pid 15913, retry \d+ of 20 in \d+ s/);
        assert.match(out, /^(Planning|Preparing): Linked images: /m);
        assert.match(
          out,
          /zone:z1 prepare: ended\n +zone:z1 prepare: Download: \d+\/\d+ files, /,
          'its stage output once it ended',
        );
        assert.match(out, /zone:z2 +updated +execute +6/, "the demo's 5 packages and zone/tools");
        assert.match(out, /Status: ok, exit code 0/);
        assert.doesNotMatch(out, /\x1b\[/, 'plain mode draws no escape codes');
      });
    },
  );

  it(
    "warns when no worker polls the host's queue, and Ctrl-C leaves the run going with how to follow or cancel it",
    // The warning comes once the stopped worker's last poll is POLLER_STALE_MS (90 s) old: a live worker's long poll lasts ~70 s.
    { timeout: 300_000 },
    async () => {
      const host = await buildDemoHost(await tempDir('watch-down'), 1);
      const down = `down-${process.pid}`;
      // A host whose worker ran and was stopped: its queue had a poller once.
      const stopped = await env.hostWorkers(
        { cacheDir: host.cacheDir },
        { host: down, taskQueue: `wf-down-${process.pid}` },
      );
      await stopped.runUntil(new Promise((r) => setTimeout(r, 1000)));
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue) => {
        const id = `watch-down-${Date.now()}`;
        const handle = await startRun(host.parent, taskQueue, down, id);
        const cli = watchCli([id, '--plain', '--interval-ms', '200']);
        await cli.until(new RegExp(`! no worker polls linked-images@${down}`));
        assert.match(cli.out(), /parent describe: waiting for a worker/);
        cli.child.kill('SIGINT');
        assert.equal(await cli.exit, 130, cli.out());
        assert.match(cli.out(), new RegExp(`Stopped watching; ${id} goes on\\.`));
        assert.match(
          cli.out(),
          new RegExp(`Follow it: +npm run update -- --follow ${id} +\\(or npm run watch -- ${id}`),
        );
        assert.match(cli.out(), new RegExp(`Cancel it: +npm run temporal -- workflow cancel -w ${id}`));
        assert.equal((await handle.describe()).status.name, 'RUNNING');
        await handle.terminate('test over');
      });
    },
  );

  it('draws progress bars in a terminal and ends with the table', { timeout: 180_000 }, async () => {
    const host = await buildDemoHost(await tempDir('watch-tty'), 2);
    const deps = {
      cacheDir: host.cacheDir,
      // No keep-alive heartbeat during the test's own one (it would clear its details).
      heartbeatMs: 60_000,
      beforeStage: async (stage: string) => {
        if (stage !== 'prepare') return;
        heartbeat({ stage: 'prepare', done: 50, total: 100, unit: 'bytes' });
        await new Promise((r) => setTimeout(r, 3000));
      },
    };
    await env.withWorker(deps, async (taskQueue, hostName) => {
      const id = `watch-tty-${Date.now()}`;
      await startRun(host.parent, taskQueue, hostName, id);
      // A terminal of a size, as a user's is (`script` with no terminal around it makes one of 0 rows).
      const cmd = `stty rows 40 cols 160; ${[process.execPath, '--require', 'ts-node/register', MAIN, id, '--interval-ms', '200'].join(' ')}`;
      const cli = run('/usr/bin/script', ['-qec', cmd, '/dev/null']);
      assert.equal(await cli.exit, 0, cli.out());
      const out = cli.out();
      assert.match(out, /\[█{12}░{12}\] +50% +50 B of 100 B/);
      assert.match(out, /zone:z2 +updated +execute +5/);
      assert.match(out, /Status: ok, exit code 0/);
    });
  });

  it('says so when the server drops, and goes on when it is back', { timeout: 240_000 }, async () => {
    const host = await buildDemoHost(await tempDir('watch-drop'), 1);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const deps = {
      cacheDir: host.cacheDir,
      beforeStage: async (stage: string) => {
        if (stage === 'prepare') await held;
      },
    };
    const serverPort = Number(env.server.address.split(':').pop());
    let proxy = await new CuttingProxy(serverPort).start();
    const port = proxy.port;
    try {
      await env.withWorker(deps, async (taskQueue, hostName) => {
        const id = `watch-drop-${Date.now()}`;
        await startRun(host.parent, taskQueue, hostName, id);
        const cli = watchCli([id, '--plain', '--interval-ms', '200'], `127.0.0.1:${port}`);
        await cli.until(/^Preparing: /m);
        // The server goes away (the proxy closes every connection and stops listening) ...
        await proxy.close();
        await cli.until(new RegExp(`Cannot read ${id}: .*; trying again in \\d+ s \\(the run goes on\\)`));
        // ... and comes back at the same address.
        proxy = await new CuttingProxy(serverPort).start(port);
        await cli.until(new RegExp(`Reconnected; following ${id} again\\.`));
        release();
        assert.equal(await cli.exit, 0, cli.out());
        assert.match(cli.out(), /Status: ok, exit code 0/);
      });
    } finally {
      release();
      await proxy.close().catch(() => undefined);
    }
  });

  it('names a workflow that does not exist and exits 1; a bad flag exits 2', { timeout: 60_000 }, async () => {
    const none = watchCli(['no-such-run', '--plain']);
    assert.equal(await none.exit, 1, none.out());
    assert.match(none.out(), /No workflow no-such-run/);
    const bad = watchCli(['x', '--interval-ms', 'soon']);
    assert.equal(await bad.exit, 2, bad.out());
    assert.match(bad.out(), /option '--interval-ms <ms>' argument 'soon' is invalid/);
  });
});
