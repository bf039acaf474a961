import { Image } from '../src/image/image';
import { startDepot, type Depot } from '../src/repository';
import type { DemoHost } from '../src/dev/demo-host';
import { CuttingProxy } from '../test/helpers/cutting-proxy';

/** A host's repository served over HTTP, reached by every image of the host through a proxy that can slow the link. */
export interface ProxiedDepot {
  depot: Depot;
  /** Set `proxy.bytesPerSecond` to slow responses down (null: full speed). */
  proxy: CuttingProxy;
  /** Compressed content bytes the depot has sent so far (file and filelist response bodies). */
  contentBytes(): number;
  /** Stops proxy and depot (the host's files stay). */
  close(): Promise<void>;
}

/**
 * Serves `host.repo` with the project's depot (src/depot/depot.ts startDepot) behind a
 * CuttingProxy and points the publishers of the parent and of every child at the proxy, as
 * test/crash/harness.ts crashHost does: content then comes over HTTP, the depot counts what
 * it sends, and the link can be slowed so that a kill lands in the middle of a download.
 */
export async function startProxiedDepot(host: DemoHost): Promise<ProxiedDepot> {
  const depot = await startDepot(host.repo);
  const proxy = await new CuttingProxy(depot.port).start();
  for (const root of [host.parent, ...host.children.map((c) => c.path)]) {
    const img = await Image.open(root);
    await img.setPublishers(img.publishers().map((p) => ({ ...p, origins: [proxy.url] })));
  }
  return {
    depot,
    proxy,
    contentBytes: () => servedContentBytes(depot),
    async close() {
      await proxy.close();
      await depot.close();
    },
  };
}

/**
 * Compressed content bytes `depot` has sent: the bodies of its file and filelist responses
 * (interrupted ones with what got out). Throws when its request log (bounded) has dropped
 * entries, since the sum would then be short.
 */
export function servedContentBytes(depot: Depot): number {
  const { log, requests } = depot.stats;
  if (log.length < requests)
    throw new Error(
      `The depot's request log kept ${log.length} of ${requests} requests: content bytes cannot be summed`,
    );
  return log.filter((l) => /\/(file|filelist)\/0\//.test(l.path)).reduce((n, l) => n + l.bytes, 0);
}
