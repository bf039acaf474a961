import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import { promisify } from 'util';

const run = promisify(execFile);

/** What the helper shell runs per line read: `sync -f` on the path, then its exit status on a line. */
const LOOP = 'while IFS= read -r p; do sync -f -- "$p" 2>/dev/null; echo $?; done';

/**
 * `sync -f <path>` (syncfs(2): flush the whole file system holding the path) through one
 * long-lived shell, started on first use. Spawning `sync` from the worker itself forks a process
 * of a few hundred MB: about 9 ms with the event loop blocked, once per execute, which stalled
 * every other activity and workflow task of the worker (a quarter of a 50-zone update's CPU).
 * The shell forks `sync` instead, a process of a few MB. Requests are answered in order.
 * A path with a newline, or a helper that cannot run, falls back to spawning `sync` directly.
 * Rejects with the errno-like error `sync` gives when it fails (exit status in `code`).
 */
export class SyncFsHelper {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly waiting: { resolve: () => void; reject: (e: Error) => void; path: string }[] = [];
  private buffered = '';

  async syncFs(path: string): Promise<void> {
    if (path.includes('\n')) return void (await run('sync', ['-f', path]));
    const child = this.start();
    if (!child) return void (await run('sync', ['-f', path]));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject, path });
      this.setRef(true);
      child.stdin.write(path + '\n');
    });
  }

  /**
   * Starts the helper shell now rather than at the first syncFs (a no-op when it runs). Spawning
   * blocks the event loop for several milliseconds; a worker does it before it takes any work.
   */
  prestart(): void {
    this.start();
  }

  private start(): ChildProcessWithoutNullStreams | null {
    if (this.child) return this.child;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn('sh', ['-c', LOOP], {
        stdio: ['pipe', 'pipe', 'ignore'] as never,
      }) as ChildProcessWithoutNullStreams;
    } catch {
      return null;
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.answer(chunk));
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = null;
      // Whatever was asked of a helper that died is done again the direct way.
      for (const w of this.waiting.splice(0))
        run('sync', ['-f', w.path]).then(
          () => w.resolve(),
          (e) => w.reject(e instanceof Error ? e : new Error(why)),
        );
    };
    child.on('error', (e) => gone(e.message));
    child.on('exit', (code) => gone(`sync helper exited (${code})`));
    child.stdin.on('error', () => undefined); // reported through 'exit'
    this.child = child;
    this.setRef(false);
    return child;
  }

  private answer(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const status = Number(this.buffered.slice(0, nl));
      this.buffered = this.buffered.slice(nl + 1);
      const w = this.waiting.shift();
      if (!w) continue;
      if (status === 0) w.resolve();
      else w.reject(Object.assign(new Error(`sync -f ${w.path} failed (exit ${status})`), { code: 'ESYNC' }));
    }
    if (this.waiting.length === 0) this.setRef(false);
  }

  /** The helper keeps the process alive only while a request waits for it. */
  private setRef(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout] as { ref?(): void; unref?(): void }[]) on ? h.ref?.() : h.unref?.();
  }
}

/**
 * A few helpers, each request going to the one with the fewest waiting: concurrent executes used
 * to run their `sync -f` at the same time, and one shell would queue them behind each other.
 */
export class SyncFsPool {
  private readonly helpers: { helper: SyncFsHelper; pending: number }[];

  constructor(size = 4) {
    this.helpers = Array.from({ length: size }, () => ({ helper: new SyncFsHelper(), pending: 0 }));
  }

  /** Starts every helper now (SyncFsHelper.prestart): a worker calls it before it polls. */
  prestart(): void {
    for (const h of this.helpers) h.helper.prestart();
  }

  async syncFs(path: string): Promise<void> {
    const h = this.helpers.reduce((a, b) => (b.pending < a.pending ? b : a));
    h.pending++;
    try {
      await h.helper.syncFs(path);
    } finally {
      h.pending--;
    }
  }
}

/** The helpers of this process (started on first use, or by createHostWorkers before its workers poll). */
export const syncFsHelper = new SyncFsPool();
