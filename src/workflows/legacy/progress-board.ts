import { STAGES } from '../../contract/activity-ids';
import type { ChildState, Progress, StageCounts, StageName } from './types';

const LABEL: Record<StageName, string> = {
  'publisher-check': 'Startup',
  plan: 'Planning',
  prepare: 'Preparing',
  execute: 'Executing',
};

/** Who is where, per child and stage: the answer to the `progress` query and the UI's details line. */
export class ProgressBoard {
  private stage: Progress['stage'] = 'starting';
  private readonly states = new Map<string, { state: ChildState; stage: StageName | null }>();
  private readonly counts = Object.fromEntries(
    STAGES.map((s) => [s, { done: 0, working: 0, waiting: 0, failed: 0 }]),
  ) as Record<StageName, StageCounts>;

  constructor(children: string[]) {
    for (const c of children) this.states.set(c, { state: 'waiting', stage: null });
  }

  /** A new stage for these children; children not listed keep their state and take no part. */
  begin(stage: StageName, children: string[]): void {
    this.stage = stage;
    this.counts[stage] = { done: 0, working: 0, waiting: children.length, failed: 0 };
    for (const c of children) this.states.set(c, { state: 'waiting', stage });
  }

  set(child: string, state: ChildState): void {
    const cur = this.states.get(child);
    if (!cur || !cur.stage) return;
    const counts = this.counts[cur.stage];
    const bucket = (s: ChildState): keyof StageCounts | null =>
      s === 'working'
        ? 'working'
        : s === 'waiting'
          ? 'waiting'
          : s === 'failed'
            ? 'failed'
            : s === 'done' || s === 'nothing-to-do'
              ? 'done'
              : null;
    const from = bucket(cur.state),
      to = bucket(state);
    if (from) counts[from]--;
    if (to) counts[to]++;
    cur.state = state;
  }

  finish(): void {
    this.stage = 'finished';
  }

  snapshot(): Progress {
    const working = [...this.states].filter(([, s]) => s.state === 'working' && s.stage === this.stage).map(([n]) => n);
    return {
      stage: this.stage,
      stages: JSON.parse(JSON.stringify(this.counts)),
      working,
      children: Object.fromEntries([...this.states].map(([n, s]) => [n, { ...s }])),
      line: this.line(working),
    };
  }

  /** pkg(5)'s `Planning: Linked images: 3/8 done; 2 working: zone:z4 zone:z7`. */
  line(working: string[] = []): string {
    if (this.stage === 'starting') return 'Startup: Linked images: checking the parent image';
    if (this.stage === 'finished') return 'Finished processing linked images.';
    const c = this.counts[this.stage];
    const total = c.done + c.working + c.waiting + c.failed;
    const label =
      this.stage === 'publisher-check'
        ? 'Startup: Linked image publisher check'
        : `${LABEL[this.stage]}: Linked images`;
    return `${label}: ${c.done}/${total} done${c.failed ? `; ${c.failed} failed` : ''}; ${working.length} working${working.length ? ': ' + working.join(' ') : ''}`;
  }
}
