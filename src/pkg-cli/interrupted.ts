import { ContentCache } from '../cache/content-cache';
import { Image } from '../image/image';
import { interruptedExecute, settleInterruptedExecute } from '../stages/interrupted-execute';
import { CliIo } from './command';

/** The one-line notice for an interrupted execute in `root`: what it is and the two ways out. */
export function interruptedNotice(root: string, plan: string): string {
  return (
    `an execute was interrupted${plan ? ` (plan ${plan.slice(0, 12)})` : ''}; ` +
    `\`pkg update -R ${root}\` rolls it back and plans again, \`pkg recover -R ${root}\` only rolls it back`
  );
}

/**
 * For commands that only read an image: writes `pkg: <label>: <notice>` to stderr when an
 * execute was interrupted in `root` (label: the root unless given, e.g. a child's name).
 * Resolves with whether it was.
 */
export async function warnIfInterrupted(root: string, io: CliIo, label: string = root): Promise<boolean> {
  const plan = await interruptedExecute(root);
  if (plan === null) return false;
  io.stderr.write(`pkg: ${label}: ${interruptedNotice(root, plan)}\n`);
  return true;
}

/**
 * Before a command that changes `image` plans it: settles an interrupted execute as `pkg
 * recover` does (rolled back; completed if it had passed its commit point) and says so on
 * stdout. Planning on top of a half-applied execute fails (state.json may name a manifest the
 * execute had already moved away: BAD_IMAGE), so this comes first. Nothing when there is none.
 * Throws what recover throws (LOCKED while another command holds the image, I/O errors).
 */
export async function settleInterrupted(image: Image, cache: ContentCache, io: CliIo): Promise<void> {
  const { outcome } = await settleInterruptedExecute(image, cache);
  if (outcome === 'rolled-back') io.stdout.write(`${image.root}: an interrupted execute was rolled back first\n`);
  else if (outcome === 'completed')
    io.stdout.write(`${image.root}: an interrupted execute had committed; it was finished first\n`);
}
