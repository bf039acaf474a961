import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { isExpectedSdkMessage } from '../../src/worker/log-format';

/**
 * The SDK's WARN logger minus the project's expected SDK messages (log-format.ts) and two kinds of expected warnings: "Activity failed" with a
 * non-retryable ApplicationFailure and "Workflow failed" with an ApplicationFailure (a deliberate
 * outcome such as InvalidInput). The failure tests provoke dozens of those on purpose and assert
 * them from results and histories; their stack dumps would bury real warnings.
 */
export class QuietLogger implements Logger {
  private readonly base = new DefaultLogger('WARN');

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (isExpectedSdkMessage(message)) return;
    const error = meta?.error as { nonRetryable?: unknown; name?: unknown; stack?: unknown } | undefined;
    if (message === 'Activity failed' && error?.nonRetryable === true) return;
    // Errors logged from the workflow sandbox arrive without their class; only the stack tells.
    if (
      message === 'Workflow failed' &&
      (error?.name === 'ApplicationFailure' || String(error?.stack).startsWith('ApplicationFailure:'))
    )
      return;
    this.base.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
