import * as os from 'os';
import { Writable } from 'stream';
import { ChildRef, Image } from '../image/image';
import { childNamed, listChildren } from '../image/linked';
import { eachLimited } from '../model/each-limited';
import { ImageError, isImageError } from '../model/errors';
import { UsageError } from '../command-line/usage-error';
import { publisherCheck } from '../stages/publisher-check';
import { CliIo } from './command';
import { EXIT } from './exit-codes';

/** The image property that caps how many children one command works on at once (as PKG_CONCURRENCY). */
export const RECURSION_CONCURRENCY = 'recursion-concurrency';

/**
 * How many children a command works on at once, as pkg(5)'s `-C` / PKG_CONCURRENCY: `cli` (the
 * command's `-C N`) if given, else the environment's PKG_CONCURRENCY, else the parent image's
 * property `recursion-concurrency`, else 1 (pkg(5)'s default: one child after another). A value
 * of 0 or less means "the number of CPUs minus that many", at least 1, as pkg(1) says for -C.
 * Throws UsageError (exit 2, as a bad -C) for a PKG_CONCURRENCY that is not an integer, and
 * BAD_IMAGE naming `properties.recursion-concurrency` and the image for a property that is not
 * one (image.json is checked when read, so that one only comes from a config changed since).
 */
export function recursionConcurrency(
  parent: Image,
  cli?: number,
  env: NodeJS.ProcessEnv = process.env,
  cpus: number = os.cpus().length,
): number {
  const asInt = (v: string) => (/^\s*-?\d+\s*$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : null);
  let n = cli;
  const fromEnv = env.PKG_CONCURRENCY;
  if (n === undefined && fromEnv !== undefined && fromEnv !== '') {
    const v = asInt(fromEnv);
    if (v === null)
      throw new UsageError(
        `PKG_CONCURRENCY='${fromEnv}' is invalid. Expected an integer (0 or less: the number of CPUs minus that many).`,
      );
    n = v;
  }
  const property = parent.config().properties[RECURSION_CONCURRENCY];
  if (n === undefined && property !== undefined) {
    const v = asInt(property);
    if (v === null)
      throw new ImageError(
        'BAD_IMAGE',
        `Image ${parent.root}: field 'properties.${RECURSION_CONCURRENCY}': expected an integer, got ${JSON.stringify(property)}`,
        { root: parent.root, field: `properties.${RECURSION_CONCURRENCY}` },
      );
    n = v;
  }
  n ??= 1;
  return n > 0 ? n : Math.max(1, cpus + n);
}

/** The children named (repeatable `-l`), or every child when none is named; NO_SUCH_CHILD for a name the parent lacks. */
export function selectChildren(parent: Image, names: readonly string[] | undefined): ChildRef[] {
  if (!names || names.length === 0) return listChildren(parent);
  const refs = names.map((n) => childNamed(parent, n));
  return refs.filter((r, i) => refs.findIndex((x) => x.name === r.name) === i);
}

/** What one child's part of a multi-child command ended with. */
export interface ChildOutcome {
  child: ChildRef;
  /** Its pkg(5) exit code: 0, 4 (nothing to do), or the failure's code. */
  code: number;
}

/**
 * Runs `fn` for every child, at most `limit` at once (`<= 0`: all at once), and collects every
 * outcome: a child that fails (its root missing, a publisher mismatch, an unsatisfiable plan) is
 * reported on stderr as `pkg: <name>: <CODE>: <message>` with its exit code, and the others still
 * run, as pkg(5) collects the results of all children. Each child's output is written in one
 * piece when it ends, so that children run at once do not interleave their lines.
 */
export async function forEachChild(
  children: readonly ChildRef[],
  limit: number,
  io: CliIo,
  fn: (child: ChildRef, io: CliIo) => Promise<number>,
): Promise<ChildOutcome[]> {
  const outcomes: ChildOutcome[] = new Array(children.length);
  await eachLimited(children, limit, async (child, i) => {
    const out = collector();
    const err = collector();
    let code: number;
    try {
      code = await fn(child, { stdout: out.stream, stderr: err.stream });
    } catch (e) {
      if (isImageError(e)) {
        err.stream.write(`pkg: ${child.name}: ${e.code}: ${e.message}\n`);
        code = e.exitCode;
      } else {
        err.stream.write(`pkg: ${child.name}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
        code = EXIT.OOPS;
      }
    }
    io.stdout.write(out.text());
    io.stderr.write(err.text());
    outcomes[i] = { child, code };
  });
  return outcomes;
}

/**
 * pkg(5)'s check before an operation on a parent plans anything (api.py's plan start runs the
 * linked children's pubcheck): every child in `children` is checked against `parent`'s
 * publishers, all of them (collect-all, as pubcheck-linked), each mismatch printed on stderr as
 * `pkg: <name>: PUBLISHER_MISMATCH: <pkg(5)'s message>`. Resolves with the names of the children
 * that mismatch (empty: go on). A child that cannot even be opened is not counted here: the
 * child pass that follows reports it with its own error, as before.
 */
export async function childrenFailingPubcheck(
  parent: Image,
  children: readonly ChildRef[],
  io: CliIo,
): Promise<string[]> {
  // Only image.json is read, so every child is checked at once (as pubcheck-linked does).
  const outcomes = await forEachChild(children, 0, io, async (ref) => {
    let child: Image;
    try {
      child = await Image.open(ref.path);
    } catch {
      return EXIT.OK;
    }
    publisherCheck(parent, child);
    return EXIT.OK;
  });
  return outcomes.filter((o) => o.code !== EXIT.OK).map((o) => o.child.name);
}

/** A stream that keeps what is written to it (synchronously: write calls back at once). */
function collector(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}
