import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as path from 'path';
import { ESLint } from 'eslint';

/**
 * The sandbox rules of eslint.config.js, proven to bite: each snippet is linted as if it were a
 * file in workflows/ (and, for contrast, in activities/ where Node built-ins are fine).
 */
const eslint = new ESLint({
  cwd: path.join(__dirname, '..'),
  // The snippets are not files on disk, so the type checker cannot see them: the typed rules
  // (no-floating-promises...) are off here; the sandbox rules under test need no types.
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
});

async function problems(
  code: string,
  filePath = 'src/workflows/x.ts',
): Promise<{ rule: string | null; line: number; message: string }[]> {
  const [r] = await eslint.lintText(code, { filePath });
  assert.equal(r.fatalErrorCount, 0, JSON.stringify(r.messages));
  return r.messages.map((m) => ({ rule: m.ruleId, line: m.line, message: m.message }));
}

const IMPORTS = '@typescript-eslint/no-restricted-imports';
const GLOBALS = 'no-restricted-globals';

describe('eslint keeps workflow code inside the sandbox', () => {
  it("flags `import * as fs from 'fs'` in workflows/", async () => {
    const found = await problems("import * as fs from 'fs';\nexport const x = fs;\n");
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].rule, IMPORTS);
    assert.match(found[0].message, /'fs' import is restricted.*Node built-in/);
  });

  it('flags node: imports, subpath built-ins and value imports of the activities and the image model', async () => {
    const code = [
      "import { join } from 'node:path';",
      "import { readFile } from 'fs/promises';",
      "import { createActivities } from '../src/activities/create-activities';",
      "import { Image } from '../src/image/image';",
      "import { Client } from '@temporalio/client';",
      'export const all = [join, readFile, createActivities, Image, Client];',
    ].join('\n');
    const found = await problems(code);
    assert.deepEqual(
      found.map((p) => [p.line, p.rule]),
      [
        [1, IMPORTS],
        [2, IMPORTS],
        [3, IMPORTS],
        [4, IMPORTS],
        [5, IMPORTS],
      ],
    );
  });

  it('allows type-only imports of the activities and the image model, and the workflow SDK', async () => {
    const code = [
      "import type { Activities } from '../src/activities/create-activities';",
      "import type { Plan } from '../src/stages/plan';",
      "import { proxyActivities, sleep } from '@temporalio/workflow';",
      "import { z } from 'zod';",
      'export const acts = proxyActivities<Activities>({ startToCloseTimeout: 1000 });',
      'export type P = Plan;',
      'export const s = z.string();',
      'export async function wait(): Promise<number> { await sleep(1); return new Date().getTime() + Math.random(); }',
    ].join('\n');
    assert.deepEqual(await problems(code), []);
  });

  it('flags process, structuredClone, setTimeout and setInterval but not Date', async () => {
    const code = [
      'export const env = process.env.HOME;',
      'export const copy = structuredClone({ a: 1 });',
      'setTimeout(() => undefined, 10);',
      'setInterval(() => undefined, 10);',
      'export const now = new Date();',
    ].join('\n');
    const found = await problems(code);
    assert.deepEqual(
      found.map((p) => [p.line, p.rule]),
      [
        [1, GLOBALS],
        [2, GLOBALS],
        [3, GLOBALS],
        [4, GLOBALS],
      ],
    );
  });

  it('leaves activities/ free to use Node built-ins', async () => {
    assert.deepEqual(
      await problems(
        "import * as fs from 'fs';\nexport const x = fs;\nexport const e = process.env;\n",
        'activities/x.ts',
      ),
      [],
    );
  });

  it('passes on the workflow sources as they are', async () => {
    const results = await eslint.lintFiles(['src/workflows/**/*.ts']);
    assert.ok(results.length >= 5, `linted ${results.length} files`);
    const errors = results.flatMap((r) =>
      r.messages.map(
        (m) => `${path.relative(path.join(__dirname, '..'), r.filePath)}:${m.line} ${m.ruleId} ${m.message}`,
      ),
    );
    assert.deepEqual(errors, []);
  });
});
