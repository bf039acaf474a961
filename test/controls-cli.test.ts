import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { WorkflowNotFoundError } from '@temporalio/common';
import { buildDemoHost } from '../src/dev/demo-host';
import { controlsQuery, type ControlState } from '../src/contract/controls';
import { UPDATE_LINKED_IMAGES, type UpdateLinkedImagesWorkflow } from '../src/contract/workflows';
import type { UpdateRequest } from '../src/contract/input';
import { cliRunner } from './helpers/cli-runner';
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

const SRC = path.join(__dirname, '../src/client');

interface Cli {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  out: () => string;
  /** Resolves once the output matches. */
  until: (re: RegExp) => Promise<void>;
  exit: Promise<number | null>;
}

/** Runs `file <args>` against the test server, collecting its output. */
/** The command lines a test started and that have not exited: killed after each test, so a failed assert leaves no follower waiting forever. */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
});

function run(file: string, args: string[]): Cli {
  const child = spawn(file, args, {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, TEMPORAL_ADDRESS: env.server.address, TEMPORAL_NAMESPACE: env.server.namespace },
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
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

const tsNode = (main: string, args: string[]) =>
  run(process.execPath, ['--require', 'ts-node/register', path.join(SRC, main), ...args]);
const updateCli = (args: string[]) => tsNode('update-main.ts', args);
const watchCli = (args: string[]) => tsNode('watch-main.ts', args);

/** `npm run control -- <args>` to its end: exit code and output. */
async function control(args: string[]): Promise<{ code: number | null; out: string }> {
  const c = tsNode('control-main.ts', args);
  const code = await c.exit;
  return { code, out: c.out() };
}

async function startRun(id: string, taskQueue: string, input: UpdateRequest) {
  return env.client.workflow.start<UpdateLinkedImagesWorkflow>(UPDATE_LINKED_IMAGES, {
    taskQueue,
    workflowId: id,
    args: [input],
  });
}

/** Polls the `controls` query until `ok` holds (the run answers once its first workflow task ran). */
async function controlsUntil(id: string, ok: (s: ControlState) => boolean): Promise<ControlState> {
  for (;;) {
    const s = await env.client.workflow
      .getHandle(id)
      .query(controlsQuery)
      .catch(() => null);
    if (s && ok(s)) return s;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm run update: the run-control options', () => {
  it('refuses a bad value with exit 2, naming the option, and starts no run', { timeout: 120_000 }, async () => {
    const past = new Date(Date.now() - 3600_000).toISOString();
    const bad: [string[], RegExp][] = [
      [['--max-failures', '150%'], /option '--max-failures <N\|N%>' argument '150%' is invalid\. Expected a count/],
      [['--max-failures', 'abc'], /option '--max-failures <N\|N%>' argument 'abc' is invalid/],
      [
        ['--stage-concurrency', 'prepare=8,exec=2'],
        /option '--stage-concurrency <stage=N,\.\.\.>' argument 'prepare=8,exec=2' is invalid\. 'exec=2': Expected stage=N/,
      ],
      [['--stage-concurrency', 'execute=0.5'], /option '--stage-concurrency <stage=N,\.\.\.>' argument 'execute=0\.5'/],
      [['--not-before', '2026-12-06T02:00'], /option '--not-before <ISO>' argument '2026-12-06T02:00' is invalid/],
      [
        ['--not-after', past],
        /option '--not-after': window\.notAfter: the window closed at .*give a window that ends in the future/,
      ],
      [
        ['--not-before', '2099-01-02T00:00:00Z', '--not-after', '2099-01-01T00:00:00Z'],
        /option '--not-before\/--not-after\/--window-length': window: notAfter: expected a time after notBefore/,
      ],
      [['--window-length', '0s'], /option '--window-length <dur>' argument '0s' is invalid/],
      [
        ['--window-length', '4h', '--not-after', '2099-01-01T00:00:00Z'],
        /option '--not-before\/--not-after\/--window-length': window: expected notAfter or length, not both/,
      ],
      [['--yes'], /--yes answers the approval prompt: give it with --approve/],
    ];
    for (const [flags, message] of bad) {
      const id = `bad-flags-${Date.now()}`;
      const cli = updateCli(['/x', '--host', 'h', '--id', id, ...flags]);
      const code = await cli.exit;
      assert.equal(code, 2, `${flags.join(' ')}\n${cli.out()}`);
      assert.match(cli.out(), message);
      await assert.rejects(env.client.workflow.getHandle(id).describe(), WorkflowNotFoundError, 'no run started');
    }
  });

  it(
    'starts a run with the options as input fields: --approval --approve --yes shows the plans, approves them, and the run completes',
    { timeout: 180_000 },
    async () => {
      const host = await buildDemoHost(await tempDir('ctl-yes'), 2);
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
        const id = `ctl-yes-${Date.now()}`;
        const cli = updateCli([
          host.parent,
          '-r',
          '--id',
          id,
          '--task-queue',
          taskQueue,
          '--host',
          hostName,
          '--plain',
          '--approval',
          '--approve',
          '--yes',
          '--max-failures',
          '50%',
          '--stage-concurrency',
          'prepare=2,execute=1',
          '--not-after',
          new Date(Date.now() + 3600_000).toISOString(),
        ]);
        assert.equal(await cli.exit, 0, cli.out());
        const out = cli.out();
        assert.match(out, /Plans waiting for approval:\n +NAME +CHANGES +DOWNLOAD +PLAN\n/);
        assert.match(out, /^ +zone:z1 +5 +\S+( \S+)? +[0-9a-f]{12}…$/m);
        assert.match(out, /3 plans in the set, \d+ package changes/);
        const digest = /Set digest: ([0-9a-f]+)/.exec(out)?.[1];
        assert.ok(digest, out);
        assert.match(out, new RegExp(`Approved set digest ${digest}: the run executes these plans\\.`));
        assert.match(out, /zone:z2 +updated +execute +5/);
        assert.match(out, /Status: ok, exit code 0/);
        const { args } = await env.client.workflow
          .getHandle(id)
          .fetchHistory()
          .then((h) => ({
            args: h.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0],
          }));
        const input = JSON.parse(Buffer.from(args!.data!).toString()) as Record<string, unknown>;
        assert.equal(input.approval, true);
        assert.equal(input.maxFailures, '50%');
        assert.deepEqual(input.stageConcurrency, { prepare: 2, execute: 1 });
        assert.ok((input.window as { notAfter?: string }).notAfter);
      });
    },
  );

  it(
    'asks on a terminal: Ctrl-C at the prompt stops watching (the run waits on), and an answer other than y given after --follow rejects the plans (status rejected, exit 1)',
    { timeout: 180_000 },
    async () => {
      const host = await buildDemoHost(await tempDir('ctl-no'), 1);
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
        const id = `ctl-no-${Date.now()}`;
        // In a terminal (the prompt asks only on one), its keyboard this test's pipe into `script`.
        const inTerminal = (args: string) =>
          run('/usr/bin/script', [
            '-qec',
            `stty rows 40 cols 200; ${process.execPath} --require ts-node/register ${path.join(SRC, 'update-main.ts')} ${args}`,
            '/dev/null',
          ]);
        const first = inTerminal(`${host.parent} --id ${id} --task-queue ${taskQueue} --host ${hostName} --approve`);
        await first.until(/Execute these plans\? \[y\/N\] /);
        first.child.stdin!.write('\x03');
        assert.equal(await first.exit, 130, first.out());
        assert.match(
          first.out(),
          /temporal workflow update execute -w \S+ --name approve --input '\{"digest":"[0-9a-f]+"\}'/,
        );
        assert.match(first.out(), new RegExp(`Stopped watching; ${id} goes on\\.`));
        assert.equal((await controlsUntil(id, () => true)).approval, 'waiting');

        const second = inTerminal(`--follow ${id} --approve`);
        await second.until(/Execute these plans\? \[y\/N\] /);
        second.child.stdin!.write('n\n');
        assert.equal(await second.exit, 1, second.out());
        assert.match(second.out(), /Rejected \(rejected at the prompt\): the run ends with nothing executed\./);
        assert.match(second.out(), /Status: rejected, exit code 1/);
        assert.doesNotMatch(second.out(), /Waiting for \S+ to answer/, 'the last frame keeps the stage line');
        const result = await env.client.workflow.getHandle(id).result();
        assert.equal(result.status, 'rejected');
      });
    },
  );

  it('with --not-before shows the run waiting for the window, then executes in it', { timeout: 180_000 }, async () => {
    const host = await buildDemoHost(await tempDir('ctl-window'), 1);
    await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
      const id = `ctl-window-${Date.now()}`;
      const opens = new Date(Date.now() + 12_000).toISOString();
      const cli = updateCli([
        host.parent,
        '-r',
        '--id',
        id,
        '--task-queue',
        taskQueue,
        '--host',
        hostName,
        '--not-before',
        opens,
      ]);
      await cli.until(/^ +\* waiting for the window: opens \d{4}-\d\d-\d\d \d\d:\d\d \(in \d+s\)$/m);
      assert.equal(await cli.exit, 0, cli.out());
      assert.match(cli.out(), /^ +\* no longer waiting for the window$/m);
      assert.match(cli.out(), /zone:z1 +updated +execute +5/);
    });
  });

  it(
    'without --approve shows the plans and the exact temporal line to approve them, and follows the run to its end',
    { timeout: 180_000 },
    async () => {
      const host = await buildDemoHost(await tempDir('ctl-show'), 1);
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
        const id = `ctl-show-${Date.now()}`;
        const cli = updateCli([
          host.parent,
          '-r',
          '--id',
          id,
          '--task-queue',
          taskQueue,
          '--host',
          hostName,
          '--approval',
        ]);
        await cli.until(/--name reject/);
        const line = /^ +temporal (workflow update execute -w \S+ --name approve --input '(\{.*\})')$/m.exec(cli.out());
        assert.ok(line, cli.out());
        assert.match(cli.out(), /\* waiting for approval: 2 plans, set digest [0-9a-f]{12}…/);
        // The printed line works as printed (the temporal CLI, the digest in full).
        const temporal = cliRunner(env.server);
        const r = await temporal(['workflow', 'update', 'execute', '-w', id, '--name', 'approve', '--input', line[2]]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await cli.exit, 0, cli.out());
        assert.match(cli.out(), /Status: ok, exit code 0/);
      });
    },
  );
});

