/**
 * How pkg(5) names and records linked images, shared by the image model, the workflow input and
 * the activities (Node-free, so workflow code may import it).
 */

/**
 * A linked image's name: `zone:<name>` or `system:<name>`, as pkg(5) names them (the `zone`
 * plugin names children after their zone, `system` is the generic plugin of `pkg attach-linked`).
 */
export const LINK_NAME_RE = /^(zone|system):[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A child image as its parent records it: its link name and the absolute path of its root. */
export interface ChildRef {
  /** The link name (LINK_NAME_RE), e.g. `zone:z1`. */
  name: string;
  /** The absolute path of the child image's root directory. */
  path: string;
}
