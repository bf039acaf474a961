import { promises as fs } from 'fs';
import * as path from 'path';
import { ImageError } from '../model/errors';
import { CONFIG_FILE, Image } from '../image/image';

interface Entry {
  /** `ino:size:mtimeMs` of image.json when it was read. */
  stamp: string;
  image: Image;
  paths: Map<string, string>;
}

/**
 * The parents this worker has opened, with their children by name, so that an activity for
 * `zone:z7` finds its root without parsing the parent's image.json again: with 5,000 zones that
 * file is ~0.4 MB and every one of the run's 20,000 activities needs it. An entry is used while
 * image.json keeps its inode, size and mtime (attach and detach rewrite it through a rename).
 */
export class ParentIndex {
  private readonly entries = new Map<string, Entry>();

  /** The parent image at `root`, reopened when its image.json changed. Raises what Image.open raises (BAD_IMAGE, IO_ERROR). */
  async parent(root: string): Promise<Image> {
    return (await this.entry(root)).image;
  }

  /**
   * The root of the child attached to `parent` as `name`.
   * Raises NO_SUCH_CHILD when the parent has no child of that name (any more); NOT_LINKED is pkg(5)'s "not a linked child".
   */
  async childRoot(parent: string, name: string): Promise<string> {
    const e = await this.entry(parent);
    const p = e.paths.get(name);
    if (p === undefined)
      throw new ImageError(
        'NO_SUCH_CHILD',
        `Image ${parent} has no child named ${name} (attached: ${[...e.paths.keys()].slice(0, 10).join(', ') || 'none'}${e.paths.size > 10 ? ', ...' : ''})`,
        { parent, name },
      );
    return p;
  }

  private async entry(root: string): Promise<Entry> {
    const abs = path.resolve(root);
    const stamp = await statStamp(abs);
    const known = this.entries.get(abs);
    if (known && stamp !== null && known.stamp === stamp) return known;
    const image = await Image.open(abs);
    const entry = { stamp: stamp ?? '', image, paths: new Map(image.config().children.map((c) => [c.name, c.path])) };
    this.entries.set(abs, entry);
    return entry;
  }
}

async function statStamp(root: string): Promise<string | null> {
  try {
    const st = await fs.stat(path.join(root, CONFIG_FILE));
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return null; // let Image.open say what is wrong
  }
}
