'use strict';

/* shutdownAll() closes every cache of the process, so it has a file (and,
 * under node --test, a process) of its own. */

const test = require('node:test');
const assert = require('node:assert/strict');
const lib = require('..');
const { Cache } = lib;

test('shutdownAll closes every cache; new caches still work', () => {
  const a = new Cache({ name: 'a' });
  const b = Cache.marketData();
  a.set('k', 'v');
  b.set('k', 'v');

  lib.shutdownAll();
  lib.shutdownAll(); /* idempotent */

  for (const c of [a, b]) {
    assert.equal(c.size, 0);
    assert.throws(() => c.get('k'), { name: 'CacheError', code: 'CACHE_ECLOSED' });
    assert.throws(() => c.set('k', 'v'), { name: 'CacheError', code: 'CACHE_ECLOSED' });
    c.close(); /* releases the handle without complaint */
    c.close();
  }
  assert.equal(lib.healthReport().caches, 0);

  const fresh = new Cache();
  try {
    fresh.set('k', 'v');
    assert.equal(fresh.getString('k'), 'v');
  } finally {
    fresh.close();
  }
});