describe('npm run control', () => {
  it(
    'pauses and resumes a run, sets caps, and says why the run refuses a control (exit 1); the watch shows the hold',
    { timeout: 240_000 },
    async () => {
      const host = await buildDemoHost(await tempDir('ctl-verbs'), 2);
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
        const id = `ctl-verbs-${Date.now()}`;
        await startRun(id, taskQueue, {
          image: host.parent,
          host: hostName,
          recursive: true,
          approval: true,
          maxFailures: 1,
        });
        const waiting = await controlsUntil(id, (s) => s.approval === 'waiting');

        const shown = await control([id, 'show']);
        assert.equal(shown.code, 0, shown.out);
        assert.match(shown.out, new RegExp(`approval: +waiting, set digest ${waiting.setDigest}`));
        assert.match(shown.out, /holding: +waiting for approval/);
        assert.match(shown.out, /failures: +0 of 1 allowed/);

        const paused = await control([id, 'pause']);
        assert.equal(paused.code, 0, paused.out);
        assert.match(paused.out, /pause: done\./);
        assert.match(paused.out, /paused: +yes/);
        const again = await control([id, 'pause']);
        assert.equal(again.code, 1, again.out);
        assert.match(again.out, new RegExp(`${id} refused pause: .*already paused`));

        const watch = watchCli([id, '--plain', '--interval-ms', '200']);
        await watch.until(/^\* paused: no new child work starts \(resume: npm run control -- \S+ resume\)$/m);
        await watch.until(/^\* waiting for approval: 3 plans, set digest [0-9a-f]{12}…/m);

        const resumed = await control([id, 'resume']);
        assert.equal(resumed.code, 0, resumed.out);
        assert.match(resumed.out, /paused: +no/);
        await watch.until(/^\* no longer paused$/m);

        const caps = await control([id, 'concurrency', '3', '--stage', 'execute']);
        assert.equal(caps.code, 0, caps.out);
        assert.match(caps.out, /concurrency: +\S+ children at once \(publisher-check no limit, execute 3\)/);
        const all = await control([id, 'concurrency', '0']);
        assert.match(all.out, /concurrency: +no limit children at once \(publisher-check no limit, execute 3\)/);

        const unknown = await control([id, 'skip', 'zone:nope']);
        assert.equal(unknown.code, 1, unknown.out);
        assert.match(unknown.out, new RegExp(`${id} refused skipChild: .*zone:nope`));

        const wrong = await control([id, 'approve', '--digest', 'not-the-digest']);
        assert.equal(wrong.code, 1, wrong.out);
        assert.match(wrong.out, new RegExp(`refused approve: digest: .*${waiting.setDigest}.*not not-the-digest`));

        const usage = await control([id, 'concurrency', '0.5']);
        assert.equal(usage.code, 2, usage.out);

        const approved = await control([id, 'approve']);
        assert.equal(approved.code, 0, approved.out);
        assert.match(approved.out, new RegExp(`Approving set digest ${waiting.setDigest}`));
        assert.match(approved.out, /approval: +approved/);

        assert.equal(await watch.exit, 0, watch.out());
        assert.match(watch.out(), /Status: ok, exit code 0/);
        const late = await control([id, 'pause']);
        assert.equal(late.code, 1, late.out);
      });
    },
  );
});
