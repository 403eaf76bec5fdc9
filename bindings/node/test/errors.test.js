'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Cache, CacheError, Status, errName, strerror } = require('..');

function assertCode(fn, code, status) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof CacheError, `expected a CacheError, got ${err}`);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'CacheError');
    assert.equal(err.code, code);
    if (status !== undefined) assert.equal(err.status, status);
    assert.equal(typeof err.message, 'string');
    return true;
  });
}

test('an empty key is CACHE_EINVAL', () => {
  const c = new Cache();
  try {
    assertCode(() => c.set('', 'v'), 'CACHE_EINVAL', Status.EINVAL);
    assertCode(() => c.set(Buffer.alloc(0), 'v'), 'CACHE_EINVAL', -1);
    assertCode(() => c.get(''), 'CACHE_EINVAL', -1);
    assertCode(() => c.has(''), 'CACHE_EINVAL', -1);
    assertCode(() => c.delete(''), 'CACHE_EINVAL', -1);
    assertCode(() => c.getOrLoad('', () => 'x'), 'CACHE_EINVAL', -1);
    assert.equal(c.size, 0);
  } finally {
    c.close();
  }
});

test('a key over 65535 bytes is CACHE_EINVAL', () => {
  const c = new Cache();
  try {
    assertCode(() => c.set(Buffer.alloc(65536, 1), 'v'), 'CACHE_EINVAL', -1);
  } finally {
    c.close();
  }
});

test('a value over maxBytes is CACHE_ETOOBIG and changes nothing', () => {
  const c = new Cache({ maxBytes: 1024 });
  try {
    c.set('k', 'small');
    assertCode(() => c.set('k', Buffer.alloc(4096)), 'CACHE_ETOOBIG', Status.ETOOBIG);
    assertCode(() => c.set('other', Buffer.alloc(4096)), 'CACHE_ETOOBIG', -5);
    assert.equal(c.getString('k'), 'small');
    assert.equal(c.has('other'), false);
    assert.equal(c.size, 1);
  } finally {
    c.close();
  }
});

test('use after close is CACHE_ECLOSED', () => {
  const c = new Cache();
  c.set('a', '1');
  c.close();
  const calls = [
    () => c.get('a'),
    () => c.getString('a'),
    () => c.set('a', '2'),
    () => c.has('a'),
    () => c.delete('a'),
    () => c.clear(),
    () => c.stats(),
    () => c.health(),
    () => c.alerts(),
    () => c.cleanup(),
    () => c.getOrLoad('a', () => 'x'),
  ];
  for (const call of calls) assertCode(call, 'CACHE_ECLOSED', Status.ECLOSED);
  assert.equal(c.size, 0);
});

test('bad arguments from JavaScript are CACHE_EINVAL', () => {
  assertCode(() => new Cache({ policy: 'random' }), 'CACHE_EINVAL');
  assertCode(() => new Cache({ maxSize: -1 }), 'CACHE_EINVAL');
  assertCode(() => new Cache({ ttl: NaN }), 'CACHE_EINVAL');
  assertCode(() => new Cache({ name: 42 }), 'CACHE_EINVAL');
  const c = new Cache();
  try {
    assertCode(() => c.set(42, 'v'), 'CACHE_EINVAL');
    assertCode(() => c.set('k', null), 'CACHE_EINVAL');
    assertCode(() => c.set('k', { a: 1 }), 'CACHE_EINVAL');
    assertCode(() => c.set('k', 'v', -5), 'CACHE_EINVAL');
    assertCode(() => c.get(undefined), 'CACHE_EINVAL');
    assertCode(() => c.getOrLoad('k', 'not a function'), 'CACHE_EINVAL');
    assert.equal(c.size, 0);
  } finally {
    c.close();
  }
});

test('CacheError carries the status and its name', () => {
  const e = new CacheError(Status.EBUSY);
  assert.equal(e.status, -6);
  assert.equal(e.code, 'CACHE_EBUSY');
  assert.match(e.message, /already in progress/);
  assert.equal(errName(-3), 'CACHE_ECLOSED');
  assert.equal(errName(12345), 'CACHE_UNKNOWN');
  assert.equal(strerror(-1), 'invalid argument');
});
