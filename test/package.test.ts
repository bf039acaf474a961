import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startDevServer, type DevServer } from '../src/dev/dev-server';
import type { UpdateResult } from '../src/contract/run-types';
import { projectDir } from './helpers/temporal-env';
import { cleanup, tempDir } from './helpers/tree';

const run = promisify(execFile);
const BINS = [
  'linked-images-worker',
  'linked-images-update',
  'linked-images-watch',
  'linked-images-control',
  'linked-images-report',
  'linked-images-pkg',
];

// The child npm runs as a user's would: not as a script of our own `npm test`.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));

/**
 * The package as users get it: `npm pack` (which builds dist/), installed from the tarball into an
 * empty project, then used there only through `require`/`import 'linked-images'` and its bins.
 */
describe('the packed linked-images, installed into an empty project', { timeout: 600_000 }, () => {
  let consumer: string;
  let server: DevServer;

  before(async () => {
    const packDir = await tempDir('pack');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], {
      cwd: projectDir,
      env,
      maxBuffer: 64 << 20,
    });
    const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
    consumer = await tempDir('consumer');
    await fs.writeFile(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(packDir, filename)], {
      cwd: consumer,
      env,
      maxBuffer: 64 << 20,
    });
    await fs.copyFile(
      path.join(__dirname, 'fixtures', 'package-consumer', 'run-update.js'),
      path.join(consumer, 'run-update.js'),
    );
    // No search attributes: the consumer registers them itself (registerSearchAttributes).
    server = await startDevServer();
  });

  after(async () => {
    await server?.stop();
    await cleanup();
  });

  it("runs an update with the plugin on Workers of its own, against the package's compiled workflows", async () => {
    const { stdout } = await run(process.execPath, ['run-update.js', server.address, await tempDir('consumer-host')], {
      cwd: consumer,
      env,
      maxBuffer: 64 << 20,
    });
    const { added, result } = JSON.parse(stdout.trim().split('\n').pop()!) as { added: string[]; result: UpdateResult };
    assert.deepEqual(added.sort(), ['LinkedImageParent', 'LinkedImageStatus']);
    assert.equal(result.status, 'ok');
    assert.equal(result.host, 'consumer');
    assert.deepEqual(result.counts, {
      updated: 3,
      'nothing-to-do': 0,
      planned: 0,
      failed: 0,
      cancelled: 0,
      skipped: 0,
      deferred: 0,
    });
    assert.equal(result.children.length, 3);
    for (const line of result.children) assert.match(line, /^zone:z\d updated execute \d+$/);
  });

  it('resolves from the installed package for require and import, with the contract as a subpath', async () => {
    const cjs =
      "const li = require('linked-images'); console.log(JSON.stringify({ file: require.resolve('linked-images'), plugin: typeof li.LinkedImagesPlugin, workflow: li.UPDATE_LINKED_IMAGES, path: li.LINKED_IMAGES_WORKFLOWS_PATH }))";
    const r = JSON.parse((await run(process.execPath, ['-e', cjs], { cwd: consumer, env })).stdout);
    assert.equal(r.file, path.join(await fs.realpath(consumer), 'node_modules', 'linked-images', 'dist', 'index.js'));
    assert.equal(r.plugin, 'function');
    assert.equal(r.workflow, 'updateLinkedImages');
    assert.equal(r.path, path.join(path.dirname(r.file), 'workflows', 'index.js'));
    const esm =
      "import { LinkedImagesPlugin, DEFAULT_TASK_QUEUE } from 'linked-images'; import { LINKED_IMAGE_STATUS } from 'linked-images/contract'; console.log(JSON.stringify({ plugin: typeof LinkedImagesPlugin, queue: DEFAULT_TASK_QUEUE, attribute: LINKED_IMAGE_STATUS.name }))";
    const m = JSON.parse(
      (await run(process.execPath, ['--input-type=module', '-e', esm], { cwd: consumer, env })).stdout,
    );
    assert.deepEqual(m, { plugin: 'function', queue: 'linked-images', attribute: 'LinkedImageStatus' });
  });

  it('installs its command lines as bins that print their usage', async () => {
    for (const bin of BINS) {
      const { stdout } = await run(path.join(consumer, 'node_modules', '.bin', bin), ['--help'], {
        cwd: consumer,
        env,
      });
      assert.match(stdout, /usage/i, `${bin} --help`);
    }
  });
});
