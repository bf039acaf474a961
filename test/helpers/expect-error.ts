import assert from 'node:assert/strict';
import { ImageError } from '../../src/model/errors';

/** For assert.rejects/throws: an ImageError with this code whose message mentions each string. */
export function isCode(code: string, ...mentions: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected an ImageError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `expected '${e.message}' to mention '${m}'`);
    return true;
  };
}
