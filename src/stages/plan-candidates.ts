import { ImageError } from '../model/errors';
import { Fmri } from '../model/fmri';
import { Image, InstalledPackage, PublisherConfig } from '../image/image';
import { values } from '../model/manifest';
import { parseManifestOnce } from '../model/manifest-memo';
import { OriginPool } from '../origins/origin-pool';
import { Catalog, CatalogEntry } from '../repository';
import { Candidate } from '../model/solver';
import type { Facets } from '../model/facets';

export interface AvailableIndex {
  /** Versions of a stem the image may install, newest first. */
  candidates: (stem: string) => Candidate[];
  /** The installed package as a candidate (its dependencies from the catalog, or its manifest). */
  installedCandidate: (image: Image, p: InstalledPackage) => Promise<Candidate>;
}

/**
 * What each enabled publisher offers, as the image may use it. pkg(5)'s stickiness: a package
 * installed from a sticky publisher only moves within that publisher; otherwise the
 * highest-ranked publisher offering the stem supplies it. Versions whose variants exclude this
 * image are not candidates; obsolete and renamed versions are, flagged (the solver treats
 * them as pkg(5) does). Depend actions the image's `facets` exclude (e.g. an incorporation's
 * lock tagged `facet.version-lock.<stem>` when that facet is false) are left out of candidates.
 */
export async function availableIndex(
  image: Image,
  installed: ReadonlyMap<string, InstalledPackage>,
  origins: OriginPool,
  facets?: Facets,
): Promise<AvailableIndex> {
  const pubs = image.publishers().filter((p) => p.enabled);
  const catalogs = new Map<string, Catalog>();
  await Promise.all(pubs.map(async (p) => catalogs.set(p.name, await origins.catalog(p))));
  const variants = image.variants();
  const memo = new Map<string, Candidate[]>();

  const fromPublisher = (pub: PublisherConfig, stem: string): Candidate[] => {
    const entries = catalogs.get(pub.name)?.packages[stem] ?? [];
    return entries
      .filter((e) => variantsAllow(e, variants))
      .map((e) => toCandidate(pub.name, stem, e, facets))
      .sort((a, b) => b.fmri.version!.compare(a.fmri.version!));
  };

  const candidates = (stem: string): Candidate[] => {
    let c = memo.get(stem);
    if (c) return c;
    const inst = installed.get(stem);
    const instPub = inst && pubs.find((p) => p.name === inst.fmri.publisher);
    if (instPub && instPub.sticky) c = fromPublisher(instPub, stem);
    else c = pubs.map((p) => fromPublisher(p, stem)).find((list) => list.length > 0) ?? [];
    memo.set(stem, c);
    return c;
  };

  const installedCandidate = async (img: Image, p: InstalledPackage): Promise<Candidate> => {
    const entry = catalogs
      .get(p.fmri.publisher ?? '')
      ?.packages[p.fmri.name]?.find((e) => e.version === p.fmri.version!.toString());
    if (entry)
      return {
        ...toCandidate(p.fmri.publisher!, p.fmri.name, entry, facets),
        installed: true,
        manifest: p.manifestDigest,
      };
    const m = parseManifestOnce(await img.installedManifest(p.fmri.name), p.manifestDigest, `${p.fmri} (installed)`);
    const depends = m.actions
      .filter((a) => a.type === 'depend' && (!facets || facets.allowAction(a)))
      .map((a) => ({ type: values(a, 'type')[0], fmri: values(a, 'fmri') }));
    const flag = (name: string) =>
      m.actions.some((a) => a.type === 'set' && a.attrs.name === name && a.attrs.value === 'true');
    return {
      fmri: p.fmri,
      depends,
      manifest: p.manifestDigest,
      installed: true,
      ...(flag('pkg.obsolete') ? { obsolete: true } : {}),
      ...(flag('pkg.renamed') ? { renamed: true } : {}),
    };
  };

  return { candidates, installedCandidate };
}

function toCandidate(publisher: string, stem: string, e: CatalogEntry, facets?: Facets): Candidate {
  let fmri: Fmri;
  try {
    fmri = Fmri.parse(`pkg://${publisher}/${stem}@${e.version}`);
  } catch (err) {
    throw new ImageError(
      'BAD_REPOSITORY',
      `Catalog of '${publisher}' lists an invalid version for '${stem}': ${(err as Error).message}`,
      { publisher, stem },
    );
  }
  const depends = facets ? e.depends.filter((d) => !d.facets || facets.allowTags(d.facets)) : e.depends;
  return {
    fmri,
    depends,
    manifest: e.manifest,
    installed: false,
    ...(e.obsolete ? { obsolete: true } : {}),
    ...(e.renamed ? { renamed: true } : {}),
  };
}

function variantsAllow(e: CatalogEntry, variants: Readonly<Record<string, string>>): boolean {
  for (const [k, allowed] of Object.entries(e.variants ?? {})) {
    const have = variants[k];
    if (have !== undefined && !allowed.includes(have)) return false;
  }
  return true;
}
