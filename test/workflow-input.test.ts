import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readRecord } from './helpers/activity-log';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import { historyEventTypes, Host, makeHost, runFailing } from './helpers/workflow-fixture';

let env: TemporalEnv;
let host: Host;
before(async () => {
  env = await startTemporalEnv();
  host = await makeHost(2);
});
after(async () => {
  await env?.close();
  await cleanup();
});

interface Case {
  what: string;
  input: (image: string, host: string) => unknown;
  /** Each must appear in the failure message (field name first). */
  mentions: string[];
  /** The describe activity ran (the problem is only visible on disk); otherwise no activity ran. */
  described?: boolean;
}

const CASES: Case[] = [
  {
    what: 'a missing image',
    input: (_, host) => ({ host, concurrency: 2 }),
    mentions: ['image: required: the absolute path of the parent image, got nothing'],
  },
  {
    what: 'a relative image path',
    input: (_, host) => ({ image: 'host', host }),
    mentions: ['image: expected an absolute path, got "host"'],
  },
  {
    what: 'an image path that does not exist',
    input: (_, host) => ({ image: '/nonexistent/li-host', host }),
    mentions: ['image: ', '/nonexistent/li-host'],
    described: true,
  },
  {
    what: 'a fractional concurrency',
    input: (image, host) => ({ image, host, concurrency: 1.5 }),
    mentions: ['concurrency: expected an integer (<= 0 means no limit), got 1.5'],
  },
  {
    what: 'a concurrency given as a string',
    input: (image, host) => ({ image, host, concurrency: '3' }),
    mentions: ['concurrency: expected an integer (<= 0 means no limit), got "3"'],
  },
  {
    what: 'an unknown child name',
    input: (image, host) => ({ image, host, recursive: true, children: ['zone:z1', 'zone:nope'] }),
    mentions: ["children: unknown child 'zone:nope'; attached children: zone:z1, zone:z2"],
    described: true,
  },
  {
    what: 'an unknown child not to recurse into (-Z)',
    input: (image, host) => ({ image, host, recursive: true, exclude: ['zone:z7'] }),
    mentions: ["exclude: unknown child 'zone:z7'; attached children: zone:z1, zone:z2"],
    described: true,
  },
  {
    what: 'children to recurse into without recursive (pkg: -z needs -r)',
    input: (image, host) => ({ image, host, children: ['zone:z1'] }),
    mentions: ['children: recursing into only some children (pkg -z) needs recursive: true (pkg -r)'],
  },
  {
    what: 'both children and exclude (pkg: -z and -Z may not be combined)',
    input: (image, host) => ({ image, host, recursive: true, children: ['zone:z1'], exclude: ['zone:z2'] }),
    mentions: ['exclude: cannot be combined with children'],
  },
  {
    what: 'a child both recursed into and ignored (-z and -i)',
    input: (image, host) => ({ image, host, recursive: true, children: ['zone:z1'], ignore: ['zone:z1'] }),
    mentions: ["ignore: 'zone:z1' also in children"],
  },
  {
    what: 'an unknown ignored child',
    input: (image, host) => ({ image, host, ignore: ['zone:z9'] }),
    mentions: ["ignore: unknown child 'zone:z9'; attached children: zone:z1, zone:z2"],
    described: true,
  },
  {
    what: 'children that are not a list',
    input: (image, host) => ({ image, host, children: 'zone:z1' }),
    mentions: ['children: expected a list of child names, got "zone:z1"'],
  },
  {
    what: "a child name without its kind ('z1')",
    input: (image, host) => ({ image, host, children: ['z1'] }),
    mentions: [`children.0: expected a child name like 'zone:z1', got "z1"`],
  },
  {
    what: 'packages that are not a list',
    input: (image, host) => ({ image, host, packages: 'web/nginx' }),
    mentions: ['packages: expected a list of package names, got "web/nginx"'],
  },
  {
    what: 'packages that are not strings',
    input: (image, host) => ({ image, host, packages: ['web/nginx', 7] }),
    mentions: ['packages.1: ', 'got 7'],
  },
  {
    what: 'dryRun that is not a boolean',
    input: (image, host) => ({ image, host, dryRun: 'yes' }),
    mentions: ['dryRun: expected true or false, got "yes"'],
  },
  {
    what: 'an unknown extra field',
    input: (image, host) => ({ image, host, force: true }),
    mentions: [
      "unknown field(s) 'force'; expected image, host, hostTaskQueue, recursive, children, exclude, ignore, concurrency, packages, dryRun, hostTimeout, stageConcurrency, maxFailures, approval, window, partitionSize",
    ],
  },
  {
    what: 'a missing host',
    input: (image) => ({ image }),
    mentions: [
      "host: required: the host that holds the image (its worker polls task queue 'linked-images@<host>'; npm run worker prints it), got nothing",
    ],
  },
  {
    what: 'a host name with a space',
    input: (image) => ({ image, host: 'my host' }),
    mentions: ['host: expected a host name (letters, digits, . _ -), got "my host"'],
  },
  {
    what: 'a host timeout without a unit',
    input: (image, host) => ({ image, host, hostTimeout: '10' }),
    mentions: [`hostTimeout: expected a duration like '90s', '10m' or '1h', got "10"`],
  },
  {
    what: 'a partition size of 0',
    input: (image, host) => ({ image, host, partitionSize: 0 }),
    mentions: ['partitionSize: expected an integer from 1 to 1000, got 0'],
  },
  {
    what: 'an input that is a string, not an object',
    input: (image) => image,
    mentions: ['input: expected a JSON object, got "/'],
  },
  {
    what: 'an input that is a list, not an object',
    input: (image) => [image],
    mentions: ['input: expected a JSON object, got ["/'],
  },
  { what: 'null input', input: () => null, mentions: ['input: expected a JSON object, got null'] },
  {
    what: 'several bad fields at once',
    input: () => ({ image: 'rel', concurrency: 'x', dryRun: 1 }),
    mentions: [
      'image: expected an absolute path',
      'concurrency: expected an integer',
      'dryRun: expected true or false',
    ],
  },
];

