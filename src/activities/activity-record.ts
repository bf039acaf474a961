import { appendFileSync } from 'fs';

export interface ActivityRecordLine {
  stage: string;
  name: string;
  event: 'start' | 'end' | 'fail';
  at: number;
  pid: number;
  attempt: number;
  workflowId: string;
  /** The task queue the activity came from (a host's own queue, or the shared one for legacy runs). */
  taskQueue?: string;
}

/**
 * An append-only record of every activity start and end, one JSON line each, written by the
 * activities themselves: tests count concurrency and repeated planning from it, not from logs.
 * Each line is one small O_APPEND write, so lines from concurrent activities never interleave.
 */
export class ActivityRecord {
  constructor(readonly file: string) {}

  write(line: ActivityRecordLine): void {
    appendFileSync(this.file, JSON.stringify(line) + '\n');
  }
}
