import { Worker } from 'worker_threads';

export interface CacheWrite {
  dest: string;
  data: Buffer;
}

// Plain JavaScript run by the writer thread: writes each file into the staging directory and
// renames it into place, making directories once (and again if one vanished: the cache was cleared).
const WRITER = `
const { parentPort } = require('worker_threads');
const fs = require('fs');
const path = require('path');
const dirs = new Set();
let n = 0;
function ensureDir(dir) {
  if (!dirs.has(dir)) { fs.mkdirSync(dir, { recursive: true }); dirs.add(dir); }
}
function writeOne(staging, dest, data) {
  for (let attempt = 0; ; attempt++) {
    ensureDir(staging);
    ensureDir(path.dirname(dest));
    const tmp = path.join(staging, '.tmp.' + process.pid + '.w' + (++n));
    try {
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, dest);
      return;
    } catch (e) {
      try { fs.rmSync(tmp, { force: true }); } catch {}
      if (e.code !== 'ENOENT' || attempt > 0) throw e;
      dirs.clear();
    }
  }
}
parentPort.on('message', ({ id, staging, buf, items }) => {
  const all = Buffer.from(buf);
  for (const { dest, start, end } of items) {
    try {
      writeOne(staging, dest, all.subarray(start, end));
    } catch (e) {
      parentPort.postMessage({ id, error: { dest, code: e.code, message: e.message } });
      return;
    }
  }
  parentPort.postMessage({ id });
});
`;

let worker: Worker | null = null;
let nextId = 0;
const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

function writer(): Worker {
  if (worker) return worker;
  // Plain JavaScript: none of this process's preloads (ts-node) are needed, nor resolvable from every cwd.
  const w = new Worker(WRITER, { eval: true, execArgv: [] });
  w.unref(); // an idle writer never keeps the process alive (ref'd while batches are pending)
  w.on('message', (m: { id: number; error?: { dest: string; code?: string; message: string } }) => {
    const p = waiting.get(m.id);
    waiting.delete(m.id);
    if (waiting.size === 0) w.unref();
    if (!p) return;
    if (m.error)
      p.reject(Object.assign(new Error(`${m.error.message} (writing ${m.error.dest})`), { code: m.error.code }));
    else p.resolve();
  });
  const fail = (e: Error) => {
    worker = null;
    for (const p of waiting.values()) p.reject(e);
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the cache writer thread exited (code ${code})`)));
  worker = w;
  return w;
}

/**
 * Writes verified content into the cache on one writer thread, a batch per message. Creating
 * tens of thousands of small files is the bulk of a prepare: on the event loop they ran one
 * after another, and through the thread pool each file cost four hand-offs; here the event
 * loop keeps receiving and verifying while the files are written. Each file is written in
 * `staging` (on the same file system) and renamed into place, so no reader ever sees part of
 * one. One thread renaming out of a small staging directory never waits on another for it, and
 * the create there cost less than one beside the destination in a fan-out directory of
 * hundreds (35 against 41 µs a file here). Resolves when every file of the batch is in place;
 * rejects with the first failure (files before it are in place).
 */
export function writeToCache(staging: string, items: CacheWrite[]): Promise<void> {
  if (items.length === 0) return Promise.resolve();
  // One buffer per batch, moved (not cloned) to the thread. Posting each Buffer would clone its
  // whole backing store: 16 KiB (zlib's output chunk) or an 8 KiB pool slab for a 2 KiB file,
  // and on the event loop that external memory triggered full collections of a large heap.
  let total = 0;
  for (const it of items) total += it.data.length;
  const all = Buffer.allocUnsafeSlow(total);
  const placed: { dest: string; start: number; end: number }[] = [];
  let at = 0;
  for (const it of items) {
    it.data.copy(all, at);
    placed.push({ dest: it.dest, start: at, end: (at += it.data.length) });
  }
  const w = writer();
  const id = ++nextId;
  return new Promise<void>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.ref(); // the process must not end while a batch is being written
    w.postMessage({ id, staging, buf: all.buffer, items: placed }, [all.buffer]);
  });
}
