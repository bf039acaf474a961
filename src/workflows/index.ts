// The worker bundles this file: workflow functions and the message definitions clients share.
export { auditLinkedImages } from './audit-linked-images';
export { updateLinkedImages } from './update-linked-images';
export { updateChildImages } from './update-child-images';
export { childrenQuery, progressQuery, partitionReportSignal, runStageSignal } from '../contract/messages';
export { updateFleet } from './update-fleet';
