import { ContentCache } from './content-cache';
import { eachLimited } from '../model/each-limited';
import { ImageError, ioError } from '../model/errors';
import type { PublisherConfig } from '../image/image';
import { OriginPool } from '../origins/origin-pool';
import { lockPartial } from './partial-lock';
import { writeToCache } from './cache-writer';
import { appendPartial, ContentNeed, partialSize, readFrame, verifyBuffer } from './receive-content';

export interface FetchProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface FetchResult extends FetchProgress {
  /** Files and compressed bytes this call actually downloaded (the rest were cached or fetched by another caller). */
  fetchedFiles: number;
  fetchedBytes: number;
}

export interface FetchOptions {
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
}

/** Files at least this large are fetched alone, with Range resume; smaller ones travel in batches. */
const LARGE = 512 * 1024;
const BATCH_FILES = 500;
const BATCH_BYTES = 8 * 1024 * 1024;
const PARALLEL = 4;
/** Verified small files handed to the writer thread per message. */
const WRITE_BATCH = 64;

/**
 * Brings every needed content file into the cache: files already there (verified when they
 * entered) are not fetched again, small files come many to a request, large ones alone and
 * resumable. Progress counts compressed bytes and files, cached ones as already done.
 */
export async function fetchContent(
  cache: ContentCache,
  needs: ContentNeed[],
  pubs: PublisherConfig[],
  origins: OriginPool,
  opts: FetchOptions = {},
): Promise<FetchResult> {
  const unique = [...new Map(needs.map((n) => [n.hash, n])).values()];
  const present = await cache.presentFiles(unique.map((n) => n.hash));
  const cached = unique.map((n) => present.has(n.hash));
  const p: FetchResult = {
    bytesDone: 0,
    bytesTotal: 0,
    filesDone: 0,
    filesTotal: unique.length,
    fetchedFiles: 0,
    fetchedBytes: 0,
  };
  for (const n of unique) p.bytesTotal += n.csize;
  unique.forEach((n, i) => {
    if (cached[i]) {
      p.bytesDone += n.csize;
      p.filesDone++;
    }
  });
  const report = () =>
    opts.onProgress?.({
      bytesDone: p.bytesDone,
      bytesTotal: p.bytesTotal,
      filesDone: p.filesDone,
      filesTotal: p.filesTotal,
    });
  report();

  const mine: ContentNeed[] = [];
  const settles = new Map<string, (err?: unknown) => void>();
  const waits: Promise<void>[] = [];
  for (const [i, n] of unique.entries()) {
    if (cached[i]) continue;
    const c = cache.claim(n.hash);
    if (c.mine) {
      mine.push(n);
      settles.set(n.hash, c.settle);
    } else {
      waits.push(
        c.wait.then(() => {
          p.bytesDone += n.csize;
          p.filesDone++;
          report();
        }),
      );
    }
  }
  const pubOf = (name: string) => {
    const pub = pubs.find((x) => x.name === name);
    if (!pub)
      throw new ImageError('BAD_PLAN', `Content needs publisher '${name}', which the image does not configure`, {
        publisher: name,
      });
    return pub;
  };
  const admitted = (n: ContentNeed, fetchedHere = true) => {
    p.filesDone++;
    if (fetchedHere) p.fetchedFiles++;
    settles.get(n.hash)!();
    settles.delete(n.hash);
    report();
  };
  const onBytes = (k: number) => {
    p.bytesDone += k;
    p.fetchedBytes += k;
    report();
  };

  const jobs: (() => Promise<void>)[] = [];
  const large = mine.filter((n) => n.csize >= LARGE);
  const small = mine.filter((n) => n.csize < LARGE);
  for (const n of large) {
    jobs.push(async () => {
      const pub = pubOf(n.publisher);
      const release = await lockPartial(cache, n.hash, opts.signal);
      if (release === null) {
        // Another process on this host fetched it meanwhile.
        p.bytesDone += n.csize;
        return admitted(n, false);
      }
      try {
        await origins.withOrigin(pub, async (o) => {
          const have = await partialSize(cache, n.hash);
          p.bytesDone += have; // resumed bytes were fetched by an earlier attempt
          const opened = await o.openFile(pub.name, n.hash, have, opts.signal);
          if (opened.offset !== have) p.bytesDone -= have - opened.offset;
          await appendPartial(cache, n, opened, onBytes);
        });
      } finally {
        await release();
      }
      admitted(n);
    });
  }
  for (const batch of batches(small)) {
    jobs.push(async () => {
      const pub = pubOf(batch[0].publisher);
      await origins.withOrigin(pub, async (o) => {
        // On a retry through another origin, only what is still missing is asked for.
        const rest = batch.filter((n) => settles.has(n.hash));
        if (rest.length === 0) return;
        const byHash = new Map(rest.map((n) => [n.hash, n]));
        // Frames arrive one after another on one response; each small file is verified here
        // and written by the cache writer thread, WRITE_BATCH at a time, while the next frames
        // are read. A file counts as admitted once it is in place.
        const writes: Promise<void>[] = [];
        let queue: { n: ContentNeed; data: Buffer }[] = [];
        const flush = () => {
          const q = queue;
          queue = [];
          const w = writeToCache(
            cache.staging('file'),
            q.map((x) => ({ dest: cache.filePath(x.n.hash), data: x.data })),
          ).then(() => q.forEach((x) => admitted(x.n)));
          w.catch(() => undefined); // settled below; not an unhandled rejection meanwhile
          writes.push(w);
        };
        try {
          for await (const f of o.openFiles(
            pub.name,
            rest.map((n) => n.hash),
            opts.signal,
          )) {
            const n = byHash.get(f.hash);
            if (!n)
              throw new ImageError('BAD_REPOSITORY', `Origin sent content ${f.hash}, which was not asked for`, {
                hash: f.hash,
              });
            let gz = f.data;
            if (gz) onBytes(gz.length);
            else gz = await readFrame(f.stream, onBytes);
            queue.push({ n, data: verifyBuffer(n, gz) });
            if (queue.length >= WRITE_BATCH) flush();
          }
          if (queue.length) flush();
        } finally {
          const settled = await Promise.allSettled(writes);
          const bad = settled.find((x) => x.status === 'rejected');
          if (bad)
            throw ioError('cannot write to the content cache', cache.root, (bad as PromiseRejectedResult).reason);
        }
      });
    });
  }
  try {
    // Once the signal is aborted no further job starts; the running ones are awaited.
    await eachLimited(jobs, PARALLEL, async (job) => {
      if (opts.signal?.aborted) throw new ImageError('CANCELLED', 'Download cancelled', {});
      await job();
    });
    await Promise.all(waits);
  } finally {
    const err = new ImageError(
      'REPOSITORY_UNAVAILABLE',
      'The download of this file was abandoned by the prepare that owned it',
      {},
    );
    for (const settle of settles.values()) settle(err);
  }
  report();
  return p;
}

function batches(small: ContentNeed[]): ContentNeed[][] {
  const byPub = new Map<string, ContentNeed[]>();
  for (const n of small) {
    let list = byPub.get(n.publisher);
    if (!list) byPub.set(n.publisher, (list = []));
    list.push(n);
  }
  const out: ContentNeed[][] = [];
  for (const list of byPub.values()) {
    let cur: ContentNeed[] = [];
    let bytes = 0;
    for (const n of list) {
      if (cur.length >= BATCH_FILES || (cur.length > 0 && bytes + n.csize > BATCH_BYTES)) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(n);
      bytes += n.csize;
    }
    if (cur.length) out.push(cur);
  }
  return out;
}
