import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planLines } from '../src/activities/plan-lines';
import type { Plan } from '../src/stages/plan';

/** A plan as the plan activity returns it; only the fields planLines reads matter here. */
function planWith(changes: Plan['changes'], heldBack?: Plan['heldBack'], heldBackMore?: number): Plan {
  return {
    changes,
    sizes: { add: 1, update: 2, remove: 0, downloadBytes: 300 },
    ...(heldBack ? { heldBack } : {}),
    ...(heldBackMore ? { heldBackMore } : {}),
  } as unknown as Plan;
}

const held = (stem: string) => ({
  stem,
  version: '1.0:20261125T120000Z',
  newest: '2.0:20261126T120000Z',
  reason: 'incorporated by pkg://test/entire@1.0',
});

describe('planLines (the plan summary kept in the history)', () => {
  it('says why packages stay below the newest version, also when there is nothing to do', () => {
    const lines = planLines(planWith([], [held('web/nginx')]));
    assert.deepEqual(lines, [
      'No updates available for this image.',
      'Held back below the newest version: 1',
      '  web/nginx stays at 1.0, newest 2.0: incorporated by pkg://test/entire@1.0',
    ]);
  });

  it('keeps the held-back lines bounded and counts the rest, after the changes', () => {
    const change = { stem: 'a', from: 'pkg://t/a@1.0', to: 'pkg://t/a@1.1', manifest: 'x' };
    const lines = planLines(planWith([change], ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map(held), 14));
    assert.equal(lines[0], 'Packages to update: 1');
    assert.ok(lines.includes('  a 1.0 -> 1.1'));
    assert.ok(lines.includes('Held back below the newest version: 20'));
    assert.equal(lines.filter((l) => l.includes(' stays at ')).length, 5);
    assert.equal(lines.at(-1), '  ... and 15 more');
  });

  it('has no held-back lines when nothing is held back', () => {
    assert.deepEqual(planLines(planWith([])), ['No updates available for this image.']);
  });
});
