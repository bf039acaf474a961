import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkerOptions } from '@temporalio/worker';
import { LinkedImagesPlugin } from '../src/plugin/linked-images-plugin';
import { LINKED_IMAGES_WORKFLOWS_PATH } from '../src/plugin/workflows-path';

// configureWorker is what Worker.create applies; the runs against a real server (workflow-*.test.ts,
// package.test.ts) show the registrations work, these show which Worker gets which.
const LEGACY = ['auditChild', 'checkPublishers', 'describeImage', 'executeImage', 'planImage', 'prepareImage'];
const plugin = () => new LinkedImagesPlugin({ cacheDir: '/nonexistent/cache', host: 'h1', taskQueue: 'wf' });
const worker = (taskQueue: string, more: Partial<WorkerOptions> = {}) =>
  plugin().configureWorker({ taskQueue, ...more } as WorkerOptions);

describe('LinkedImagesPlugin', () => {
  it('gives the Worker on the workflow queue the workflows and only the legacy activities', () => {
    const o = worker('wf');
    assert.equal(o.workflowsPath, LINKED_IMAGES_WORKFLOWS_PATH);
    assert.deepEqual(Object.keys(o.activities ?? {}).sort(), LEGACY);
  });

  it("gives the Worker on the host's queue (linked-images@<host> by default) every activity and no workflows", () => {
    const p = plugin();
    assert.equal(p.hostTaskQueue, 'linked-images@h1');
    const o = p.configureWorker({ taskQueue: p.hostTaskQueue } as WorkerOptions);
    assert.equal(o.workflowsPath, undefined);
    assert.equal(o.workflowBundle, undefined);
    const names = Object.keys(o.activities ?? {});
    for (const n of [...LEGACY, 'describeParent', 'listChildren', 'publisherCheck'])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  });

  it('refuses a Worker on any other queue, naming the two it serves', () => {
    assert.throws(
      () => worker('other'),
      /serves task queues 'wf' \(workflows\) and 'linked-images@h1'.*got a Worker on 'other'/,
    );
  });

  it('refuses a host queue equal to the workflow queue', () => {
    assert.throws(
      () => new LinkedImagesPlugin({ cacheDir: '/c', taskQueue: 'q', hostTaskQueue: 'q' }),
      /differ from the workflow task queue/,
    );
  });

  it('refuses bad options at once, naming each option, what it expected and what it got', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ cacheDir: '' }, /cacheDir: expected a non-empty string, got ""/],
      [{}, /cacheDir: expected a non-empty string, got nothing/],
      [{ cacheDir: '/c', maxActivities: 0 }, /maxActivities: expected an integer >= 1, got 0/],
      [{ cacheDir: '/c', maxActivities: 2.5 }, /maxActivities: expected an integer >= 1, got 2\.5/],
      [{ cacheDir: '/c', host: '' }, /host: expected a host name .*, got ""/],
      [{ cacheDir: '/c', host: 'a@b' }, /host: expected a host name .*, got "a@b"/],
      [{ cacheDir: '/c', heartbeatMs: -1 }, /heartbeatMs: expected an integer >= 1, got -1/],
      [{ cacheDir: '/c', hostTaskQueue: '' }, /hostTaskQueue: expected a non-empty string/],
    ];
    for (const [opts, message] of cases)
      assert.throws(
        () => new LinkedImagesPlugin(opts as never),
        (e: unknown) => e instanceof TypeError && message.test(e.message),
        JSON.stringify(opts),
      );
  });

  it("sets the project's Worker defaults only where the Worker's options leave them unset", () => {
    const d = worker('wf');
    assert.equal(d.maxConcurrentActivityTaskExecutions, 16);
    assert.equal(d.maxHeartbeatThrottleInterval, '1 second');
    assert.equal(d.defaultHeartbeatThrottleInterval, '1 second');
    const own = worker('linked-images@h1', {
      maxConcurrentActivityTaskExecutions: 3,
      maxHeartbeatThrottleInterval: '5s',
    });
    assert.equal(own.maxConcurrentActivityTaskExecutions, 3);
    assert.equal(own.maxHeartbeatThrottleInterval, '5s');
    // A tuner and a concurrency limit together are refused by the SDK.
    const tuned = worker('wf', { tuner: { tunerOptions: { targetMemoryUsage: 0.8, targetCpuUsage: 0.9 } } });
    assert.equal(tuned.maxConcurrentActivityTaskExecutions, undefined);
    const few = new LinkedImagesPlugin({ cacheDir: '/c', host: 'h1', maxActivities: 2 }).configureWorker({
      taskQueue: 'linked-images',
    } as WorkerOptions);
    assert.equal(few.maxConcurrentActivityTaskExecutions, 2);
  });

  it("uses its prebuilt bundle instead of bundling, and a Worker's own bundle over either", () => {
    const bundle = { codePath: '/tmp/plugin-bundle.js' };
    const withBundle = new LinkedImagesPlugin({ cacheDir: '/c', host: 'h1', workflowBundle: bundle }).configureWorker({
      taskQueue: 'linked-images',
    } as WorkerOptions);
    assert.equal(withBundle.workflowBundle, bundle);
    assert.equal(withBundle.workflowsPath, undefined);
    const own = { codePath: '/tmp/own-bundle.js' };
    const o = worker('wf', { workflowBundle: own });
    assert.equal(o.workflowBundle, own);
    assert.equal(o.workflowsPath, undefined);
  });
});
