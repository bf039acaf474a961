import { Image } from './image';
import { parseManifest, values } from '../model/manifest';
import { parentConstraintProblem } from '../model/parent-constraint';
import { installedState } from '../stages/parent-state';

export interface AuditResult {
  status: 'synced' | 'diverged';
  /** The child's parent-constrained packages that are out of step with the parent. */
  diverged: { fmri: string; problem: string }[];
}

/**
 * pkg(5)'s `audit-linked`: a child is `synced` when every installed package that carries
 * `depend type=parent` is satisfied by what the parent has installed now.
 */
export async function audit(parent: Image, child: Image): Promise<AuditResult> {
  const parentState = await installedState(parent);
  const diverged: AuditResult['diverged'] = [];
  const state = await child.readState();
  for (const [stem, p] of await child.installed()) {
    const m = parseManifest(await child.installedManifest(stem, state), `${p.fmri} (installed)`);
    for (const a of m.actions) {
      if (a.type !== 'depend' || values(a, 'type')[0] !== 'parent') continue;
      for (const f of values(a, 'fmri')) {
        const problem = parentConstraintProblem(p.fmri, f, parentState);
        if (problem) diverged.push({ fmri: p.fmri.toString(), problem });
      }
    }
  }
  return { status: diverged.length ? 'diverged' : 'synced', diverged };
}
