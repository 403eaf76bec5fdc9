'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Cache, CacheError } = require('..');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('getOrLoad calls the loader once on a miss and not on a hit', () => {
  const c = new Cache();
  try {
    const seen = [];
    const loader = (key) => {
      seen.push(key);
      return `value-of-${key.toString()}`;
    };
    assert.equal(c.getOrLoad('k', loader).toString(), 'value-of-k');
    assert.equal(seen.length, 1);
    assert.ok(Buffer.isBuffer(seen[0]));
    assert.equal(seen[0].toString(), 'k');

    assert.equal(c.getOrLoad('k', loader).toString(), 'value-of-k');
    assert.equal(c.getOrLoadString('k', loader), 'value-of-k');
    assert.equal(seen.length, 1);
    assert.equal(c.getString('k'), 'value-of-k'); /* it was stored */

    const s = c.stats();
    assert.equal(s.sets, 1);
    assert.equal(s.entries, 1);
  } finally {
    c.close();
  }
});

test('getOrLoad does not call the loader for a value set before', () => {
  const c = new Cache();
  try {
    c.set(Buffer.from([0, 1, 2]), Buffer.from([9, 9]));
    let calls = 0;
    const v = c.getOrLoad(Buffer.from([0, 1, 2]), () => {
      calls++;
      return 'x';
    });
    assert.deepEqual([...v], [9, 9]);
    assert.equal(calls, 0);
  } finally {
    c.close();
  }
});

test('a loader may return a Buffer, a Uint8Array or an empty value', () => {
  const c = new Cache();
  try {
    assert.deepEqual([...c.getOrLoad('buf', () => Buffer.from([1, 0, 2]))], [1, 0, 2]);
    assert.deepEqual([...c.getOrLoad('u8', () => new Uint8Array([3, 4]))], [3, 4]);
    const empty = c.getOrLoad('empty', () => '');
    assert.equal(empty.length, 0);
    assert.equal(c.has('empty'), true);
  } finally {
    c.close();
  }
});

test('a loader error propagates and nothing is cached', () => {
  const c = new Cache();
  try {
    const boom = new Error('backend down');
    assert.throws(
      () =>
        c.getOrLoad('k', () => {
          throw boom;
        }),
      (err) => err === boom
    );
    assert.equal(c.has('k'), false);
    assert.equal(c.size, 0);
    assert.equal(c.stats().sets, 0);

    /* The next call loads again, and succeeds. */
    let calls = 0;
    assert.equal(
      c.getOrLoadString('k', () => {
        calls++;
        return 'ok';
      }),
      'ok'
    );
    assert.equal(calls, 1);
    assert.equal(c.getString('k'), 'ok');
  } finally {
    c.close();
  }
});

test('a loader result that is not bytes is CACHE_EINVAL and nothing is cached', () => {
  const c = new Cache();
  try {
    assert.throws(() => c.getOrLoad('k', () => 42), { name: 'CacheError', code: 'CACHE_EINVAL' });
    assert.throws(() => c.getOrLoad('k', () => undefined), { name: 'CacheError', code: 'CACHE_EINVAL' });
    assert.equal(c.has('k'), false);
  } finally {
    c.close();
  }
});

test('a loaded value over maxBytes is CACHE_ETOOBIG and nothing is cached', () => {
  const c = new Cache({ maxBytes: 1024 });
  try {
    assert.throws(() => c.getOrLoad('k', () => Buffer.alloc(8192)), (err) => {
      assert.ok(err instanceof CacheError);
      assert.equal(err.code, 'CACHE_ETOOBIG');
      return true;
    });
    assert.equal(c.has('k'), false);
  } finally {
    c.close();
  }
});

test('a loader that loads its own key gets CACHE_EBUSY', () => {
  const c = new Cache();
  try {
    let inner = null;
    const v = c.getOrLoadString('k', () => {
      try {
        c.getOrLoad('k', () => 'never');
      } catch (err) {
        inner = err;
      }
      return 'outer';
    });
    assert.equal(v, 'outer');
    assert.ok(inner instanceof CacheError);
    assert.equal(inner.code, 'CACHE_EBUSY');
    assert.equal(c.getString('k'), 'outer');
  } finally {
    c.close();
  }
});

test('a loader may use the cache for other keys', () => {
  const c = new Cache();
  try {
    const v = c.getOrLoadString('outer', () => {
      const dep = c.getOrLoadString('inner', () => 'dep');
      c.set('side', 'effect');
      return `${dep}+${c.getString('side')}`;
    });
    assert.equal(v, 'dep+effect');
    assert.equal(c.getString('inner'), 'dep');
    assert.equal(c.getString('outer'), 'dep+effect');
  } finally {
    c.close();
  }
});

test('getOrLoad with big values, loaded and then hit', () => {
  const c = new Cache();
  try {
    for (const size of [100 * 1024, 2 * 1024 * 1024 + 3]) {
      const big = Buffer.alloc(size, 0x5a);
      big[size - 1] = 1;
      let calls = 0;
      const loader = () => {
        calls++;
        return big;
      };
      assert.ok(c.getOrLoad(`big${size}`, loader).equals(big));
      assert.ok(c.getOrLoad(`big${size}`, loader).equals(big));
      assert.equal(calls, 1);
    }
  } finally {
    c.close();
  }
});

test('getOrLoad stores with the given TTL', async () => {
  const c = new Cache();
  try {
    let calls = 0;
    const loader = () => String(++calls);
    assert.equal(c.getOrLoadString('k', loader, 20), '1');
    assert.equal(c.getOrLoadString('k', loader, 20), '1');
    await sleep(50);
    assert.equal(c.getOrLoadString('k', loader, 20), '2');
  } finally {
    c.close();
  }
});

test('callback slots are released after every call', () => {
  /* koffi keeps a bounded number of registered callbacks: a leak would make
   * registration fail long before this many calls. */
  const c = new Cache({ maxSize: 100 });
  try {
    for (let i = 0; i < 10000; i++) c.getOrLoad(`k${i}`, () => 'v');
    for (let i = 0; i < 10000; i++) {
      assert.throws(() =>
        c.getOrLoad(`e${i}`, () => {
          throw new Error('x');
        })
      );
    }
  } finally {
    c.close();
  }
});
