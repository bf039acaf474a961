import { promises as fsp } from 'fs';
import { ImageError, ioError } from '../model/errors';
import { isPublisherName } from '../model/fmri';
import { configPath, publishersDir } from './layout';

/** The on-disk format version written to `pkg5.repository`, as pkg(5) file repositories do. */
export const REPOSITORY_VERSION = 4;

export interface RepositoryConfig {
  version: number;
  /** `[publisher] prefix`: the publisher used when a package names none. */
  defaultPublisher: string | null;
}

export function formatRepositoryConfig(defaultPublisher: string): string {
  return `[repository]\nversion = ${REPOSITORY_VERSION}\n\n[publisher]\nprefix = ${defaultPublisher}\n`;
}

/** Parses the INI text of `pkg5.repository`; only the keys this model uses are kept. */
export function parseRepositoryConfig(text: string, source: string): RepositoryConfig {
  let section = '';
  const values: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq === -1)
      throw new ImageError('BAD_REPOSITORY', `${source}: expected 'key = value' or '[section]', got '${line}'`, {
        path: source,
      });
    values[`${section}.${line.slice(0, eq).trim()}`] = line.slice(eq + 1).trim();
  }
  const version = Number(values['repository.version']);
  if (!Number.isInteger(version)) {
    throw new ImageError(
      'BAD_REPOSITORY',
      `${source}: expected an integer 'version' in [repository], got '${values['repository.version'] ?? ''}'`,
      { path: source },
    );
  }
  const prefix = values['publisher.prefix'] || null;
  if (prefix !== null && !isPublisherName(prefix)) {
    throw new ImageError('BAD_REPOSITORY', `${source}: [publisher] prefix '${prefix}' is not a valid publisher name`, {
      path: source,
    });
  }
  return { version, defaultPublisher: prefix };
}

/** Reads `<root>/pkg5.repository`; BAD_REPOSITORY when root holds no repository. */
export async function readRepositoryConfig(root: string): Promise<RepositoryConfig> {
  const file = configPath(root);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ImageError(
        'BAD_REPOSITORY',
        `${root} is not a package repository: expected ${file} to exist (create one with repo-create)`,
        { path: root },
      );
    }
    throw ioError('Cannot read', file, e);
  }
  return parseRepositoryConfig(text, file);
}

/** Publisher names that have a directory under `<root>/publisher/`, sorted. */
export async function listPublishers(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(publishersDir(root));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('Cannot list', publishersDir(root), e);
  }
  return names.filter(isPublisherName).sort();
}
