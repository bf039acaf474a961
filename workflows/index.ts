// The worker bundles this file: workflow functions and the message definitions clients share.
export { auditLinkedImages } from './audit-linked-images';
export { progressQuery, updateLinkedImages } from './update-linked-images';
