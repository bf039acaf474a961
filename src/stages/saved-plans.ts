import { promises as fs } from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../image/atomic-write';
import { ImageError, ioError } from '../model/errors';
import { Image, META_DIR } from '../image/image';
import { checkPlan, Plan } from './plan';

/** Where an image keeps its saved plans: `<root>/var/pkg/plans/<digest>.json`. */
export const PLANS_DIR = `${META_DIR}/plans`;

/** Saved plans not written or read for this long are removed by the next save (7 days, in ms). */
export const SAVED_PLAN_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

const DIGEST_RE = /^[0-9a-f]{64}$/;

/**
 * Saves a plan inside its image, named by its digest, as pkg(5)'s parallel-linked-images design
 * has the client "save an image plan to disk" so later stages load it instead of planning again.
 * The workflow keeps the plan in its history once and hands later stages only the digest; they
 * load the plan from here. The write is atomic and fsynced: once the plan activity has reported
 * the plan, a host crash cannot lose the file. Plans are immutable by name, so a late (zombie)
 * attempt of a plan activity cannot replace the plan another attempt reported.
 * Plans older than SAVED_PLAN_MAX_AGE_MS are swept on the way (they bind an old state token).
 * Raises IO_ERROR (retryable) when the file cannot be written.
 */
export async function savePlan(
  image: Image,
  p: Plan,
  opts: {
    /** @default Date.now() (ms): plans older than SAVED_PLAN_MAX_AGE_MS before it are swept */
    now?: number;
    /**
     * false: written atomically but not fsynced; the caller makes it durable before it reports
     * the plan (a lane flushes the file system once for all its plans, src/contract/lanes.ts).
     * @default true
     */
    fsync?: boolean;
  } = {},
): Promise<string> {
  const now = opts.now ?? Date.now();
  const dir = path.join(image.root, PLANS_DIR);
  const file = path.join(dir, `${p.digest}.json`);
  await fs.mkdir(dir, { recursive: true }).catch((e) => {
    throw ioError('Cannot create', dir, e);
  });
  await writeFileAtomic(file, JSON.stringify(p), { fsync: opts.fsync ?? true });
  await sweep(dir, now).catch(() => undefined); // best effort: an old plan left behind is only disk space
  return file;
}

/**
 * The saved plan `digest` of `image`, checked as execute checks any plan (format, host, image,
 * digest of its contents) and matched against the digest asked for.
 * Raises BAD_PLAN when no such plan was saved or the file does not hold it, FOREIGN_PLAN when
 * it was made elsewhere, IO_ERROR when it cannot be read.
 */
export async function loadSavedPlan(image: Image, digest: string): Promise<Plan> {
  if (!DIGEST_RE.test(digest))
    throw new ImageError('BAD_PLAN', `Expected a plan digest (64 hex digits), got ${JSON.stringify(digest)}`, {
      digest,
    });
  const file = path.join(image.root, PLANS_DIR, `${digest}.json`);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ImageError(
        'BAD_PLAN',
        `No saved plan ${digest} in ${image.root} (${PLANS_DIR}): it was made for another image or removed; plan again`,
        { digest, image: image.root },
      );
    }
    throw ioError('Cannot read', file, e);
  }
  let p: Plan;
  try {
    p = JSON.parse(text) as Plan;
  } catch {
    throw new ImageError('BAD_PLAN', `Saved plan ${file} is not JSON: it was damaged; plan again`, { digest });
  }
  checkPlan(p, image);
  if (p.digest !== digest)
    throw new ImageError(
      'BAD_PLAN',
      `Saved plan ${file} holds plan ${p.digest}, not ${digest}: it was damaged; plan again`,
      { digest },
    );
  const now = new Date();
  await fs.utimes(file, now, now).catch(() => undefined); // a plan in use is not swept
  return p;
}

async function sweep(dir: string, now: number): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    const file = path.join(dir, name);
    const st = await fs.stat(file).catch(() => null);
    if (st && now - st.mtimeMs > SAVED_PLAN_MAX_AGE_MS) await fs.rm(file, { force: true });
  }
}
