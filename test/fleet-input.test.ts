import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fleetInputProblems,
  hostResultLine,
  MAX_FLEET_HOSTS,
  parseFleetInput,
  parseHostResultLine,
  waveCounts,
} from '../src/contract/fleet';
import { fleetAction } from '../src/client/fleet/fleet-control';
import { wavesValue } from '../src/client/fleet/waves-value';
import { UsageError } from '../src/command-line/usage-error';

const host = (i: number) => ({ name: `h${i}`, image: `/zones/h${i}` });

describe('waveCounts (Ansible serial)', () => {
  it('takes numbers and percentages, the last size repeating, a percentage at least 1 host', () => {
    assert.deepEqual(waveCounts(10, [1, '20%']), [1, 2, 2, 2, 2, 1]);
    assert.deepEqual(waveCounts(10, [1, 5, '100%']), [1, 5, 4]);
    assert.deepEqual(waveCounts(3, ['10%']), [1, 1, 1]);
    assert.deepEqual(waveCounts(4, undefined), [4]);
    assert.deepEqual(waveCounts(2, [5]), [2]);
  });
});

describe('the fleet input', () => {
  it('fills in the defaults: one host at a time, fail-fast over hosts, no wave approval', () => {
    assert.deepEqual(parseFleetInput({ hosts: [host(1)] }), {
      hosts: [host(1)],
      update: {},
      hostConcurrency: 1,
      maxHostFailures: 0,
      waveApproval: false,
    });
  });

  it('names each bad field', () => {
    const problems = fleetInputProblems({
      hosts: [host(1), host(1), { name: 'bad name', image: 'x' }],
      waves: [0],
      hostConcurrency: 0,
    });
    assert.ok(
      problems.some((p) => p.startsWith('hosts.2.name: expected a host name')),
      problems.join('\n'),
    );
    assert.ok(problems.some((p) => p.startsWith('hosts.2.image: expected an absolute path')));
    assert.ok(problems.some((p) => p.startsWith('waves.0:')));
    assert.ok(problems.some((p) => p.startsWith('hostConcurrency: expected an integer >= 1')));
    assert.deepEqual(fleetInputProblems({ hosts: [] }), ['hosts: expected at least one host, got []']);
    assert.match(fleetInputProblems({ hosts: [host(1)], maxHostFailures: '150%' })[0], /percentage of the hosts/);
  });

  it(`refuses more than ${MAX_FLEET_HOSTS} hosts, and hosts whose JSON passes 200 KB (every continue-as-new carries them)`, () => {
    const many = Array.from({ length: MAX_FLEET_HOSTS + 1 }, (_, i) => host(i));
    assert.match(fleetInputProblems({ hosts: many })[0], /^hosts: expected at most 1000 hosts/);
    const long = Array.from({ length: 900 }, (_, i) => ({ name: `h${i}`, image: '/' + 'z'.repeat(250) }));
    assert.match(fleetInputProblems({ hosts: long })[0], /^hosts: expected the hosts to take at most 200 KB of JSON/);
    assert.deepEqual(fleetInputProblems({ hosts: long.slice(0, 500) }), []);
  });
});

describe('the fleet on the command line', () => {
  it('reads --waves like Ansible serial and names a bad size', () => {
    assert.deepEqual(wavesValue('1,5,20%'), [1, 5, '20%']);
    assert.throws(
      () => wavesValue('1,0'),
      (e: Error) => e instanceof UsageError && /'0'/.test(e.message),
    );
    assert.throws(() => wavesValue('1,150%'), UsageError);
  });

  it('maps the control verbs of a fleet to its Updates, and refuses bad arguments', () => {
    assert.deepEqual(fleetAction('concurrency', ['5']), { name: 'setHostConcurrency', args: [{ hostConcurrency: 5 }] });
    assert.deepEqual(fleetAction('skip', ['db1']), { name: 'skipHost', args: [{ host: 'db1' }] });
    assert.deepEqual(fleetAction('approve-wave', ['2']), { name: 'approveWave', args: [{ wave: 2 }] });
    assert.equal(fleetAction('show', []), null);
    assert.match(fleetAction('concurrency', ['0']) as string, /expected a number of hosts >= 1/);
    assert.match(fleetAction('retry', ['x']) as string, /unknown verb 'retry' for a fleet run/);
  });
});

describe("a fleet result's host lines", () => {
  it('are read back as they were written, the error taken from the failures', () => {
    const error = { code: 'HOST_UNAVAILABLE', message: "No worker of host 'db1'" };
    const failed = {
      name: 'db1',
      workflowId: 'f/db1',
      outcome: 'failed' as const,
      status: null,
      wave: 1,
      updated: null,
      children: null,
      error,
    };
    const ok = {
      ...failed,
      name: 'web1',
      workflowId: 'f/web1',
      outcome: 'updated' as const,
      status: 'ok' as const,
      wave: 0,
      updated: 10,
      children: 10,
      error: null,
    };
    assert.equal(hostResultLine(ok), 'web1 updated ok 10/10 wave 1');
    assert.equal(hostResultLine(failed), 'db1 failed - -/- wave 2');
    const failures = [{ name: 'db1', workflowId: 'f/db1', error }];
    assert.deepEqual(parseHostResultLine(hostResultLine(failed), 'f', { failures }), failed);
    assert.deepEqual(parseHostResultLine(hostResultLine(ok), 'f', { failures }), ok);
  });
});
