/**
 * Which half of a host's work a Worker does; LinkedImagesPlugin tells them apart by the Worker's
 * task queue, the way the worker-specific-task-queues pattern assigns work.
 * - `workflows`: the shared queue (`linked-images` by default): workflow tasks of every run, and the
 *   legacy activities of runs started before host queues (README "Upgrading workers while runs are in flight").
 * - `host-activities`: this host's queue (`linked-images@<host>`): every activity that touches this
 *   host's images or content cache; no workflows.
 */
export type LinkedImagesWorkerRole = 'workflows' | 'host-activities';
