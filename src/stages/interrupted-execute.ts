import { promises as fs } from 'fs';
import * as path from 'path';
import type { ContentCache } from '../cache/content-cache';
import type { Image } from '../image/image';
import { recover } from './execute';
import { Journal } from './journal';

/**
 * The plan digest of an execute that was interrupted in the image at `root` (a SIGKILL, a
 * crash, a host that went down: its journal's intent is still there), '' when the intent names
 * none, or null when there is none. Only reads: a torn intent (the execute died before its first
 * change) counts as none, as Journal.load decides.
 */
export async function interruptedExecute(root: string): Promise<string | null> {
  let raw: string;
  try {
    raw = await fs.readFile(path.join(Journal.path(root), 'intent.json'), 'utf8');
  } catch {
    return null;
  }
  try {
    const plan = (JSON.parse(raw) as { plan?: unknown }).plan;
    return typeof plan === 'string' ? plan : '';
  } catch {
    return null;
  }
}

/**
 * Before `image` is planned: settles an execute interrupted in it as `pkg recover` does (rolled
 * back; completed if it had passed its commit point), since planning on top of a half-applied
 * execute fails (state.json may name a manifest the execute had already moved to its journal:
 * BAD_IMAGE). Resolves with what it did and the interrupted plan's digest, `none` when there was
 * nothing to settle. Throws what recover throws (LOCKED while another execute holds the image:
 * retryable; IO_ERROR).
 */
export async function settleInterruptedExecute(
  image: Image,
  cache: ContentCache,
): Promise<{ outcome: 'none' | 'rolled-back' | 'completed'; plan: string }> {
  const plan = await interruptedExecute(image.root);
  if (plan === null) return { outcome: 'none', plan: '' };
  return { outcome: await recover(image, cache), plan };
}
