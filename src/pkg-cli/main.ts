import { Command as CommanderCommand } from 'commander';
import { isImageError } from '../model/errors';
import { exitQuietlyOnClosedPipe } from '../command-line/closed-pipe';
import { parseCommandLine } from '../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../command-line/usage-error';
import { CliIo, Command } from './command';
import { list, publish, publishManifestCommand, repoAddPublisher, repoCreate } from './repo-commands';
import { serve } from './serve-command';
import {
  history,
  imageCreate,
  install,
  installed,
  publisherList,
  recoverCommand,
  setPublisher,
  uninstall,
  update,
} from './image-commands';
import { changeFacet, facetList } from './facet-commands';
import { mediatorList, setMediator } from './mediator-commands';
import { attachLinked, auditLinked, detachLinked, listLinked, pubcheckLinked } from './linked-commands';
import { syncLinked } from './sync-commands';
import { setProperty, unsetProperty } from './property-commands';

/**
 * Every `pkg` subcommand by name. Add more by importing a Command and listing it here;
 * `--help` and error reporting come from `main` for all of them.
 */
export const commands: Record<string, Command> = {
  'repo-create': repoCreate,
  'repo-add-publisher': repoAddPublisher,
  publish,
  'publish-manifest': publishManifestCommand,
  list,
  serve,
  'image-create': imageCreate,
  'set-publisher': setPublisher,
  publisher: publisherList,
  'set-property': setProperty,
  'unset-property': unsetProperty,
  installed,
  install,
  update,
  uninstall,
  recover: recoverCommand,
  history,
  facet: facetList,
  'change-facet': changeFacet,
  mediator: mediatorList,
  'set-mediator': setMediator,
  'attach-linked': attachLinked,
  'detach-linked': detachLinked,
  'list-linked': listLinked,
  'audit-linked': auditLinked,
  'pubcheck-linked': pubcheckLinked,
  'sync-linked': syncLinked,
};

/** Runs one command line; resolves with the exit code (pkg(5)'s: 2 for bad usage). */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(overview());
    return name === undefined ? USAGE_EXIT_CODE : 0;
  }
  const cmd = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    io.stderr.write(`pkg: unknown command '${name}'\n\n${overview()}`);
    return USAGE_EXIT_CODE;
  }
  const usage = `Usage: pkg ${name} ${cmd.usage}\n`;
  try {
    const parsed = parseCommandLine(
      cmd.define(
        new CommanderCommand(`pkg ${name}`)
          .description(cmd.summary)
          .usage(cmd.usage)
          .helpOption('-h, --help', 'this text'),
      ),
      rest,
    );
    if (parsed.help !== null) {
      io.stdout.write(parsed.help);
      return 0;
    }
    return await cmd.run(parsed.opts, parsed.args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`pkg ${name}: ${e.message}\n${usage}`);
      return USAGE_EXIT_CODE;
    }
    if (isImageError(e)) {
      io.stderr.write(`pkg: ${e.code}: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr.write(`pkg: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

function overview(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return `Usage: pkg <command> [options]   (pkg <command> --help for details)\n\nCommands:\n${lines.join('\n')}\n`;
}

/** Runs `argv` as a process's whole command line: sets process.exitCode from main; a rejection (a bug) is printed whole, exit 1. */
export function runAsProcess(argv: string[]): void {
  exitQuietlyOnClosedPipe();
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      // main maps every failure it knows to an exit code; anything else is a bug: show it whole.
      console.error(e);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) {
  // `npm run pkg -- ...` runs in the project directory; relative paths mean where the user typed them.
  if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  runAsProcess(process.argv.slice(2));
}
