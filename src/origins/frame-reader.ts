import { Readable } from 'stream';
import { ImageError } from '../model/errors';

/** Longest acceptable frame header: 64 hex digits, a space and a decimal size. */
const MAX_HEADER = 100;
const CHUNK = 64 * 1024;

/**
 * Splits a filelist response (`<hash> <size>\n<size bytes>` per file) into one stream per
 * file, in the order asked. A body not yet received is a real stream pulling from the
 * response, so nothing is buffered beyond one network chunk; a body already received with its
 * header comes as `data` too. If the caller moves on before a body is
 * fully read, the rest of that body is read and dropped so the next header lines up.
 */
export interface Frame {
  hash: string;
  size: number;
  stream: Readable;
  /** The whole body, when it had already arrived with the header (then `stream` replays it). */
  data?: Buffer;
}

function bufferedFrame(hash: string, data: Buffer): Frame {
  let stream: Readable | null = null;
  return {
    hash,
    size: data.length,
    data,
    get stream() {
      return (stream ??= Readable.from([data], { objectMode: false }));
    },
  };
}

export async function* readFrames(src: Readable, hashes: readonly string[], what: string): AsyncGenerator<Frame> {
  const reader = new ChunkReader(src);
  let clean = false;
  try {
    for (const want of hashes) {
      const line = await reader.readLine(`${what}: frame header for ${want}`);
      const m = /^([0-9a-f]{64}) (0|[1-9][0-9]{0,15})$/.exec(line);
      if (!m)
        throw new ImageError(
          'BAD_REPOSITORY',
          `${what}: expected a frame header '<hash> <size>' for ${want}, got '${line.slice(0, 80)}'`,
          { hash: want },
        );
      if (m[1] !== want)
        throw new ImageError('BAD_REPOSITORY', `${what}: expected the frame for ${want}, got ${m[1]}`, {
          hash: want,
          got: m[1],
        });
      const size = Number(m[2]);
      const whole = reader.takeBuffered(size);
      if (whole) {
        // Already in memory (small files, most of a batch): no stream to set up per frame.
        yield bufferedFrame(want, whole);
        continue;
      }
      const body = new FrameBody(reader, size, `${what}: content ${want}`);
      yield { hash: want, size: body.size, stream: body.stream };
      await body.finish();
    }
    if ((await reader.take(1)) !== null)
      throw new ImageError('BAD_REPOSITORY', `${what}: unexpected data after the last frame`);
    clean = true;
  } finally {
    if (!clean) src.destroy();
  }
}

/** A buffered view of a byte stream with line and length reads. */
class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(src: Readable) {
    this.it = src[Symbol.asyncIterator]();
  }

  async readLine(what: string): Promise<string> {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl !== -1) {
        const line = this.buf.subarray(0, nl).toString('latin1');
        this.buf = this.buf.subarray(nl + 1);
        return line;
      }
      if (this.buf.length > MAX_HEADER)
        throw new ImageError('BAD_REPOSITORY', `${what}: header line longer than ${MAX_HEADER} bytes`);
      if (!(await this.fill())) {
        throw new ImageError('TRUNCATED_CONTENT', `${what}: the response ended before the frame header`, { what });
      }
    }
  }

  /** Exactly `n` bytes if that many are already buffered (without reading more), else null. */
  takeBuffered(n: number): Buffer | null {
    if (this.buf.length < n) return null;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Up to `max` bytes, or null at the end of the stream. */
  async take(max: number): Promise<Buffer | null> {
    if (this.buf.length === 0 && !(await this.fill())) return null;
    const n = Math.min(max, this.buf.length);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }
}

class FrameBody {
  readonly stream: Readable;
  /** Bytes of this frame not yet taken from the reader. */
  private remaining: number;
  /** The reader is not re-entrant: at most one take is in flight, and finish() waits for it. */
  private pending: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(
    private readonly reader: ChunkReader,
    readonly size: number,
    private readonly what: string,
  ) {
    this.remaining = size;
    const self = this;
    this.stream = new Readable({
      highWaterMark: CHUNK,
      read() {
        if (self.remaining === 0) {
          this.push(null);
          return;
        }
        self.pending = self
          .next()
          .then((chunk) => {
            this.push(chunk);
            if (self.remaining === 0) this.push(null);
          })
          .catch((e) => {
            self.failure = e;
            this.destroy(e as Error);
          })
          .finally(() => {
            self.pending = null;
          });
      },
    });
  }

  private async next(): Promise<Buffer> {
    const chunk = await this.reader.take(Math.min(this.remaining, CHUNK));
    if (chunk === null) {
      throw new ImageError(
        'TRUNCATED_CONTENT',
        `${this.what}: the response ended after ${this.size - this.remaining} of ${this.size} bytes`,
        {
          what: this.what,
          received: this.size - this.remaining,
          expected: this.size,
        },
      );
    }
    this.remaining -= chunk.length;
    return chunk;
  }

  /** Reads and drops what the consumer left unread; rethrows a failure the body stream hit. */
  async finish(): Promise<void> {
    if (this.pending) await this.pending;
    if (this.failure) throw this.failure;
    if (this.remaining > 0 && !this.stream.destroyed) this.stream.destroy();
    while (this.remaining > 0) await this.next();
  }
}
