import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes of an update run, so `temporal workflow list --query` finds the
 * runs of a host or the failed ones. They must be registered on the server (the project's dev
 * servers do it at start-up; see README for `temporal operator search-attribute create`).
 */
export const LINKED_IMAGE_PARENT = defineSearchAttributeKey('LinkedImageParent', SearchAttributeType.KEYWORD);
/** running stage (`publisher-check`, `plan`, `prepare`, `execute`), then the result status. */
export const LINKED_IMAGE_STATUS = defineSearchAttributeKey('LinkedImageStatus', SearchAttributeType.KEYWORD);
