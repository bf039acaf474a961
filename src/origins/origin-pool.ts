import { ImageError } from '../model/errors';
import type { PublisherConfig } from '../image/image';
import { Catalog, openOrigin, RepositoryOrigin } from '../repository';

/**
 * Origins opened once and shared (their keep-alive sockets too) by plan and prepare.
 * A publisher may list several origins (mirrors); each call tries them in order and moves on
 * only when an origin is unreachable, never when it answers with an error of its own.
 */
export class OriginPool {
  private readonly open = new Map<string, RepositoryOrigin>();

  get(url: string): RepositoryOrigin {
    let o = this.open.get(url);
    if (!o) this.open.set(url, (o = openOrigin(url)));
    return o;
  }

  async withOrigin<T>(pub: PublisherConfig, fn: (o: RepositoryOrigin) => Promise<T>): Promise<T> {
    if (pub.origins.length === 0) {
      throw new ImageError(
        'BAD_IMAGE',
        `Publisher '${pub.name}' has no origins; expected at least one file:// or http:// URL`,
        { publisher: pub.name },
      );
    }
    let last: unknown;
    for (const url of pub.origins) {
      try {
        return await fn(this.get(url));
      } catch (e) {
        if (!(e instanceof ImageError && e.code === 'REPOSITORY_UNAVAILABLE')) throw e;
        last = e;
      }
    }
    throw last;
  }

  async catalog(pub: PublisherConfig): Promise<Catalog> {
    return this.withOrigin(pub, (o) => o.catalog(pub.name));
  }

  close(): void {
    for (const o of this.open.values()) o.close();
    this.open.clear();
  }
}

/** Runs `fn` with the given pool, or with a fresh one that is closed afterwards. */
export async function withPool<T>(pool: OriginPool | undefined, fn: (p: OriginPool) => Promise<T>): Promise<T> {
  if (pool) return fn(pool);
  const own = new OriginPool();
  try {
    return await fn(own);
  } finally {
    own.close();
  }
}
