import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { execute, ownersNotice } from '../src/stages/execute';
import { realFs } from '../src/image/fs-layer';
import { Image } from '../src/image/image';
import { plan } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';
import { publishTree } from '../src/repository';
import { ContentCache } from '../src/cache/content-cache';
import { isCode } from './helpers/expect-error';
import { fileUrl, makeCache, makeImage, makeRepo } from './helpers/fixture';
import { cleanup, snapshot, tempDir, writeTree } from './helpers/tree';

after(cleanup);

// These tests chown for real: they need root, which the project's test machines run as.
const root = process.geteuid?.() === 0;

/**
 * The image's own account files. Their ids differ from any host's (mail is 6 here, as on
 * illumos; Debian's is 8): a file that ends up with gid 6 was resolved through the image.
 */
const PASSWD = 'root:x:0:0:Super-User:/root:/bin/sh\ndaemon:x:1:1::/:\n';
const GROUP = 'root::0:\nother::1:\nbin::2:\nmail::6:\n';

async function imageWithAccounts(origin: string): Promise<Image> {
  const image = await makeImage(origin);
  await writeTree(image.root, { 'etc/passwd': PASSWD, 'etc/group': GROUP });
  return image;
}

/** Publishes `name@version` whose files and directories are all owned by `owner:group`. */
async function publishOwned(repo: string, fmri: string, owner: string, group: string): Promise<void> {
  const dir = await tempDir('tree');
  await writeTree(dir, { 'var/mail/': null, 'etc/mail/': null, 'etc/mail/sendmail.cf': { mode: 0o640, data: 'cf\n' } });
  await publishTree(repo, { fmri, dir, owner, group });
}

async function planned(image: Image, cache: ContentCache, install: string[]) {
  const p = await plan(image, { install }, null, { cache });
  await prepare(image, p, cache);
  return p;
}

describe('owner and group of file and dir actions', () => {
  it(
    'are resolved through the image etc/passwd and etc/group and applied as root (0640 daemon:mail)',
    { skip: !root },
    async () => {
      // pkg(5) generic.py get_fsobj_uid_gid: image.get_user_by_name / get_group_by_name, which
      // read <image root>/etc/passwd and etc/group (portable/os_unix.py load_passwd/load_groups).
      const repo = await makeRepo();
      await publishOwned(repo, 'mta@1.0', 'daemon', 'mail');
      const image = await imageWithAccounts(fileUrl(repo));
      const cache = await makeCache();
      const r = await execute(image, await planned(image, cache, ['mta']), cache);
      assert.equal(r.ownersNotApplied, undefined);
      const cf = await fs.stat(path.join(image.root, 'etc/mail/sendmail.cf'));
      assert.deepEqual([cf.uid, cf.gid, cf.mode & 0o7777], [1, 6, 0o640]);
      const dir = await fs.stat(path.join(image.root, 'var/mail'));
      assert.deepEqual([dir.uid, dir.gid, dir.mode & 0o7777], [1, 6, 0o755]);
    },
  );

  it('fails the execute before any change for a name the image does not know, naming the action, the name and the file', async () => {
    // pkg(5): "'<path>' cannot be installed; '<owner>' is an unknown or invalid user."
    const repo = await makeRepo();
    await publishOwned(repo, 'mta@1.0', 'postfix', 'mail');
    await publishOwned(repo, 'mta2@1.0', 'daemon', 'postdrop');
    for (const [pkg, kind, name, file] of [
      ['mta', 'owner', 'postfix', 'etc/passwd'],
      ['mta2', 'group', 'postdrop', 'etc/group'],
    ]) {
      const image = await imageWithAccounts(fileUrl(repo));
      const cache = await makeCache();
      const p = await planned(image, cache, [pkg]);
      const before = await snapshot(image.root, ['var/pkg/history.jsonl']);
      await assert.rejects(
        execute(image, p, cache),
        isCode('BAD_IMAGE', `${kind} '${name}'`, path.join(image.root, file), 'dir etc ', pkg),
      );
      assert.deepEqual(await snapshot(image.root, ['var/pkg/history.jsonl']), before);
    }
  });

  it('are not applied when not running as root, and the result says how many were not', async () => {
    const repo = await makeRepo();
    await publishOwned(repo, 'mta@1.0', 'daemon', 'mail');
    const image = await imageWithAccounts(fileUrl(repo));
    const cache = await makeCache();
    const me = await fs.stat(image.root);
    // uid: the identity execute acts as, injected (the test itself may well be root).
    const r = await execute(image, await planned(image, cache, ['mta']), cache, { uid: 1000 });
    // var, var/mail, etc, etc/mail, etc/mail/sendmail.cf: five actions name an owner.
    assert.equal(r.ownersNotApplied, 5);
    assert.equal(ownersNotice(r), 'not running as root: owners and groups not applied (5 actions)');
    const cf = await fs.stat(path.join(image.root, 'etc/mail/sendmail.cf'));
    assert.deepEqual([cf.uid, cf.gid], [me.uid, me.gid], 'left as created');
    assert.equal(cf.mode & 0o7777, 0o640);
  });

  it(
    'are looked up in the host files only when the image has none, as pkg(5) bootstraps',
    { skip: !root },
    async () => {
      // pkg(5) portable/os_unix.py get_user_by_name: "If the password file doesn't exist,
      // bootstrap ourselves from the current environment."
      const host = await tempDir('host');
      await writeTree(host, { 'etc/passwd': 'root:x:0:0::/:\nsmmsp:x:25:25::/:\n', 'etc/group': 'smmsp::25:\n' });
      const repo = await makeRepo();
      await publishOwned(repo, 'mta@1.0', 'smmsp', 'smmsp');
      const image = await makeImage(fileUrl(repo));
      const cache = await makeCache();
      await execute(image, await planned(image, cache, ['mta']), cache, { accounts: { hostRoot: host } });
      const cf = await fs.stat(path.join(image.root, 'etc/mail/sendmail.cf'));
      assert.deepEqual([cf.uid, cf.gid], [25, 25]);
    },
  );

  it('gives a directory its new owner on update, and its old one back on rollback', { skip: !root }, async () => {
    const repo = await makeRepo();
    await publishOwned(repo, 'mta@1.0', 'root', 'bin');
    const image = await imageWithAccounts(fileUrl(repo));
    const cache = await makeCache();
    await execute(image, await planned(image, cache, ['mta']), cache);
    const dir = path.join(image.root, 'var/mail');
    assert.deepEqual([(await fs.stat(dir)).uid, (await fs.stat(dir)).gid], [0, 2]);

    await publishOwned(repo, 'mta@2.0', 'daemon', 'mail');
    const p = await plan(image, {}, null, { cache });
    await prepare(image, p, cache);
    // The disk fails at the last step (state.json): everything before it is undone.
    let writes = 0;
    const failing = {
      ...realFs,
      writeDurable: async (f: string, d: string | Buffer) => {
        if (f.includes('/journal/tmp/') && ++writes >= 2)
          throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        return realFs.writeDurable(f, d);
      },
    };
    await assert.rejects(execute(image, p, cache, { fs: failing }), /rolled back/);
    assert.deepEqual([(await fs.stat(dir)).uid, (await fs.stat(dir)).gid], [0, 2], 'old owner back');
    await execute(image, p, cache);
    assert.deepEqual([(await fs.stat(dir)).uid, (await fs.stat(dir)).gid], [1, 6]);
  });
});
