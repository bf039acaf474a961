import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { ContentCache } from '../src/cache/content-cache';
import { realFs } from '../src/image/fs-layer';
import { Image } from '../src/image/image';
import { publishTree } from '../src/repository';
import { execute, ExecuteOptions } from '../src/stages/execute';
import { plan, PlanRequest } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';
import { isCode } from './helpers/expect-error';
import { fileUrl, makeCache, makeImage, makeRepo } from './helpers/fixture';
import { cleanup, snapshot, tempDir, writeTree } from './helpers/tree';

after(cleanup);

const PASSWD = 'root:x:0:0:Super-User:/root:/bin/sh\ndaemon:x:1:1::/:\n';
const SHADOW = 'root:$5$abc:19000::::::\ndaemon:NP:6445::::::\n';
const GROUP = 'root::0:\nother::1:\n';
/** 2026-11-30: day 20787 since 1970-01-01 (shadow's lastchg). */
const NOW = new Date('2026-11-30T12:00:00Z');
const DAYS = 20787;
const root = process.geteuid?.() === 0;

/**
 * pkg(5)'s user and group actions (src/modules/actions/user.py, group.py) write the image's
 * account files through src/modules/cfgfiles.py: passwd `name:x:uid:gid:gcos:home:shell` (gcos
 * default `& User`, home `/`, shell empty, uid the lowest free system id), shadow
 * `name:password:lastchg:min:max:warn:inactive:expire:flag` (password `*LK*` unless given,
 * lastchg today), group `name::gid:members`; group-list= adds the user to those groups.
 */
const ACTIONS = [
  'group groupname=mail gid=6',
  'user username=smmsp uid=25 group=mail gcos-field="SendMail Submission" home-dir=/var/spool login-shell=/bin/false',
  'user username=svc group=other group-list=mail',
];

async function setup(opts: { shadow?: boolean } = {}) {
  const repo = await makeRepo();
  const dir = await tempDir('tree');
  await writeTree(dir, { 'opt/mta/': null, 'opt/mta/queue': { mode: 0o640, data: 'q\n' } });
  // Its files are owned by a user and group the same package delivers.
  await publishTree(repo, { fmri: 'mta@1.0', dir, owner: 'smmsp', group: 'mail', actions: ACTIONS });
  const image = await makeImage(fileUrl(repo));
  await writeTree(image.root, { 'etc/passwd': PASSWD, 'etc/group': GROUP });
  if (opts.shadow !== false) {
    await fs.writeFile(path.join(image.root, 'etc/shadow'), SHADOW);
    await fs.chmod(path.join(image.root, 'etc/shadow'), 0o400);
  }
  return { repo, dir, image, cache: await makeCache() };
}

async function run(image: Image, cache: ContentCache, request: PlanRequest, opts: ExecuteOptions = {}) {
  const p = await plan(image, request, null, { cache });
  await prepare(image, p, cache);
  return execute(image, p, cache, { accounts: { now: NOW }, ...opts });
}

const read = (image: Image, rel: string) => fs.readFile(path.join(image.root, rel), 'utf8');

