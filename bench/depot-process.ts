import { ChildProcess, spawn } from 'child_process';
import { readFileSync } from 'fs';

export interface DepotProcess {
  url: string;
  pid: number;
  /** The depot's peak resident set (VmHWM, bytes) so far; null where /proc is not available. */
  peakRss(): number | null;
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * Runs `pkg serve <repo> --port 0` in its own Node process, as it runs for real: client and
 * depot then do not share an event loop, so neither's CPU time hides in the other's numbers.
 */
export async function startDepotProcess(projectRoot: string, repo: string): Promise<DepotProcess> {
  const child = spawn(
    process.execPath,
    ['--require', 'ts-node/register', 'src/pkg-cli/main.ts', 'serve', repo, '--port', '0'],
    {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('depot did not print its URL within 60 s')), 60_000);
    const onExit = (code: number | null, sig: string | null) =>
      fail(new Error(`depot exited early (code ${code}, signal ${sig})`));
    const onError = (e: Error) => fail(e);
    const onData = (d: string) => {
      out += d;
      const m = /serving .* at (http:\/\/\S+)/.exec(out);
      if (m) {
        done();
        resolve(m[1]);
      }
    };
    const done = () => {
      clearTimeout(timer);
      child.off('exit', onExit).off('error', onError);
      child.stdout!.off('data', onData);
    };
    const fail = (e: Error) => {
      done();
      child.kill('SIGKILL');
      reject(new Error(`${e.message}; stderr: ${stderr.trim() || '(empty)'}`));
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    peakRss: () => vmHwm(child.pid!),
    stop: () => stop(child).finally(() => process.off('exit', killOnExit)),
  };
}

function vmHwm(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
