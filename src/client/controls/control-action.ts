/**
 * What `npm run control -- <workflow ID> <verb> [args]` asks of the run: each verb and its
 * arguments as the Update to execute (src/contract/controls.ts). Pure: no I/O.
 */
import { STAGES } from '../../contract/activity-ids';
import {
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  retryChildUpdate,
  setConcurrencyUpdate,
  skipChildUpdate,
} from '../../contract/controls';
import { UsageError } from '../../command-line/usage-error';
import { anyInteger } from '../../command-line/value-parsers';

/** The options of `npm run control`: each goes with one verb. */
export interface ControlOptions {
  stage?: string;
  digest?: string;
  reason?: string;
}

/** One verb as an Update to execute (`show`: the query); `approve` without a digest is resolved once connected. */
export type Action =
  { kind: 'update'; name: string; args: unknown[] } | { kind: 'approve'; digest: string | null } | { kind: 'show' };

/**
 * The action of `verb` with its arguments and options.
 * @throws UsageError for an unknown verb, a missing or extra argument, or an option the verb does not take.
 */
export function controlAction(verb: string, args: string[], o: ControlOptions): Action {
  const takes: Record<string, [number, (keyof ControlOptions)[]]> = {
    pause: [0, []],
    resume: [0, []],
    concurrency: [1, ['stage']],
    skip: [1, []],
    retry: [1, []],
    approve: [0, ['digest']],
    reject: [0, ['reason']],
    show: [0, []],
  };
  const spec = takes[verb];
  if (!spec) throw new UsageError(`unknown verb '${verb}'; expected one of ${Object.keys(takes).join(', ')}`);
  const [count, options] = spec;
  if (args.length !== count)
    throw new UsageError(
      count === 0
        ? `${verb} takes no argument, got '${args.join(' ')}'`
        : `${verb} takes ${verb === 'concurrency' ? 'a cap N' : 'a child name like zone:z1'}, got ${args.length ? `'${args.join(' ')}'` : 'nothing'}`,
    );
  for (const k of ['stage', 'digest', 'reason'] as const)
    if (o[k] !== undefined && !options.includes(k)) throw new UsageError(`--${k} does not go with ${verb}`);
  switch (verb) {
    case 'pause':
      return { kind: 'update', name: pauseUpdate.name, args: [] };
    case 'resume':
      return { kind: 'update', name: resumeUpdate.name, args: [] };
    case 'concurrency': {
      let n: number;
      try {
        n = anyInteger(args[0]);
      } catch {
        throw new UsageError(`concurrency: '${args[0]}' is not an integer (<= 0: no limit)`);
      }
      if (o.stage === undefined) return { kind: 'update', name: setConcurrencyUpdate.name, args: [{ concurrency: n }] };
      if (!(STAGES as readonly string[]).includes(o.stage))
        throw new UsageError(`--stage: unknown stage '${o.stage}'; expected one of ${STAGES.join(', ')}`);
      return { kind: 'update', name: setConcurrencyUpdate.name, args: [{ stages: { [o.stage]: n } }] };
    }
    case 'skip':
      return { kind: 'update', name: skipChildUpdate.name, args: [{ child: args[0] }] };
    case 'retry':
      return { kind: 'update', name: retryChildUpdate.name, args: [{ child: args[0] }] };
    case 'approve':
      return { kind: 'approve', digest: o.digest ?? null };
    case 'reject':
      return { kind: 'update', name: rejectUpdate.name, args: [o.reason !== undefined ? { reason: o.reason } : {}] };
    default:
      return { kind: 'show' };
  }
}
