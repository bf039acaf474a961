import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ActivityRecordLine } from '../src/activities/activity-record';
import { maxPlansPerChild, readActivityRecord } from '../bench/plans-per-child';
import { cleanup, tempDir } from './helpers/tree';

after(cleanup);

const line = (stage: string, name: string, event: ActivityRecordLine['event'], attempt = 1): ActivityRecordLine => ({
  stage,
  name,
  event,
  at: 0,
  pid: 1,
  attempt,
  workflowId: 'w',
});

describe('maxPlansPerChild', () => {
  it('counts plan starts of each child, every attempt, and gives the most; the parent and other stages do not count', () => {
    const lines = [
      line('plan', 'parent', 'start'),
      line('plan', 'parent', 'start', 2),
      line('plan', 'zone:z1', 'start'),
      line('plan', 'zone:z1', 'end'),
      line('plan', 'zone:z2', 'start'),
      line('prepare', 'zone:z2', 'start'),
      line('prepare', 'zone:z2', 'start', 2),
    ];
    assert.equal(maxPlansPerChild(lines), 1);
    assert.equal(maxPlansPerChild([...lines, line('plan', 'zone:z2', 'fail'), line('plan', 'zone:z2', 'start', 2)]), 2);
    assert.equal(maxPlansPerChild([line('plan', 'parent', 'start')]), 0);
  });
});

describe('readActivityRecord', () => {
  it('reads one JSON line per activity event, nothing for a record not written yet, and names a broken line', async () => {
    const dir = await tempDir('li-record');
    const file = path.join(dir, 'record.jsonl');
    assert.deepEqual(await readActivityRecord(file), []);
    await fs.writeFile(
      file,
      JSON.stringify(line('plan', 'zone:z1', 'start')) + '\n' + JSON.stringify(line('plan', 'zone:z1', 'end')) + '\n',
    );
    assert.deepEqual(
      (await readActivityRecord(file)).map((l) => l.event),
      ['start', 'end'],
    );
    await fs.appendFile(file, '{"stage":\n');
    await assert.rejects(
      readActivityRecord(file),
      /Expected a JSON line at line 3 of .*record\.jsonl, got "\{\\"stage\\":"/,
    );
  });
});
