import * as path from 'path';
import { audit } from '../image/audit';
import { ImageError } from '../model/errors';
import { Image } from '../image/image';
import { attachChild, detachChild, listChildren } from '../image/linked';
import { publisherCheck } from '../stages/publisher-check';
import { parseCommandArgs, stringList } from './args';
import { Command } from './command';
import { imageRoot, rootFlag } from './image-commands';


export const attachLinked: Command = {
  summary: 'attach a child image (zone) to a parent image',
  usage: 'attach-linked -R <parent root> <zone:name> <child root>',
  async run(argv) {
    const { values, args } = parseCommandArgs(argv, rootFlag, ['name', 'child root']);
    const parent = await Image.open(imageRoot(values));
    await attachChild(parent, await Image.open(path.resolve(args[1])), args[0]);
    return 0;
  },
};

export const detachLinked: Command = {
  summary: 'detach a child image from its parent',
  usage: 'detach-linked -R <parent root> <zone:name>',
  async run(argv) {
    const { values, args } = parseCommandArgs(argv, rootFlag, ['name']);
    await detachChild(await Image.open(imageRoot(values)), args[0]);
    return 0;
  },
};

export const listLinked: Command = {
  summary: 'list the child images of a parent',
  usage: 'list-linked -R <parent root>',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, rootFlag, []);
    const parent = await Image.open(imageRoot(values));
    io.stdout.write('NAME\tPATH\n');
    for (const c of listChildren(parent)) io.stdout.write(`${c.name}\t${c.path}\n`);
    return 0;
  },
};

/** pkg(5)'s audit-linked -a: every child, synced or diverged; exit 52 when any diverged. */
export const auditLinked: Command = {
  summary: 'check that children are in step with their parent (synced / diverged)',
  usage: 'audit-linked -R <parent root>',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, rootFlag, []);
    const parent = await Image.open(imageRoot(values));
    let diverged = 0;
    for (const c of listChildren(parent)) {
      const r = await audit(parent, await Image.open(c.path));
      if (r.status === 'diverged') diverged++;
      io.stdout.write(`${c.name}\t${r.status}\n`);
      for (const d of r.diverged) io.stdout.write(`  ${d.fmri}: ${d.problem}\n`);
    }
    return diverged ? 52 : 0;
  },
};

export const pubcheckLinked: Command = {
  summary: 'check children\'s publishers against the parent\'s (every child, or those named with -l)',
  usage: 'pubcheck-linked -R <parent root> [-l <zone:name>]...',
  help: [
    '  -l <name>   check only this child (repeatable); NOT_LINKED (exit 53) when the parent has no such child',
    'Prints "<name>\tok" or the mismatch per child; exit 1 when any child mismatches.',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { ...rootFlag, l: { type: 'string', short: 'l', multiple: true } }, []);
    const parent = await Image.open(imageRoot(values));
    const children = listChildren(parent);
    const only = stringList(values, 'l');
    for (const name of only) {
      if (!children.some((c) => c.name === name)) {
        throw new ImageError('NOT_LINKED', `Image ${parent.root} has no child named ${JSON.stringify(name)}; attached children: ${children.map((c) => c.name).join(', ') || '(none)'}`, { name });
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
};
