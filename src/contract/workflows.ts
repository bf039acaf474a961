/**
 * The workflow types this plugin registers, by name, with their signatures as clients see them.
 * Start a run without importing workflow code:
 *
 *     client.workflow.start<UpdateLinkedImagesWorkflow>(UPDATE_LINKED_IMAGES, { taskQueue: DEFAULT_TASK_QUEUE, workflowId, args: [input] })
 *
 * The names are part of every recorded history and of every operator's `temporal workflow start --type`.
 */
import type { AuditRequest, AuditRunResult } from './audit';
import type { UpdateRequest } from './input';
import type { UpdateResult } from './run-types';
import type { FleetRequest, FleetResult } from './fleet';

/** `temporal workflow start --type updateLinkedImages`: one update of a parent image and its children (pkg update -r). */
export const UPDATE_LINKED_IMAGES = 'updateLinkedImages';
/** `temporal workflow start --type auditLinkedImages`: pkg audit-linked -a. */
export const AUDIT_LINKED_IMAGES = 'auditLinkedImages';
/** `temporal workflow start --type updateFleet`: one update of many hosts in waves (README "Fleets"). */
export const UPDATE_FLEET = 'updateFleet';
/** A partition of a large run (started by updateLinkedImages as a child workflow; not started by users). */
export const UPDATE_CHILD_IMAGES = 'updateChildImages';

/** The task queue the workflows run on by default (activities run on each host's own queue). */
export const DEFAULT_TASK_QUEUE = 'linked-images';

/** The signature of `updateLinkedImages` as a client starts it. */
export type UpdateLinkedImagesWorkflow = (input: UpdateRequest) => Promise<UpdateResult>;
/** The signature of `auditLinkedImages` as a client starts it. */
export type AuditLinkedImagesWorkflow = (input: AuditRequest) => Promise<AuditRunResult>;
/** The signature of `updateFleet` as a client starts it. */
export type UpdateFleetWorkflow = (input: FleetRequest) => Promise<FleetResult>;
