import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { Image } from '../src/image/image';
import { parseAction } from '../src/model/manifest';
import { compareMediations, selectMediations } from '../src/model/mediators';
import { plan } from '../src/stages/plan';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup, tempDir } from './helpers/tree';
import { pkgHere } from './helpers/pkg-here';

after(cleanup);

/** `pkg <argv>` in this process: its exit code and what it printed. */
const pkg = async (argv: string[]) => {
  const r = await pkgHere(...argv);
  return { code: r.code, out: r.stdout, err: r.stderr };
};

const link = (version: string, extra = '') =>
  `link path=usr/bin/python target=python${version} mediator=python mediator-version=${version}${extra}`;

/** Two packages delivering the mediated link usr/bin/python, for 3.9 and 3.11, both installed. */
async function twoPythons() {
  const repo = await makeRepo();
  await publishPkg(repo, 'python-39@1.0', { 'usr/bin/python3.9': 'py39' }, { actions: [link('3.9')] });
  await publishPkg(repo, 'python-311@1.0', { 'usr/bin/python3.11': 'py311' }, { actions: [link('3.11')] });
  const image = await makeImage(fileUrl(repo));
  const cache = await makeCache();
  return { repo, image, cache };
}

describe('mediated links', () => {
  it('orders mediations as pkg(5) cmp_mediations: site, vendor, untagged; then the greatest version', () => {
    // src/modules/mediator.py cmp_mediations: priority first, then the version inverted (greatest first),
    // then the implementation name, then its version inverted.
    const m = (version: string | null, implementation: string | null, priority: 'site' | 'vendor' | null) => ({
      version,
      implementation,
      priority,
    });
    const sorted = [
      m('3.11', null, null),
      m('2.7', null, 'vendor'),
      m('3.9', null, 'site'),
      m('3.12', null, null),
    ].sort(compareMediations);
    assert.deepEqual(
      sorted.map((x) => x.version),
      ['3.9', '2.7', '3.12', '3.11'],
    );
    const impls = [m(null, 'openjdk@8', null), m(null, 'openjdk@11', null), m(null, 'azul', null)].sort(
      compareMediations,
    );
    assert.deepEqual(
      impls.map((x) => x.implementation),
      ['azul', 'openjdk@11', 'openjdk@8'],
    );
  });

  it("selects the administrator's mediation when a link offers it, and falls back to the system's when none does", () => {
    const actions = [parseAction(link('3.9')), parseAction(link('3.11'))];
    assert.equal(selectMediations(actions).get('python')!.version, '3.11');
    const local = selectMediations(actions, { python: { version: '3.9' } }).get('python')!;
    assert.deepEqual([local.version, local.versionSource], ['3.9', 'local']);
    const gone = selectMediations(actions, { python: { version: '2.7' } }).get('python')!;
    assert.deepEqual([gone.version, gone.versionSource], ['3.11', 'system']);
  });

  it('installs two packages delivering one mediated link path; the link points at the highest version', async () => {
    const { image, cache } = await twoPythons();
    await update(image, cache, { install: ['python-39', 'python-311'] });
    assert.equal(await fs.readlink(path.join(image.root, 'usr/bin/python')), 'python3.11');
    // Removing the package of the selected mediation hands the path to the other one.
    await update(image, cache, { remove: ['python-311'], update: [] });
    assert.equal(await fs.readlink(path.join(image.root, 'usr/bin/python')), 'python3.9');
  });

  it('a mediated link of a newly installed package takes over the path from an installed one', async () => {
    const { image, cache } = await twoPythons();
    await update(image, cache, { install: ['python-39'] });
    assert.equal(await fs.readlink(path.join(image.root, 'usr/bin/python')), 'python3.9');
    await update(image, cache, { install: ['python-311'] });
    assert.equal(await fs.readlink(path.join(image.root, 'usr/bin/python')), 'python3.11');
  });

  it('still refuses two unmediated links for one path', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'a@1.0', {}, { actions: ['link path=usr/bin/x target=a'] });
    await publishPkg(repo, 'b@1.0', {}, { actions: ['link path=usr/bin/x target=b'] });
    const image = await makeImage(fileUrl(repo));
    await assert.rejects(plan(image, { install: ['a', 'b'] }), /CONFLICTING_ACTIONS|Conflicting actions/);
  });

  it('set-mediator -V moves the link and records the choice; mediator lists it as local', async () => {
    const { image, cache } = await twoPythons();
    await update(image, cache, { install: ['python-39', 'python-311'] });
    const listed = await pkg(['mediator', '-R', image.root]);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /^MEDIATOR {2}VER\. SRC\. {2}VERSION {2}IMPL\. SRC\. {2}IMPLEMENTATION\n/);
    assert.match(listed.out, /^python {4}system {5}3\.11 {5}system$/m, 'columns aligned under the header');

    const set = await pkg(['set-mediator', '-R', image.root, '--cache', cache.root, '-V', '3.9', 'python']);
    assert.equal(set.code, 0, set.err);
    assert.equal(await fs.readlink(path.join(image.root, 'usr/bin/python')), 'python3.9');
    const reopened = await Image.open(image.root);
    assert.deepEqual(reopened.config().mediators, { python: { version: '3.9' } });
    assert.match((await pkg(['mediator', '-R', image.root, 'python'])).out, /^python +local +3\.9 +system$/m);
    // The choice holds over a later update that plans with the image's own settings.
    const again = await plan(reopened, {});
    assert.equal(again.changes.length, 0);

    const same = await pkg(['set-mediator', '-R', image.root, '--cache', cache.root, '-V', '3.9', 'python']);
    assert.equal(same.code, 4, same.out);
  });

  it('set-mediator -V of a version no link offers: applied, with a warning naming what is used; mediator shows local', async () => {
    const { image, cache } = await twoPythons();
    await update(image, cache, { install: ['python-39', 'python-311'] });
    assert.equal((await pkg(['set-mediator', '-R', image.root, '--cache', cache.root, '-V', '3.9', 'python'])).code, 0);
    const set = await pkg(['set-mediator', '-R', image.root, '--cache', cache.root, '-V', '3.10', 'python']);
    assert.equal(set.code, 0, set.err);
    assert.match(
      set.err,
      /^Warning: no installed package offers python version 3\.10; version 3\.11 \(system\) is used instead$/m,
    );
    assert.equal(await fs.readlink(path.join(image.root, 'usr/bin/python')), 'python3.11');
    assert.deepEqual((await Image.open(image.root)).config().mediators, { python: { version: '3.10' } });
    const listed = await pkg(['mediator', '-R', image.root]);
    assert.match(listed.out, /^python +local +3\.11 +system$/m, "the administrator's setting is the source");
    assert.match(listed.err, /no installed package offers python version 3\.10/);
    const none = await pkg(['set-mediator', '-R', image.root, '--cache', cache.root, '-V', '1.0', 'perl']);
    assert.match(none.err, /^Warning: no installed package delivers links of mediator perl/m);
  });

  it('set-mediator refuses a call with neither -V nor -I (exit 2)', async () => {
    const root = path.join(await tempDir('img'), 'root');
    assert.equal((await pkg(['set-mediator', '-R', root, 'python'])).code, 2);
  });
});
