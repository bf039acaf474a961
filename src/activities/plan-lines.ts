import { shortVersion } from '../model/fmri';
import type { Plan } from '../stages/plan';

/** At most this many package lines per plan: output is kept in workflow history, so it stays small. */
const MAX_LINES = 12;

/** pkg(5)-style summary lines of a plan: "Packages to update: 3", one line per change, and what is held back and why. */
export function planLines(p: Plan): string[] {
  if (p.changes.length === 0) return ['No updates available for this image.', ...heldBackLines(p)];
  const count = (k: (c: Plan['changes'][number]) => boolean) => p.changes.filter(k).length;
  const lines = [];
  const upd = count((c) => !!c.from && !!c.to),
    ins = count((c) => !c.from),
    rem = count((c) => !c.to);
  if (upd) lines.push(`Packages to update: ${upd}`);
  if (ins) lines.push(`Packages to install: ${ins}`);
  if (rem) lines.push(`Packages to remove: ${rem}`);
  lines.push(`Actions: +${p.sizes.add} ~${p.sizes.update} -${p.sizes.remove}; download ${p.sizes.downloadBytes} bytes`);
  for (const c of p.changes.slice(0, MAX_LINES))
    lines.push(`  ${c.stem} ${c.from ? shortVersion(c.from) : '-'} -> ${c.to ? shortVersion(c.to) : '-'}`);
  if (p.changes.length > MAX_LINES) lines.push(`  ... and ${p.changes.length - MAX_LINES} more`);
  return [...lines, ...heldBackLines(p)];
}

/** At most this many "why not newer" lines per plan (the plan itself keeps up to 20). */
const MAX_HELD_BACK_LINES = 5;

/** "Why not newer": the packages the plan leaves below the newest version and why, as `pkg update` prints them. */
function heldBackLines(p: Plan): string[] {
  const held = p.heldBack ?? [];
  if (held.length === 0) return [];
  const total = held.length + (p.heldBackMore ?? 0);
  const lines = [`Held back below the newest version: ${total}`];
  for (const h of held.slice(0, MAX_HELD_BACK_LINES))
    lines.push(
      `  ${h.stem} stays at ${shortVersion(`@${h.version}`)}, newest ${shortVersion(`@${h.newest}`)}: ${h.reason}`,
    );
  if (total > MAX_HELD_BACK_LINES) lines.push(`  ... and ${total - MAX_HELD_BACK_LINES} more`);
  return lines;
}
