import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isImageError } from '../src/model/errors';
import { Image, PublisherConfig } from '../src/image/image';
import { attachChild } from '../src/image/linked';
import { checkPublishers, publisherCheck } from '../src/stages/publisher-check';

/** A publisher; `spec` is `name`, with '~' for non-sticky and '-' for disabled, e.g. 'p2~'. */
function pub(spec: string, origin = 'https://pkg.example.org/'): PublisherConfig {
  const name = spec.replace(/[~-]+$/, '');
  return { name, origins: [origin + name + '/'], sticky: !spec.includes('~'), enabled: !spec.endsWith('-') };
}
const pubs = (...specs: string[]) => specs.map((s) => pub(s));

function mismatch(parent: PublisherConfig[], child: PublisherConfig[], name = 'zone:z1') {
  try {
    checkPublishers(parent, child, name);
  } catch (e) {
    assert.ok(isImageError(e, 'PUBLISHER_MISMATCH'), String(e));
    return e;
  }
  assert.fail(`expected PUBLISHER_MISMATCH for parent ${JSON.stringify(parent)} and child ${JSON.stringify(child)}`);
}

// The cases of pkg(5)'s test_err_pubcheck (src/tests/api/t_linked_image.py), parent [p1, p2].
describe('publisher check', () => {
  const parent = pubs('p1', 'p2');

  it('accepts a child with the same publishers', () => {
    checkPublishers(parent, pubs('p1', 'p2'));
  });

  it("accepts extra child publishers ranked below the parent's", () => {
    checkPublishers(parent, pubs('p1', 'p2', 'p3'));
  });

  it("refuses a child missing one of the parent's publishers", () => {
    mismatch(parent, pubs('p1'));
  });

  it('refuses a child with the publishers in another order', () => {
    mismatch(parent, pubs('p2', 'p1'));
  });

  it("refuses a child whose publisher is non-sticky where the parent's is sticky", () => {
    mismatch(parent, pubs('p1', 'p2~'));
    mismatch(pubs('p1', 'p2~'), pubs('p1', 'p2'));
  });

  it("refuses an extra child publisher ranked above the parent's", () => {
    mismatch(parent, pubs('p3', 'p1', 'p2'));
  });

  it('ignores disabled publishers on both sides', () => {
    checkPublishers(parent, pubs('p3-', 'p1', 'p2'));
    checkPublishers(pubs('p1', 'p3-', 'p2'), pubs('p1', 'p2'));
    mismatch(parent, pubs('p1', 'p2-'));
  });

  it("does not require a parent publisher marked nochild in the child (pkg(5)'s nochild property)", () => {
    const noChild = { ...pub('p1'), nochild: true };
    checkPublishers([noChild, pub('p2')], pubs('p2'));
    // Unmarked, the same parent refuses that child.
    mismatch(pubs('p1', 'p2'), pubs('p2'));
  });

  it('never compares origins', () => {
    checkPublishers(parent, [pub('p1', 'http://mirror.local/'), pub('p2', 'file:///export/repo/')]);
  });

  it('accepts anything when the parent has no enabled publisher', () => {
    checkPublishers([], []);
    checkPublishers(pubs('p1-'), pubs('p9'));
  });

  it('lists both sides in the error exactly as pkg(5) does', () => {
    const e = mismatch(pubs('omnios', 'extra~'), [pub('extra'), pub('omnios-')]);
    assert.deepEqual(e.message.split('\n'), [
      'Invalid child image publisher configuration for zone:z1. Child image publisher configuration must be a superset of the parent image publisher configuration. Please update the child publisher configuration to match the parent. If the child image is a zone this can be done automatically by detaching and attaching the zone.',
      '',
      'The parent image has the following enabled publishers:',
      '    PUBLISHER 0: omnios',
      '    PUBLISHER 1: extra (non-sticky)',
      'The child image has the following enabled publishers:',
      '    PUBLISHER 0: extra',
    ]);
    assert.deepEqual(e.details, {
      name: 'zone:z1',
      parent: [
        { name: 'omnios', sticky: true },
        { name: 'extra', sticky: false },
      ],
      child: [{ name: 'extra', sticky: true }],
    });
    assert.equal(e.retryable, false);
  });
});

describe('publisherCheck on images', () => {
  let tmp: string;
  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'li-'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('names the child by its link name, or by its root when it is not linked', async () => {
    const parent = await Image.create(path.join(tmp, 'gz'), { publishers: pubs('p1', 'p2') });
    const child = await Image.create(path.join(tmp, 'z1'), { publishers: pubs('p1') });
    assert.throws(
      () => publisherCheck(parent, child),
      (e: Error) => isImageError(e, 'PUBLISHER_MISMATCH') && e.message.includes(`configuration for ${child.root}.`),
    );
    await attachChild(parent, child, 'zone:z1');
    assert.throws(
      () => publisherCheck(parent, child),
      (e: Error) => isImageError(e, 'PUBLISHER_MISMATCH') && e.message.includes('configuration for zone:z1.'),
    );
    await child.setPublishers(pubs('p1', 'p2', 'p3'));
    publisherCheck(parent, child);
  });

  it('skips the check for a child that uses the system repository (image property use-system-repo)', async () => {
    const parent = await Image.create(path.join(tmp, 'gz2'), { publishers: pubs('p1', 'p2') });
    const child = await Image.create(path.join(tmp, 'z2'), { publishers: pubs('p9') });
    await attachChild(parent, child, 'zone:z2');
    await child.reload();
    assert.throws(
      () => publisherCheck(parent, child),
      (e: Error) => isImageError(e, 'PUBLISHER_MISMATCH'),
    );
    await child.setProperty('use-system-repo', 'True');
    publisherCheck(parent, child);
    await child.setProperty('use-system-repo', 'false');
    assert.throws(
      () => publisherCheck(parent, child),
      (e: Error) => isImageError(e, 'PUBLISHER_MISMATCH'),
    );
  });

  it('keeps the nochild mark of a publisher through image.json, and refuses a non-boolean one', async () => {
    const img = await Image.create(path.join(tmp, 'nc'), { publishers: [{ ...pub('p1'), nochild: true }, pub('p2')] });
    const again = await Image.open(img.root);
    assert.deepEqual(
      again.publishers().map((p) => [p.name, p.nochild ?? false]),
      [
        ['p1', true],
        ['p2', false],
      ],
    );
    await assert.rejects(
      img.setPublishers([{ ...pub('p1'), nochild: 'yes' as unknown as boolean }]),
      (e: Error) => isImageError(e, 'BAD_REQUEST') && /publishers\[0\]\.nochild': expected a boolean/.test(e.message),
    );
  });
});
