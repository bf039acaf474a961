import { ImageError } from '../model/errors';
import { Image, PublisherConfig } from '../image/image';

/** What pkg(5) compares for one publisher: its name and whether it is sticky. */
export interface PublisherSummary {
  name: string;
  sticky: boolean;
}

/** The image property that says the image reaches its publishers through the system repository. */
export const USE_SYSTEM_REPO = 'use-system-repo';

/**
 * pkg(5)'s linked-image publisher check (LinkedImage.pubcheck): the child's enabled
 * publishers, in rank order, must start with exactly the parent's enabled publishers (same
 * names, same order, same stickiness); the child may have more, ranked lower. Disabled
 * publishers, and publishers with the `nochild` property, do not count on either side; origins
 * are never compared, so a child may reach the same publisher through a different mirror or a
 * proxy. A child whose image property `use-system-repo` is true is not checked at all (pkg(5):
 * its publishers come from the parent's system repository).
 * Throws PUBLISHER_MISMATCH with pkg(5)'s message listing both sides.
 */
export function publisherCheck(parent: Image, child: Image): void {
  if (usesSystemRepository(child)) return;
  checkPublishers(parent.publishers(), child.publishers(), child.config().linked?.name ?? child.root);
}

/** Whether `image` has the image property `use-system-repo` set to true (pkg(5) accepts any case of "true"). */
export function usesSystemRepository(image: Image): boolean {
  return (image.config().properties[USE_SYSTEM_REPO] ?? '').toLowerCase() === 'true';
}

/** The same check on plain publisher lists; `childName` only labels the message. */
export function checkPublishers(
  parentPubs: readonly PublisherConfig[],
  childPubs: readonly PublisherConfig[],
  childName = 'the child image',
): void {
  const parent = enabledSummary(parentPubs);
  const child = enabledSummary(childPubs);
  const ok =
    child.length >= parent.length && parent.every((p, i) => p.name === child[i].name && p.sticky === child[i].sticky);
  if (ok) return;
  throw new ImageError('PUBLISHER_MISMATCH', publisherMismatchMessage(childName, parent, child), {
    name: childName,
    parent,
    child,
  });
}

/** The publishers the check compares, in rank order: enabled ones without `nochild` (pkg(5)'s get_pubs). */
export function enabledSummary(pubs: readonly PublisherConfig[]): PublisherSummary[] {
  return pubs.filter((p) => p.enabled && !p.nochild).map((p) => ({ name: p.name, sticky: p.sticky }));
}

/** Worded as pkg(5)'s linked_pub_error so operators recognise it. */
export function publisherMismatchMessage(
  childName: string,
  parent: readonly PublisherSummary[],
  child: readonly PublisherSummary[],
): string {
  const list = (pubs: readonly PublisherSummary[]) =>
    pubs.map((p, i) => `    PUBLISHER ${i}: ${p.name}${p.sticky ? '' : ' (non-sticky)'}`).join('\n') || '    (none)';
  return (
    `Invalid child image publisher configuration for ${childName}. Child image publisher configuration must be a superset of the parent image publisher configuration. ` +
    'Please update the child publisher configuration to match the parent. If the child image is a zone this can be done automatically by detaching and attaching the zone.\n' +
    '\n' +
    `The parent image has the following enabled publishers:\n${list(parent)}\n` +
    `The child image has the following enabled publishers:\n${list(child)}`
  );
}
