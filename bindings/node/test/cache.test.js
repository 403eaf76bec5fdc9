'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Cache, CacheError } = require('..');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('presets carry the original settings', () => {
  const expected = [
    ['proposal', 'proposalCache', 500],
    ['user', 'userCache', 200],
    ['marketData', 'marketDataCache', 100],
    ['calculation', 'calculationCache', 1000],
  ];
  for (const [factory, name, maxEntries] of expected) {
    const c = Cache[factory]();
    try {
      assert.equal(c.name, name);
      const s = c.stats();
      assert.equal(s.maxEntries, maxEntries);
      assert.equal(s.maxBytes, 0);
      assert.equal(s.entries, 0);
      assert.equal(c.health(), 'healthy');
      c.set('k', 'v');
      assert.equal(c.getString('k'), 'v');
    } finally {
      c.close();
    }
  }
});

test('presets accept overrides', () => {
  const c = Cache.user({ name: 'users-eu', maxSize: 3 });
  try {
    assert.equal(c.name, 'users-eu');
    assert.equal(c.stats().maxEntries, 3);
  } finally {
    c.close();
  }
});

test('constructor options reach the library', () => {
  const c = new Cache({ name: 'opts', maxSize: 10, maxBytes: 1 << 20, ttl: 60000, policy: 'fifo' });
  try {
    assert.equal(c.name, 'opts');
    const s = c.stats();
    assert.equal(s.maxEntries, 10);
    assert.equal(s.maxBytes, 1 << 20);
  } finally {
    c.close();
  }
  const d = new Cache();
  try {
    assert.equal(d.name, '');
    assert.equal(d.stats().maxEntries, 0);
  } finally {
    d.close();
  }
});

test('string and Buffer keys round trip', () => {
  const c = new Cache();
  try {
    c.set('alpha', 'one');
    assert.equal(c.getString('alpha'), 'one');
    assert.deepEqual(c.get('alpha'), Buffer.from('one'));

    /* A string key and a Buffer with the same UTF-8 bytes are the same key. */
    assert.equal(c.getString(Buffer.from('alpha')), 'one');
    c.set(Buffer.from('beta'), Buffer.from('two'));
    assert.equal(c.getString('beta'), 'two');

    /* Uint8Array keys and values. */
    c.set(new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6]));
    assert.deepEqual([...c.get(Buffer.from([1, 2, 3]))], [4, 5, 6]);

    /* Non-ASCII text is UTF-8 both ways. */
    c.set('clé-ключ-鍵', 'valeur ✓ 値 🚀');
    assert.equal(c.getString('clé-ключ-鍵'), 'valeur ✓ 値 🚀');
    assert.equal(c.get('clé-ключ-鍵').length, Buffer.byteLength('valeur ✓ 値 🚀'));

    /* Replacing a value. */
    c.set('alpha', 'uno');
    assert.equal(c.getString('alpha'), 'uno');

    assert.equal(c.get('missing'), undefined);
    assert.equal(c.getString('missing'), undefined);
  } finally {
    c.close();
  }
});

test('binary keys and values, including NUL bytes and empty values', () => {
  const c = new Cache();
  try {
    const all = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) all[i] = i;
    const key = Buffer.from([0, 0xff, 0, 0x80, 0]);
    c.set(key, all);
    assert.ok(c.get(key).equals(all));
    assert.equal(c.get(Buffer.from([0, 0xff, 0, 0x80])), undefined);

    c.set('empty', Buffer.alloc(0));
    const empty = c.get('empty');
    assert.ok(Buffer.isBuffer(empty));
    assert.equal(empty.length, 0);
    assert.equal(c.getString('empty'), '');
    assert.equal(c.has('empty'), true);
  } finally {
    c.close();
  }
});

test('the returned Buffer is a copy', () => {
  const c = new Cache();
  try {
    const v = Buffer.from('abc');
    c.set('k', v);
    v[0] = 0x7a; /* the cache keeps its own copy */
    const got = c.get('k');
    assert.equal(got.toString(), 'abc');
    got[0] = 0x79;
    assert.equal(c.getString('k'), 'abc');
  } finally {
    c.close();
  }
});

test('big values', () => {
  const c = new Cache();
  try {
    for (const size of [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 200 * 1024, 3 * 1024 * 1024 + 7]) {
      const v = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4093) v[i] = (i * 31) & 0xff;
      v[size - 1] = 0xab;
      c.set(`big-${size}`, v);
      const got = c.get(`big-${size}`);
      assert.equal(got.length, size);
      assert.ok(got.equals(v), `value of ${size} bytes differs`);
      /* A second read (now fitting the grown scratch buffer or not) agrees. */
      assert.ok(c.get(`big-${size}`).equals(v));
    }
    /* Small values still read right after the big ones. */
    c.set('small', 'x');
    assert.equal(c.getString('small'), 'x');
  } finally {
    c.close();
  }
});

test('a returned value is not overwritten by later reads', () => {
  const c = new Cache();
  try {
    /* Sizes around every size the internal copy-out buffer can have. */
    for (let size = 1024; size <= 2 * 1024 * 1024; size *= 2) {
      for (const n of [size - 1, size, size + 1]) {
        c.set('first', Buffer.alloc(n, 0x11));
        c.set('second', Buffer.alloc(n, 0x22));
        const first = c.get('first');
        const second = c.get('second');
        c.get('first');
        c.getOrLoad('first', () => 'unused');
        assert.ok(first.equals(Buffer.alloc(n, 0x11)), `first value of ${n} bytes changed`);
        assert.ok(second.equals(Buffer.alloc(n, 0x22)), `second value of ${n} bytes changed`);
      }
    }
  } finally {
    c.close();
  }
});

