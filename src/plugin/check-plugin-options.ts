import { HOST_NAME } from '../contract/input';
import type { LinkedImagesPluginOptions } from './linked-images-plugin';

/**
 * Refuses LinkedImagesPlugin options that would fail later, or worse work wrongly: an empty
 * `cacheDir` (the content cache would land in the process's working directory), a host name that
 * cannot name a task queue, a non-integer or non-positive activity cap (the SDK would refuse it
 * only at Worker.create, in its own terms), a negative heartbeat interval or plan size.
 * Throws TypeError naming the option, what was expected and what it got; returns nothing.
 */
export function checkPluginOptions(opts: LinkedImagesPluginOptions): void {
  const problems: string[] = [];
  const got = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  const nonEmpty = (name: string, v: unknown, required: boolean) => {
    if (v === undefined && !required) return;
    if (typeof v !== 'string' || v.length === 0) problems.push(`${name}: expected a non-empty string, got ${got(v)}`);
  };
  const positiveInt = (name: string, v: unknown) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1))
      problems.push(`${name}: expected an integer >= 1, got ${got(v)}`);
  };
  nonEmpty('cacheDir', opts.cacheDir, true);
  nonEmpty('taskQueue', opts.taskQueue, false);
  nonEmpty('hostTaskQueue', opts.hostTaskQueue, false);
  nonEmpty('recordFile', opts.recordFile, false);
  if (opts.host !== undefined && (typeof opts.host !== 'string' || !HOST_NAME.test(opts.host)))
    problems.push(`host: expected a host name (letters, digits, . _ -), got ${got(opts.host)}`);
  positiveInt('maxActivities', opts.maxActivities);
  positiveInt('heartbeatMs', opts.heartbeatMs);
  positiveInt('maxPlanBytes', opts.maxPlanBytes);
  if (problems.length) throw new TypeError(`Invalid LinkedImagesPlugin options: ${problems.join('; ')}`);
}
