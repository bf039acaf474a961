import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { execute } from '../src/stages/execute';
import { realFs } from '../src/image/fs-layer';
import { Image } from '../src/image/image';
import { plan } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup, snapshot, tempDir } from './helpers/tree';

after(cleanup);

const CHILD = path.join(__dirname, 'helpers/execute-child.ts');

/** Starts execute in a child process that lets `copies` file copies through, and SIGKILLs it
 *  once the next copy hangs; resolves with the last progress line seen. */
function executeAndKill(
  root: string,
  cacheRoot: string,
  planFile: string,
  copies: number,
): Promise<{ killedAt: number; total: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--require', 'ts-node/register', CHILD, root, cacheRoot, planFile, String(copies)],
      { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let killed: { killedAt: number; total: number } | null = null;
    child.stdout.on('data', (d) => {
      out += d;
      if (!killed && out.includes('blocked ')) {
        const m = [...out.matchAll(/step (\d+)\/(\d+)/g)].pop();
        killed = { killedAt: m ? Number(m[1]) : 0, total: m ? Number(m[2]) : Infinity };
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && killed) resolve(killed);
      else reject(new Error(`child ended (${code ?? signal}) before it could be killed:\n${out}\n${err}`));
    });
  });
}

async function scenario(repo: string, root: string) {
  const image = await makeImage(fileUrl(repo), { root });
  const cache = await makeCache();
  await update(image, cache, { install: ['app@1.0'] });
  const p = await plan(image, {}, null, { cache });
  assert.equal(p.changes.length, 1, 'the update to app@2.0 has work to do');
  await prepare(image, p, cache);
  return { image, cache, p };
}

describe('execute after SIGKILL', () => {
  it('resumes a killed execute and ends byte-identical to an uninterrupted update', async () => {
    const repo = await makeRepo();
    const v1: Record<string, string | null> = {};
    const v2: Record<string, string | null> = {};
    for (let d = 0; d < 6; d++) {
      for (let i = 0; i < 25; i++) {
        v1[`d${d}/f${i}`] = `v1 ${d} ${i}`;
        v2[`d${d}/f${i}`] = `v2 ${d} ${i} `.repeat(i + 1);
        if (i % 3 === 0) v2[`n${d}/g${i}`] = `new ${d} ${i}`;
      }
    }
    v1['gone/x'] = 'removed in v2';
    await publishPkg(repo, 'app@1.0', v1);
    await publishPkg(repo, 'app@2.0', v2);

    const clean = await scenario(repo, path.join(await tempDir('clean'), 'root'));
    await execute(clean.image, clean.p, clean.cache);

    const writes = Object.keys(v2).length; // every v2 file is new or changed: one copy each
    for (const fraction of [0.1, 0.5, 0.9]) {
      const killed = await scenario(repo, path.join(await tempDir('killed'), 'root'));
      const planFile = path.join(await tempDir('plan'), 'plan.json');
      await fs.writeFile(planFile, JSON.stringify(killed.p));
      const at = await executeAndKill(killed.image.root, killed.cache.root, planFile, Math.floor(writes * fraction));
      assert.ok(at.killedAt < at.total, `killed at ${at.killedAt}/${at.total}, before the end`);
      assert.notDeepEqual(
        await snapshot(killed.image.root),
        await snapshot(clean.image.root),
        `half applied when killed at ${fraction}`,
      );
      await fs.access(path.join(killed.image.root, 'var/pkg/journal/intent.json'));
      await fs.access(path.join(killed.image.root, 'var/pkg/lock')); // left behind by the dead process

      // At 0.5 the host "rebooted": the done log is not trusted, every write is redone.
      const intentFile = path.join(killed.image.root, 'var/pkg/journal/intent.json');
      if (fraction === 0.5)
        await fs.writeFile(
          intentFile,
          JSON.stringify({ ...JSON.parse(await fs.readFile(intentFile, 'utf8')), bootId: 'an-earlier-boot' }),
        );
      const copied = new Set<string>(); // by destination: a leftover temp file makes one copy twice
      const counting = {
        ...realFs,
        copyFile: (a: string, b: string, x?: boolean) => (copied.add(b), realFs.copyFile(a, b, x)),
      };
      const r = await execute(await Image.open(killed.image.root), killed.p, killed.cache, { fs: counting });
      assert.equal(r.resumed, true, `resumed after a kill at ${fraction}`);
      if (fraction === 0.5) assert.equal(copied.size, writes, 'after another boot every write is redone');
      assert.deepEqual(
        await snapshot(killed.image.root),
        await snapshot(clean.image.root),
        `tree after a kill at ${fraction}`,
      );
      const pkgs = async (img: Image) => [...(await img.installed()).values()].map((p) => p.fmri.toString());
      assert.deepEqual(await pkgs(killed.image), await pkgs(clean.image));
      await assert.rejects(fs.stat(path.join(killed.image.root, 'var/pkg/journal')), { code: 'ENOENT' });
    }
  });
});
