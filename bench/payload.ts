/**
 * Seeded, deterministic file contents for the benchmark repository. Sizes and bytes depend
 * only on the seed, so the same parameters always publish the same repository (and the
 * cached one can be trusted to match).
 */

/** xorshift32: fast and good enough for test data; never cryptographic. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9; // xorshift has a fixed point at 0
  }

  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }

  /** In [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** In [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** Log-uniform in [lo, hi]: many small values, few large ones, like real file sizes. */
  logUniform(lo: number, hi: number): number {
    return Math.round(Math.exp(Math.log(lo) + this.float() * (Math.log(hi) - Math.log(lo))));
  }
}

/** Mixes several integers into one well-spread 32-bit seed (murmur3's finaliser per step). */
export function seedOf(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h ^= p >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * A file size as installed trees have them: ~95% between 100 B and 8 KB, ~4% up to 64 KB,
 * ~1% up to 200 KB (log-uniform within each band; mean ≈ 4 KB).
 */
export function fileSize(rng: Rng): number {
  const band = rng.float();
  if (band < 0.95) return rng.logUniform(100, 8 * 1024);
  if (band < 0.99) return rng.logUniform(8 * 1024, 64 * 1024);
  return rng.logUniform(64 * 1024, 200 * 1024);
}

const VOCABULARY: string[] = (() => {
  const rng = new Rng(0x5eed);
  const letters = 'etaoinshrdlucmfwypvbgkjqxz_';
  const words: string[] = [];
  for (let i = 0; i < 600; i++) {
    let w = '';
    const n = rng.int(2, 11);
    // Skewed towards frequent letters, as in source code and configuration text.
    for (let k = 0; k < n; k++) w += letters[Math.floor(rng.float() ** 2 * letters.length)];
    words.push(w);
  }
  return words;
})();

/** Text-like bytes (source, config, docs): gzip gets ~3×. */
export function textPayload(rng: Rng, size: number): Buffer {
  const parts: string[] = [];
  let len = 0;
  while (len < size) {
    if (parts.length > 8 && rng.float() < 0.3) {
      // Source and config text repeats itself: a recent line again.
      const again = parts[parts.length - rng.int(1, 8)];
      parts.push(again);
      len += again.length;
      continue;
    }
    const indent = ' '.repeat(2 * rng.int(0, 3));
    const words: string[] = [];
    const n = rng.int(3, 12);
    for (let k = 0; k < n; k++) words.push(VOCABULARY[Math.floor(rng.float() ** 3 * VOCABULARY.length)]);
    const line = `${indent}${words.join(rng.float() < 0.2 ? ', ' : ' ')}${rng.float() < 0.3 ? ';' : ''}\n`;
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size);
}

/** Binary-like bytes (executables, libraries): random runs, zero padding, small-valued tables; gzip gets ~1.5–2×. */
export function binaryPayload(rng: Rng, size: number): Buffer {
  const buf = Buffer.alloc(size); // zero-filled: zero runs need no writing
  let at = 0;
  while (at < size) {
    const pick = rng.float();
    const n = Math.min(size - at, rng.int(16, 512));
    if (pick < 0.2) {
      for (let k = 0; k < n; k++) buf[at + k] = rng.next() & 0xff;
    } else if (pick < 0.65) {
      // Instruction-like: a small alphabet of byte values.
      for (let k = 0; k < n; k++) buf[at + k] = 0x40 + (rng.next() & 0x07);
    } else if (pick < 0.85) {
      // A table of little-endian 32-bit offsets, increasing.
      let v = rng.next() & 0xffff;
      for (let k = 0; k + 4 <= n; k += 4) {
        v += rng.int(1, 64);
        buf.writeUInt32LE(v >>> 0, at + k);
      }
    } // else: a run of zeros (already zero).
    at += n;
  }
  return buf;
}
