import * as path from 'path';
import { audit } from '../image/audit';
import { ImageError } from '../model/errors';
import { Image } from '../image/image';
import { attachChild, detachChild, listChildren } from '../image/linked';
import { publisherCheck } from '../stages/publisher-check';
import { collect } from '../command-line/value-parsers';
import { rootOption } from './args';
import { defineCommand } from './command';

/** The options of a command on a parent image: `-R <image root>` only. */
interface ParentOptions {
  R: string;
}

export const attachLinked = defineCommand<ParentOptions>({
  summary: 'attach a child image (zone) to a parent image',
  usage: '-R <parent root> <zone:name> <child root>',
  define: (cmd) =>
    cmd
      .addOption(rootOption('the parent image'))
      .argument('<zone:name>', "the child's name, e.g. zone:z1")
      .argument('<child root>', 'the child image'),
  async run(opts, [name, childRoot]) {
    const parent = await Image.open(path.resolve(opts.R));
    await attachChild(parent, await Image.open(path.resolve(childRoot)), name);
    return 0;
  },
});

export const detachLinked = defineCommand<ParentOptions>({
  summary: 'detach a child image from its parent',
  usage: '-R <parent root> <zone:name>',
  define: (cmd) => cmd.addOption(rootOption('the parent image')).argument('<zone:name>', "the child's name"),
  async run(opts, [name]) {
    await detachChild(await Image.open(path.resolve(opts.R)), name);
    return 0;
  },
});

export const listLinked = defineCommand<ParentOptions>({
  summary: 'list the child images of a parent',
  usage: '-R <parent root>',
  define: (cmd) => cmd.addOption(rootOption('the parent image')),
  async run(opts, _args, io) {
    const parent = await Image.open(path.resolve(opts.R));
    io.stdout.write('NAME\tPATH\n');
    for (const c of listChildren(parent)) io.stdout.write(`${c.name}\t${c.path}\n`);
    return 0;
  },
});

/** pkg(5)'s audit-linked -a: every child, synced or diverged; exit 52 when any diverged. */
export const auditLinked = defineCommand<ParentOptions>({
  summary: 'check that children are in step with their parent (synced / diverged)',
  usage: '-R <parent root>',
  define: (cmd) => cmd.addOption(rootOption('the parent image')),
  async run(opts, _args, io) {
    const parent = await Image.open(path.resolve(opts.R));
    let diverged = 0;
    for (const c of listChildren(parent)) {
      const r = await audit(parent, await Image.open(c.path));
      if (r.status === 'diverged') diverged++;
      io.stdout.write(`${c.name}\t${r.status}\n`);
      for (const d of r.diverged) io.stdout.write(`  ${d.fmri}: ${d.problem}\n`);
    }
    return diverged ? 52 : 0;
  },
});

export const pubcheckLinked = defineCommand<ParentOptions & { l?: string[] }>({
  summary: "check children's publishers against the parent's (every child, or those named with -l)",
  usage: '-R <parent root> [-l <zone:name>]...',
  define: (cmd) =>
    cmd
      .addOption(rootOption('the parent image'))
      .option(
        '-l <zone:name>',
        'check only this child (repeatable); NOT_LINKED (exit 53) when the parent has no such child',
        collect,
      )
      .addHelpText('after', '\nPrints "<name>\tok" or the mismatch per child; exit 1 when any child mismatches.'),
  async run(opts, _args, io) {
    const parent = await Image.open(path.resolve(opts.R));
    const children = listChildren(parent);
    const only = opts.l ?? [];
    for (const name of only) {
      if (!children.some((c) => c.name === name)) {
        throw new ImageError(
          'NOT_LINKED',
          `Image ${parent.root} has no child named ${JSON.stringify(name)}; attached children: ${children.map((c) => c.name).join(', ') || '(none)'}`,
          { name },
        );
      }
    }
    let bad = 0;
    for (const c of only.length ? children.filter((x) => only.includes(x.name)) : children) {
      try {
        publisherCheck(parent, await Image.open(c.path));
        io.stdout.write(`${c.name}\tok\n`);
      } catch (e) {
        bad++;
        io.stdout.write(`${c.name}\t${(e as Error).message}\n`);
      }
    }
    return bad ? 1 : 0;
  },
});