test('keys up to 65535 bytes', () => {
  const c = new Cache();
  try {
    const key = Buffer.alloc(65535, 0x61);
    c.set(key, 'long');
    assert.equal(c.getString(key), 'long');
  } finally {
    c.close();
  }
});

test('delete, has, size and clear', () => {
  const c = new Cache();
  try {
    assert.equal(c.size, 0);
    c.set('a', '1').set('b', '2').set('c', '3');
    assert.equal(c.size, 3);
    assert.equal(c.has('a'), true);
    assert.equal(c.has('zz'), false);

    assert.equal(c.delete('a'), true);
    assert.equal(c.delete('a'), false);
    assert.equal(c.has('a'), false);
    assert.equal(c.get('a'), undefined);
    assert.equal(c.size, 2);

    c.clear();
    assert.equal(c.size, 0);
    assert.equal(c.has('b'), false);
    c.set('d', '4');
    assert.equal(c.size, 1);
  } finally {
    c.close();
  }
});

test('stats count hits, misses, sets, deletes and evictions', () => {
  const c = new Cache({ maxSize: 2 });
  try {
    c.set('a', '1');
    c.set('b', '2');
    c.get('a');
    c.get('a');
    c.get('nope');
    c.has('a'); /* counts neither a hit nor a miss */
    c.has('nope');
    let s = c.stats();
    assert.equal(s.hits, 2);
    assert.equal(s.misses, 1);
    assert.equal(s.sets, 2);
    assert.equal(s.entries, 2);
    assert.ok(s.bytes > 0);
    assert.equal(s.health, 0);
    assert.equal(s.healthName, 'healthy');

    c.set('c', '3'); /* evicts one */
    c.delete('c');
    s = c.stats();
    assert.equal(s.sets, 3);
    assert.equal(s.evictions, 1);
    assert.equal(s.deletes, 1);
    assert.equal(s.entries, 1);

    const fields = [
      'entries', 'bytes', 'hits', 'misses', 'sets', 'deletes', 'evictions',
      'expirations', 'cleanupRuns', 'cleanupErrors', 'maxEntries', 'maxBytes',
      'alertsWarning', 'alertsCritical', 'tableBytes', 'arenaResidentBytes',
      'memoryEvictions', 'health',
    ];
    for (const f of fields) assert.equal(typeof s[f], 'number', f);
  } finally {
    c.close();
  }
});

test('LRU and FIFO evict different entries', () => {
  const lru = new Cache({ maxSize: 2, policy: 'lru' });
  const fifo = new Cache({ maxSize: 2, policy: 'fifo' });
  try {
    for (const c of [lru, fifo]) {
      c.set('a', '1');
      c.set('b', '2');
      c.get('a'); /* a is now the most recently used */
      c.set('c', '3');
    }
    assert.deepEqual([lru.has('a'), lru.has('b'), lru.has('c')], [true, false, true]);
    assert.deepEqual([fifo.has('a'), fifo.has('b'), fifo.has('c')], [false, true, true]);
  } finally {
    lru.close();
    fifo.close();
  }
});

test('maxBytes bounds the bytes held', () => {
  const c = new Cache({ maxBytes: 64 * 1024 });
  try {
    for (let i = 0; i < 100; i++) c.set(`k${i}`, Buffer.alloc(4000));
    const s = c.stats();
    assert.ok(s.bytes <= 64 * 1024, `bytes ${s.bytes}`);
    assert.ok(s.evictions > 0);
    assert.ok(c.has('k99'));
  } finally {
    c.close();
  }
});

test('entries expire by the default TTL and by a per-entry TTL', async () => {
  const c = new Cache({ ttl: 40 });
  try {
    c.set('default', 'd');
    c.set('short', 's', 10);
    c.set('forever', 'f', Infinity);
    c.set('long', 'l', 60000);
    assert.equal(c.getString('short'), 's');
    await sleep(80);
    assert.equal(c.get('default'), undefined);
    assert.equal(c.get('short'), undefined);
    assert.equal(c.getString('forever'), 'f');
    assert.equal(c.getString('long'), 'l');
    assert.equal(c.stats().expirations, 2);
  } finally {
    c.close();
  }
});

test('cleanup() removes expired entries and returns the count', async () => {
  const c = new Cache();
  try {
    c.set('a', '1', 10);
    c.set('b', '2', 10);
    c.set('c', '3', 10);
    c.set('keep', '4');
    assert.equal(c.cleanup(), 0);
    await sleep(40);
    assert.equal(c.size, 4); /* expired entries are held until removed */
    assert.equal(c.cleanup(), 3);
    assert.equal(c.size, 1);
    const s = c.stats();
    assert.equal(s.expirations, 3);
    assert.ok(s.cleanupRuns >= 2);
  } finally {
    c.close();
  }
});

test('background cleanup removes expired entries', async () => {
  const c = new Cache({ cleanupInterval: 20 });
  try {
    c.set('a', '1', 10);
    c.set('b', '2', 10);
    for (let i = 0; i < 100 && c.size > 0; i++) await sleep(20);
    assert.equal(c.size, 0);
    assert.ok(c.stats().cleanupRuns >= 1);
  } finally {
    c.close();
  }
});

test('close() is idempotent and Symbol.dispose closes', () => {
  const c = new Cache({ name: 'closing' });
  c.set('a', '1');
  assert.equal(c.closed, false);
  c.close();
  c.close();
  assert.equal(c.closed, true);
  assert.equal(c.size, 0);
  assert.equal(c.name, 'closing');

  const d = new Cache();
  assert.equal(typeof d[Symbol.dispose], 'function');
  d[Symbol.dispose]();
  assert.equal(d.closed, true);
  assert.throws(() => d.get('a'), { name: 'CacheError', code: 'CACHE_ECLOSED' });
});
