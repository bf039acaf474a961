/**
 * The linked-images library (`require('linked-images')` or `import ... from 'linked-images'`).
 *
 * Worker side: LinkedImagesPlugin registers the workflows and activities on your own Workers
 * (createHostWorkers creates and runs a host's two Workers with it). Client side: the contract
 * (workflow names and signatures, the input schema, result types, queries and signals, search
 * attributes), registerSearchAttributes for your server, and the progress and audit readers
 * that `linked-images-update` and `linked-images-report` print from.
 */
export { LinkedImagesPlugin, type LinkedImagesPluginOptions } from './plugin/linked-images-plugin';
export type { LinkedImagesWorkerRole } from './plugin/worker-role';
export { LINKED_IMAGES_WORKFLOWS_PATH } from './plugin/workflows-path';
export { LINKED_IMAGES_SEARCH_ATTRIBUTES, registerSearchAttributes } from './plugin/search-attributes';
export { createHostWorkers, type HostWorkers, type HostWorkersOptions } from './worker/host-workers';
export type { ActivityDeps } from './activities/activity-context';
export type { FsLayer } from './image/fs-layer';

export * from './contract';

export { watchProgress, resultTable, type ProgressWatch } from './client/progress-printer';
export { describeRunFailure } from './client/run-failure';
export { readAuditReport, type ReadReportOptions } from './client/report/history-reader';
export { reportMarkdown } from './client/report/report-markdown';

/** A scratch host to try a run on: a local repository, a parent image and zones with an update to do. */
export { buildDemoHost, type DemoHost, type DemoHostOptions } from './dev/demo-host';
