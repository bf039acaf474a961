import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pkgProcess } from './helpers/pkg-process';
import { Image } from '../src/image/image';
import { buildDemoHost, DemoHost } from '../src/dev/demo-host';
import { cleanup, tempDir } from './helpers/tree';
import { release, setZonePublishers } from './helpers/workflow-fixture';
import { pkgHere } from './helpers/pkg-here';

after(cleanup);

const pkg = pkgProcess;

async function cachedFiles(cacheDir: string): Promise<number> {
  let n = 0;
  for (const d of await fsp.readdir(path.join(cacheDir, 'file')))
    if (d !== '.tmp') n += (await fsp.readdir(path.join(cacheDir, 'file', d))).length;
  return n;
}

describe('pkg update --stage and pubcheck-linked -l', () => {
  let host: DemoHost;
  let cache: string;

  before(async () => {
    host = await buildDemoHost(await tempDir('li-stage'), 2);
    // A cache of its own, so that prepare has something to download.
    cache = path.join(path.dirname(host.cacheDir), 'stage-cache');
  });

  it('plan prints the plan only; prepare downloads and changes nothing; execute applies; each stage plans again', async () => {
    const parent = await Image.open(host.parent);
    const token = await parent.stateToken();

    const planned = await pkg('update', '-R', host.parent, '--cache', cache, '--stage', 'plan');
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /update +system\/kernel: 1\.0:\S+ -> 1\.1:/);
    assert.match(planned.stdout, /^Packages to change: 5;/m);
    assert.doesNotMatch(planned.stdout, /Download:|Execute:/);
    assert.equal(await cachedFiles(cache), 0);

    const prepared = await pkg('update', '-R', host.parent, '--cache', cache, '--stage', 'prepare');
    assert.equal(prepared.code, 0, prepared.stderr);
    assert.match(prepared.stdout, /^Packages to change: 5;/m);
    assert.match(prepared.stdout, /^Download: 11\/11 files, \d+\/\d+ bytes \(11 fetched, the rest cached\)$/m);
    assert.doesNotMatch(prepared.stdout, /Execute:/);
    assert.equal(await cachedFiles(cache), 11);
    assert.equal(await parent.stateToken(), token, 'prepare changes nothing in the image');
    assert.equal(await release(host.parent), 'Demo OS 1.0');

    const executed = await pkg('update', '-R', host.parent, '--cache', cache, '--stage', 'execute');
    assert.equal(executed.code, 0, executed.stderr);
    assert.match(executed.stdout, /^Packages to change: 5;/m);
    assert.match(executed.stdout, /^Download: 11\/11 files, .*\(0 fetched, the rest cached\)$/m);
    assert.match(executed.stdout, /^Execute: applied, 22 steps$/m);
    assert.equal(await release(host.parent), 'Demo OS 1.1');

    const again = await pkgHere('update', '-R', host.parent, '--cache', cache, '--stage', 'plan');
    assert.equal(again.code, 4);
    assert.match(again.stdout, /No updates available for this image/);
  });

  it('exits 2 for an unknown stage and for -n with a stage past plan; -n with --stage plan is fine', async () => {
    const bogus = await pkgHere('update', '-R', host.children[0].path, '--cache', cache, '--stage', 'apply');
    assert.equal(bogus.code, 2);
    assert.match(
      bogus.stderr,
      /option '--stage <stage>' argument 'apply' is invalid\. Allowed choices are plan, prepare, execute\./,
    );
    const both = await pkgHere('update', '-R', host.children[0].path, '--cache', cache, '-n', '--stage', 'execute');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /-n plans only; it cannot be combined with --stage execute/);
    const dry = await pkgHere('update', '-R', host.children[0].path, '--cache', cache, '-n', '--stage', 'plan');
    assert.equal(dry.code, 0, dry.stderr);
    assert.doesNotMatch(dry.stdout, /Download:/);
  });

  it('pubcheck-linked -l checks only the named children and refuses a name the parent does not have', async () => {
    const [z1, z2] = host.children;
    await setZonePublishers(z1.path, (pubs) => pubs.map((p) => ({ ...p, sticky: false })));
    const one = await pkgHere('pubcheck-linked', '-R', host.parent, '-l', z2.name);
    assert.deepEqual(one, { code: 0, stdout: `${z2.name}\tok\n`, stderr: '' });
    const bad = await pkgHere('pubcheck-linked', '-R', host.parent, '-l', z1.name);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^zone:z1\tInvalid child image publisher configuration for zone:z1\./);
    assert.doesNotMatch(bad.stdout, /zone:z2/);
    const all = await pkgHere('pubcheck-linked', '-R', host.parent);
    assert.equal(all.code, 1);
    assert.match(all.stdout, /zone:z2\tok/);
    const unknown = await pkgHere('pubcheck-linked', '-R', host.parent, '-l', 'zone:nope');
    assert.equal(unknown.code, 1); // pkg(5): an unknown child is EXIT_OOPS; 53 means "not a linked child"
    assert.match(
      unknown.stderr,
      /^pkg: NO_SUCH_CHILD: .*no child named "zone:nope"; attached children: zone:z1, zone:z2/,
    );
  });
});
