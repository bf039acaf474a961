import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { readMemoryStatus, samplePeakRss } from '../bench/peak-rss';

const MB = 1024 * 1024;
/** A process that fills 96 MB, says so, and exits when its stdin closes. */
const HOG = `const b = Buffer.alloc(${96 * MB}, 1); process.stdout.write('ready ' + b.length + '\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;

describe('samplePeakRss', () => {
  it('reports the peak of a child that filled 96 MB, and keeps it after the child has exited', async () => {
    const child = spawn(process.execPath, ['-e', HOG], { stdio: ['pipe', 'pipe', 'inherit'] });
    const sampler = samplePeakRss(child.pid!, { intervalMs: 10 });
    await once(child.stdout!, 'data');
    // The interval sampler picks the peak up on one of its next readings.
    for (let i = 0; i < 500 && (sampler.current().hwmBytes ?? 0) < 96 * MB; i++)
      await new Promise((r) => setTimeout(r, 10));
    const exited = once(child, 'exit');
    child.stdin!.end();
    await exited;
    const r = sampler.stop();
    assert.ok(r.peakBytes! >= 96 * MB, `peak ${r.peakBytes}`);
    assert.equal(r.peakBytes, Math.max(r.hwmBytes!, r.maxRssBytes!));
    assert.ok(r.hwmBytes! >= r.maxRssBytes!, 'VmHWM is the peak of VmRSS');
    assert.ok(r.samples >= 1);
    assert.equal(r.exited, true);
    assert.deepEqual(sampler.stop(), r, 'stop is idempotent');
  });

  it("reads this process's own status, and nothing for a process that does not exist", () => {
    const own = readMemoryStatus(process.pid)!;
    assert.ok(own.rssBytes > 0 && own.hwmBytes >= own.rssBytes);
    assert.equal(readMemoryStatus(2 ** 30), null);
    assert.deepEqual(samplePeakRss(2 ** 30).stop(), {
      peakBytes: null,
      hwmBytes: null,
      maxRssBytes: null,
      samples: 0,
      exited: true,
    });
  });
});
