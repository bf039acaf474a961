/**
 * The fleet from the command line against a real dev server: `npm run update -- --fleet
 * hosts.json`, `npm run watch` and `npm run control` on a fleet run, and its bad inputs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { FleetResult } from '../src/contract/fleet';
import { startTemporalEnv, type TemporalEnv } from './helpers/temporal-env';
import { cleanup, tempDir } from './helpers/tree';
import { makeHost, release } from './helpers/workflow-fixture';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

const SRC = path.join(__dirname, '../src/client');

/** `node src/client/<main> <args>` against the test server, to its end. */
function cli(
  main: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--require', 'ts-node/register', path.join(SRC, main), ...args], {
    cwd: path.join(__dirname, '..'),
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.server.address,
      TEMPORAL_NAMESPACE: env.server.namespace,
      ...extraEnv,
    },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((r) => child.on('exit', (code) => r({ code, out })));
}

describe('npm run update -- --fleet', () => {
  it('starts a fleet run from a hosts file with the command line update options, follows it and prints a table per host', async () => {
    const hosts = [await makeHost(1), await makeHost(1)];
    const dir = await tempDir('fleet-cli');
    const queue = `fleet-cli-${process.pid}`;
    const names = ['cli-h1', 'cli-h2'];
    const file = path.join(dir, 'hosts.json');
    await fs.writeFile(file, JSON.stringify(names.map((name, i) => ({ name, image: hosts[i].parent }))));
    const workers = await Promise.all(
      hosts.map((h, i) => env.hostWorkers({ cacheDir: h.cacheDir }, { host: names[i], taskQueue: queue })),
    );
    const running = workers.map((w) => w.run());
    try {
      const id = `fleet-cli-${process.pid}`;
      const r = await cli('update-main.ts', [
        '--fleet',
        file,
        '--waves',
        '1',
        '-C',
        '2',
        '--id',
        id,
        '--task-queue',
        queue,
      ]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /Started fleet-cli-\d+ \(update fleet of 2 hosts, waves \[1\]\)/);
      assert.match(r.out, /HOST\s+WAVE\s+OUTCOME\s+RUN STATUS\s+ZONES/);
      assert.match(r.out, /cli-h1\s+1\s+updated\s+ok\s+1\/1/);
      assert.match(r.out, /cli-h2\s+2\s+updated\s+ok\s+1\/1/);
      assert.match(r.out, /Status: ok, exit code 0/);
      const result = (await env.client.workflow.getHandle(id).result()) as FleetResult;
      assert.equal(result.waves, 2);
      const input = (await env.client.workflow.getHandle(`${id}/cli-h1`).fetchHistory()).events![0]
        .workflowExecutionStartedEventAttributes!.input!.payloads![0].data!;
      assert.equal(
        JSON.parse(Buffer.from(input).toString()).concurrency,
        2,
        'the -C of the command line reached each host',
      );
      for (const h of hosts) assert.equal(await release(h.children[0].path), 'Demo OS 1.1');

      // The watch on a closed fleet run prints its table; control on it is refused (it takes no more controls).
      const w = await cli('watch-main.ts', [id, '--plain']);
      assert.equal(w.code, 0, w.out);
      assert.match(w.out, /cli-h2\s+2\s+updated/);
      const c = await cli('control-main.ts', [id, 'pause']);
      assert.equal(c.code, 1, c.out);
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
    }
  });

  it('refuses a bad hosts file or bad fleet options with exit 2 before starting anything', async () => {
    const dir = await tempDir('fleet-cli-bad');
    const file = path.join(dir, 'hosts.json');
    await fs.writeFile(
      file,
      JSON.stringify([
        { name: 'a', image: 'relative/path' },
        { name: 'a', image: '/x' },
      ]),
    );
    const bad = await cli('update-main.ts', ['--fleet', file]);
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /hosts\.0\.image: expected an absolute path/);
    assert.match(bad.out, /hosts: expected each host once/);
    const waves = await cli('update-main.ts', ['--fleet', file, '--waves', '1,0']);
    assert.equal(waves.code, 2);
    assert.match(waves.out, /--waves: expected sizes like 1,5,20%.*'0'/);
    const missing = await cli('update-main.ts', ['--fleet', path.join(dir, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.out, /--fleet .*nope\.json: ENOENT/);
    const stray = await cli('update-main.ts', ['/some/image', '--waves', '1']);
    assert.equal(stray.code, 2);
    assert.match(stray.out, /--waves, --host-concurrency, --max-host-failures and --wave-approval go with --fleet/);
  });
});