describe('updateLinkedImages refuses invalid input at once with a non-retryable InvalidInput failure', () => {
  for (const c of CASES) {
    // A workflow-task failure would be retried forever; the timeout turns such a loop into a failure.
    it(`refuses ${c.what}`, { timeout: 30_000 }, async () => {
      const { workflowId, failure } = await runFailing(
        env,
        host,
        (hostName: string) => c.input(host.parent, hostName),
        'invalid',
      );
      assert.equal(failure.type, 'InvalidInput');
      assert.equal(failure.nonRetryable, true);
      assert.ok(failure.message.startsWith('Invalid input: '), failure.message);
      for (const m of c.mentions)
        assert.ok(failure.message.includes(m), `expected '${failure.message}' to mention '${m}'`);
      const problems = (failure.details?.[0] as { problems?: string[] })?.problems;
      assert.ok(
        Array.isArray(problems) && problems.length >= 1,
        `details carry the problems list: ${JSON.stringify(failure.details)}`,
      );
      assert.equal(failure.message, `Invalid input: ${problems.join('; ')}`);

      const described = await env.client.workflow.getHandle(workflowId).describe();
      assert.equal(described.status.name, 'FAILED');
      const events = await historyEventTypes(env, workflowId);
      assert.equal(events.at(-1), 'WorkflowExecutionFailed');
      assert.ok(!events.includes('WorkflowTaskFailed'), `no workflow-task failure (retry loop): ${events.join(', ')}`);
      assert.equal(events.filter((e) => e === 'WorkflowTaskStarted').length, c.described ? 2 : 1, events.join(', '));

      const lines = await readRecord(host.recordFile, workflowId);
      assert.deepEqual(
        [...new Set(lines.map((l) => `${l.stage}/${l.name}`))],
        c.described ? ['describe/parent'] : [],
        'only describe, and only when the disk had to be consulted',
      );
    });
  }
});
