import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes of an update run, so `temporal workflow list --query` finds the
 * runs of a host or the failed ones. They must be registered on the server (the project's dev
 * servers do it at start-up; see README "Running it on your own server" for
 * `temporal operator search-attribute create`).
 */
export const LINKED_IMAGE_PARENT = defineSearchAttributeKey('LinkedImageParent', SearchAttributeType.KEYWORD);
/** running stage (`publisher-check`, `plan`, `prepare`, `execute`), then the result status. */
export const LINKED_IMAGE_STATUS = defineSearchAttributeKey('LinkedImageStatus', SearchAttributeType.KEYWORD);

/** Every search attribute above: what a server must have registered (src/dev/dev-server.ts SEARCH_ATTRIBUTES). */
export const SEARCH_ATTRIBUTE_KEYS = [LINKED_IMAGE_PARENT, LINKED_IMAGE_STATUS] as const;
