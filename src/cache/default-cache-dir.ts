import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The host-wide content cache: shared by every image on the host (and by the `pkg` command line
 * and the worker), so a file is fetched once per host. `$LINKED_IMAGES_CACHE`, else
 * `$XDG_CACHE_HOME/linked-images`, else `~/.cache/linked-images`.
 */
export function defaultCacheDir(): string {
  return (
    process.env.LINKED_IMAGES_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'linked-images')
  );
}
