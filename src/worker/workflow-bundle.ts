import { fork } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * Bundles workflows/ (webpack, as Worker.create would) in a short-lived child process and returns
 * the bundle file for `workflowBundle: { codePath }`. Bundling inside the worker left about 100 MB
 * of webpack behind in its heap for good, and V8 then let the heap grow further: a 1,000-zone
 * update peaked at 620 MB of RSS, against 415 MB with the bundle built elsewhere.
 * The file is `<tmpdir>/linked-images-workflows-<pid>.js`, removed when this process exits.
 * Rejects with the bundler's message when bundling fails (e.g. a Node built-in imported by a workflow).
 */
export async function bundleWorkflowsInChildProcess(): Promise<{ codePath: string }> {
  const codePath = path.join(os.tmpdir(), `linked-images-workflows-${process.pid}.js`);
  const child = fork(require.resolve('./workflow-bundle-child'), [codePath], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`Bundling the workflows failed (exit ${code}): ${stderr.trim().slice(-2000)}`);
  process.once('exit', () => {
    try {
      require('fs').rmSync(codePath, { force: true });
    } catch {
      // best effort: a temp file
    }
  });
  await fs.access(codePath);
  return { codePath };
}
