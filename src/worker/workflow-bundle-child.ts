/** The child process of bundleWorkflowsInChildProcess: bundles the plugin's workflows into the file named by argv[2]. */
import { promises as fs } from 'fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { LINKED_IMAGES_WORKFLOWS_PATH } from '../plugin/workflows-path';

async function main(out: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: LINKED_IMAGES_WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN', (e) => process.stderr.write(`${e.message}\n`)),
  });
  await fs.writeFile(out, code);
}

main(process.argv[2]).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
