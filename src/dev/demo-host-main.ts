/**
 * `npm run demo-host -- <dir> [--zones N] [--packages P]`: builds a demo host under `dir` (a
 * repository on disk, a parent image and N zones with version 1.0 installed, 1.1 published), so
 * that an update has work to do: to try approval, the controls or the live view on a host of
 * your own size, after `npm run demo` has updated its own. Zones are cloned from the first (as
 * bench:scale's hosts), which the image model cannot tell from installed ones.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { exitQuietlyOnClosedPipe } from '../command-line/closed-pipe';
import { parseCommandLine } from '../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../command-line/usage-error';
import { integerIn, nonEmpty } from '../command-line/value-parsers';
import { buildDemoHost } from './demo-host';

/** The command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function demoHostCommand(): Command {
  return new Command('npm run demo-host --')
    .usage('<dir> [--zones N] [--packages P]')
    .description('Builds a demo host under <dir> (which must not exist or be empty) with 1.1 to update to.')
    .argument('<dir>', 'where the host goes: repo/, parent/, zones/z<i>/root, cache/', nonEmpty)
    .option('--zones <N>', 'zones (1 to 10000)', integerIn(1, 10_000), 8)
    .option(
      '--packages <P>',
      "packages per image: 5 (the demo's) or any other count of small synthetic ones (1 to 1000)",
      integerIn(1, 1000),
      5,
    )
    .helpOption('-h, --help', 'this text');
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine<{ zones: number; packages: number }>(demoHostCommand(), argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\nRun "npm run demo-host -- --help" for the options.`);
    return USAGE_EXIT_CODE;
  }
  if (parsed.help !== null) {
    process.stdout.write(parsed.help);
    return 0;
  }
  // npm runs scripts in the project's directory; a relative <dir> means the caller's (INIT_CWD).
  const dir = path.resolve(process.env.INIT_CWD ?? process.cwd(), parsed.args[0]);
  const entries = await fs.readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : null));
  if (entries === null || entries.length > 0) {
    console.error(`${dir}: expected a directory that does not exist or is empty`);
    return 1;
  }
  const { zones, packages } = parsed.opts;
  const host = await buildDemoHost(dir, zones, (l) => console.log(l), { packages, zones: 'clone' });
  console.log(
    `Demo host at ${dir}: parent ${host.parent}, ${host.children.length} zones, content cache ${host.cacheDir}`,
  );
  console.log('Update it with the dev server and a worker of this machine running (two other terminals):');
  console.log('  npm run server');
  console.log(`  npm run worker -- --cache ${host.cacheDir}`);
  console.log(`  npm run update -- ${host.parent} -r -C 8`);
  return 0;
}

exitQuietlyOnClosedPipe();
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    // An image-model or file-system error (it has a code) says what failed where; anything else is a bug.
    const coded = typeof (e as { code?: unknown })?.code === 'string';
    console.error(`demo-host: ${coded ? (e as Error).message : ((e as Error)?.stack ?? e)}`);
    process.exitCode = 1;
  },
);