describe('user and group actions', () => {
  it('create their entries in etc/passwd, etc/shadow and etc/group, before the files that they own', async () => {
    const { image, cache } = await setup();
    await run(image, cache, { install: ['mta'] });
    assert.equal(
      await read(image, 'etc/passwd'),
      PASSWD + 'smmsp:x:25:6:SendMail Submission:/var/spool:/bin/false\n' + 'svc:x:2:1:& User:/:\n',
    );
    assert.equal(await read(image, 'etc/shadow'), SHADOW + `smmsp:*LK*:${DAYS}::::::\n` + `svc:*LK*:${DAYS}::::::\n`);
    assert.equal(await read(image, 'etc/group'), GROUP + 'mail::6:svc\n');
    assert.equal((await fs.stat(path.join(image.root, 'etc/shadow'))).mode & 0o777, 0o400, 'shadow keeps its mode');
    if (root) {
      const q = await fs.stat(path.join(image.root, 'opt/mta/queue'));
      assert.deepEqual([q.uid, q.gid], [25, 6], 'owned by the user and group delivered in the same plan');
    }
  });

  it('update an entry in place, keeping the ageing fields an operator changed on disk', async () => {
    const { repo, dir, image, cache } = await setup();
    await run(image, cache, { install: ['mta'] });
    const shadow = path.join(image.root, 'etc/shadow');
    await fs.writeFile(shadow, (await read(image, 'etc/shadow')).replace(`smmsp:*LK*:${DAYS}:`, 'smmsp:*LK*:20000:7'));
    const next = ACTIONS.map((a) => a.replace('login-shell=/bin/false', 'login-shell=/usr/bin/nologin'));
    await publishTree(repo, { fmri: 'mta@2.0', dir, owner: 'smmsp', group: 'mail', actions: next });
    await run(image, cache, {});
    const passwd = (await read(image, 'etc/passwd')).split('\n');
    assert.equal(passwd[2], 'smmsp:x:25:6:SendMail Submission:/var/spool:/usr/bin/nologin', 'same place, new shell');
    // pkg(5) user.py merge: lastchg, min, ... are use_existing_attrs: what is on disk stays.
    assert.match(await read(image, 'etc/shadow'), /^smmsp:\*LK\*:20000:7:::::$/m);
  });

  it('remove their entries (and the user from group lists) when the package is removed', async () => {
    const { image, cache } = await setup();
    await run(image, cache, { install: ['mta'] });
    await run(image, cache, { remove: ['mta'] });
    assert.equal(await read(image, 'etc/passwd'), PASSWD);
    assert.equal(await read(image, 'etc/shadow'), SHADOW);
    assert.equal(await read(image, 'etc/group'), GROUP);
  });

  it('refuse a second package delivering the same user with other attributes, at plan time (pkg(5): inconsistent attributes)', async () => {
    // pkg5 imageplan.py __find_inconsistent_attrs: duplicate user/group actions must be identical.
    const { repo, image, cache } = await setup();
    await run(image, cache, { install: ['mta'] });
    await publishTree(repo, {
      fmri: 'dup@1.0',
      dir: await tempDir('empty'),
      actions: ['user username=smmsp uid=26 group=mail'],
    });
    const before = await snapshot(image.root);
    await assert.rejects(
      plan(image, { install: ['dup'] }, null, { cache }),
      isCode('CONFLICTING_ACTIONS', "user 'smmsp'", 'mta@1.0', 'dup@1.0', 'uid ("25" and "26")'),
    );
    assert.deepEqual(await snapshot(image.root), before, 'nothing changed');
    // The same user with the same attributes is no conflict.
    await publishTree(repo, {
      fmri: 'same@1.0',
      dir: await tempDir('empty'),
      actions: [ACTIONS[1]],
    });
    await run(image, cache, { install: ['same'] });
  });

  it('are rolled back with the rest of the execute', async () => {
    const { image, cache } = await setup();
    const before = await snapshot(image.root, ['var/pkg/history.jsonl']);
    let writes = 0;
    const failing = {
      ...realFs,
      // The last journalled write (state.json) fails: the account files were already rewritten.
      writeDurable: async (f: string, d: string | Buffer) => {
        if (f.includes('/journal/tmp/') && ++writes === 5) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        return realFs.writeDurable(f, d);
      },
    };
    await assert.rejects(run(image, cache, { install: ['mta'] }, { fs: failing }), /rolled back/);
    assert.equal(writes, 5, 'group, passwd, shadow, the manifest, then state.json');
    assert.deepEqual(await snapshot(image.root, ['var/pkg/history.jsonl']), before);
  });

  it('fail before any change when the image lacks an account file, naming the action and the file', async () => {
    // pkg(5) user.py: "User cannot be installed without user database files present."
    const { image, cache } = await setup({ shadow: false });
    const before = await snapshot(image.root, ['var/pkg/history.jsonl']);
    await assert.rejects(run(image, cache, { install: ['mta'] }), isCode('BAD_IMAGE', 'user smmsp', 'etc/shadow'));
    assert.deepEqual(await snapshot(image.root, ['var/pkg/history.jsonl']), before);
  });
});
