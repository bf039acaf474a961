/**
 * The contract that workflows, activities and clients share: workflow names and signatures,
 * inputs (schemas), results, queries and signals, activity inputs and outputs, search attributes.
 * Node-free: workflow code imports it, and so may any client.
 */
export * from './activity-ids';
export * from './activity-types';
export * from './audit';
export * from './controls';
export * from './fleet';
export * from './input';
export * from './messages';
export * from './partition-budget';
export * from './run-types';
export * from './search-attributes';
export * from './workflows';
export { invalidInput } from './invalid-input';
