'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const lib = require('..');
const { Cache } = lib;

test('version', () => {
  const v = lib.version();
  assert.match(v, /^\d+\.\d+\.\d+$/);
  const [major, minor, patch] = v.split('.').map(Number);
  assert.equal(lib.versionNumber(), major * 10000 + minor * 100 + patch);
});

test('a fresh cache is healthy with no alerts', () => {
  const c = new Cache({ memoryThreshold: 64 });
  try {
    assert.equal(c.health(), 'healthy');
    assert.deepEqual(c.alerts(), []);
  } finally {
    c.close();
  }
});

test('going over memoryThreshold raises alerts and degrades health', () => {
  const c = new Cache({ name: 'pressure', memoryThreshold: 1 });
  try {
    for (let i = 0; i < 40; i++) c.set(`k${i}`, Buffer.alloc(100 * 1024));
    assert.notEqual(c.health(), 'healthy');
    const alerts = c.alerts();
    assert.ok(alerts.length > 0);
    for (const a of alerts) {
      assert.ok(a.level === 'warning' || a.level === 'critical');
      assert.equal(typeof a.message, 'string');
      assert.ok(a.message.length > 0);
      assert.equal(typeof a.timeMs, 'number');
    }
    for (let i = 1; i < alerts.length; i++) assert.ok(alerts[i - 1].timeMs >= alerts[i].timeMs);
    const s = c.stats();
    assert.ok(s.alertsWarning + s.alertsCritical >= alerts.length);
    assert.ok(s.alertsCritical > 0);
    assert.ok(s.memoryEvictions > 0);
    assert.ok(s.bytes + s.tableBytes < 2 * 1024 * 1024);

    const report = lib.healthReport();
    assert.notEqual(report.overall, 'healthy');
    assert.ok(report.warning + report.critical >= 1);
  } finally {
    c.close();
  }
});

test('healthReport counts the open caches', () => {
  const before = lib.healthReport();
  const a = new Cache({ name: 'report-a' });
  const b = Cache.user();
  try {
    a.set('x', Buffer.alloc(1000));
    const r = lib.healthReport();
    assert.equal(r.caches, before.caches + 2);
    assert.equal(r.healthy + r.warning + r.critical, r.caches);
    assert.ok(r.totalBytes > 0);
    for (const f of ['caches', 'healthy', 'warning', 'critical', 'totalBytes', 'rssBytes'])
      assert.equal(typeof r[f], 'number', f);
    assert.ok(['healthy', 'warning', 'critical'].includes(r.overall));
  } finally {
    a.close();
    b.close();
  }
  assert.equal(lib.healthReport().caches, before.caches);
});

test('healthJson is parsed and lists every open cache', () => {
  const c = new Cache({ name: 'json-cache', maxSize: 7 });
  try {
    c.set('a', '1');
    c.get('a');
    c.get('b');
    const doc = lib.healthJson();
    assert.equal(typeof doc, 'object');
    assert.ok(['healthy', 'warning', 'critical'].includes(doc.overall));
    assert.ok(Array.isArray(doc.caches));
    const mine = doc.caches.find((x) => x.name === 'json-cache');
    assert.ok(mine, 'cache missing from the health document');
    assert.equal(mine.health, 'healthy');
    assert.equal(mine.stats.entries, 1);
    assert.equal(mine.stats.hits, 1);
    assert.equal(mine.stats.misses, 1);
    assert.equal(mine.stats.max_entries, 7);
    assert.equal(typeof lib.healthJsonText(), 'string');
  } finally {
    c.close();
  }
});

test('metricsPrometheus exposes libcache_* series per cache', () => {
  const c = new Cache({ name: 'prom-cache' });
  try {
    c.set('a', '1');
    c.set('b', '2');
    const text = lib.metricsPrometheus();
    assert.equal(typeof text, 'string');
    assert.match(text, /# TYPE libcache_entries gauge/);
    assert.match(text, /^libcache_entries\{cache="prom-cache",cache_id="\d+"\} 2$/m);
    assert.match(text, /^libcache_sets_total\{cache="prom-cache",cache_id="\d+"\} 2$/m);
  } finally {
    c.close();
  }
});

test('memoryUsage reads the process figures', () => {
  const m = lib.memoryUsage();
  assert.equal(m.sources.proc, true);
  assert.ok(m.rssBytes > 0);
  assert.ok(m.rssPeakBytes >= m.rssBytes);
  assert.ok(m.vmSizeBytes > 0);
  for (const [k, v] of Object.entries(m)) {
    if (k !== 'sources') assert.equal(typeof v, 'number', k);
  }
  assert.equal(typeof lib.memoryIsHigh(1 << 30), 'boolean');
  assert.equal(lib.memoryIsHigh(1 << 30), false);
  lib.memoryPurge();
});
