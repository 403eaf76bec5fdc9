"""Tests of the libcache Python binding.

Run from bindings/python:
    LIBCACHE_LIBRARY=/path/to/libcache.so.1 \
        python3 -m unittest discover -s tests -v
"""

import gc
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

import libcache  # noqa: E402
from libcache import Cache, CacheError  # noqa: E402

# Bound on every wait in these tests, in seconds.
DEADLINE = 5.0


def wait_until(predicate, timeout=DEADLINE, step=0.01):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class CacheTestCase(unittest.TestCase):
    def setUp(self):
        self.caches = []

    def tearDown(self):
        for c in self.caches:
            c.close()

    def track(self, cache):
        self.caches.append(cache)
        return cache

    def new(self, **kw):
        return self.track(Cache(**kw))

    def assertStatus(self, status, fn, *args, **kw):
        with self.assertRaises(CacheError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.status, status)
        self.assertEqual(cm.exception.name, libcache.err_name(status))
        return cm.exception


class TestModule(CacheTestCase):
    def test_version(self):
        self.assertRegex(libcache.version(), r"^1\.\d+\.\d+$")
        self.assertEqual(libcache.version_number() // 10000, 1)

    def test_status_constants_match_library(self):
        for name in ("OK", "NOT_FOUND", "EINVAL", "ENOMEM", "ECLOSED",
                     "ETOOSMALL", "ETOOBIG", "EBUSY", "EIO"):
            value = getattr(libcache, "CACHE_" + name)
            self.assertEqual(libcache.err_name(value), "CACHE_" + name)
        self.assertEqual(libcache.strerror(libcache.CACHE_EINVAL),
                         "invalid argument")

    def test_cache_error(self):
        e = CacheError(libcache.CACHE_ETOOBIG)
        self.assertIsInstance(e, Exception)
        self.assertEqual(e.status, -5)
        self.assertEqual(e.name, "CACHE_ETOOBIG")
        self.assertEqual(e.message, "entry can never fit in this cache")
        self.assertIn("CACHE_ETOOBIG", str(e))

    def test_health_report(self):
        c = self.new(name="report")
        c.set("k", "v")
        r = libcache.health_report()
        self.assertIn(r["overall"], ("healthy", "warning", "critical"))
        self.assertGreaterEqual(r["caches"], 1)
        self.assertEqual(r["caches"],
                         r["healthy"] + r["warning"] + r["critical"])
        self.assertGreater(r["total_bytes"], 0)

    def test_health_json(self):
        c = self.new(name="json-cache")
        c.set("k", "v")
        doc = libcache.health_json()
        self.assertIsInstance(doc, dict)
        self.assertIn(doc["overall"], ("healthy", "warning", "critical"))
        names = [x["name"] for x in doc["caches"]]
        self.assertIn("json-cache", names)
        for _ in range(50):  # each string is freed with cache_free_string
            libcache.health_json()

    def test_metrics_prometheus(self):
        c = self.new(name="prom-cache")
        c.set("k", "v")
        text = libcache.metrics_prometheus()
        self.assertIsInstance(text, str)
        self.assertIn("# TYPE libcache_", text)
        self.assertIn('cache="prom-cache"', text)

    def test_memory_usage(self):
        m = libcache.memory_usage()
        self.assertIn("sources", m)
        self.assertIn("rss_bytes", m)
        self.assertNotIn("struct_size", m)
        if m["sources"] & libcache.CACHE_MEMORY_PROC:
            self.assertGreater(m["rss_bytes"], 0)
        self.assertIsInstance(libcache.memory_is_high(1 << 40), bool)
        self.assertFalse(libcache.memory_is_high(1 << 40))
        libcache.memory_purge()


class TestPresets(CacheTestCase):
    EXPECTED = [
        (Cache.proposal, "proposal", libcache.CACHE_PRESET_PROPOSAL,
         "proposalCache", 500),
        (Cache.user, "user", libcache.CACHE_PRESET_USER, "userCache", 200),
        (Cache.market_data, "market_data", libcache.CACHE_PRESET_MARKET_DATA,
         "marketDataCache", 100),
        (Cache.calculation, "calculation", libcache.CACHE_PRESET_CALCULATION,
         "calculationCache", 1000),
    ]

    def test_preset_constructors(self):
        for ctor, _, _, name, max_entries in self.EXPECTED:
            c = self.track(ctor())
            self.assertIsInstance(c, Cache)
            self.assertEqual(c.name, name)
            self.assertEqual(c.stats()["max_entries"], max_entries)
            c.set("k", "v")
            self.assertEqual(c.get("k"), b"v")

    def test_from_preset_by_name_and_value(self):
        for _, key, value, name, max_entries in self.EXPECTED:
            for preset in (key, value, name, key.upper()):
                c = self.track(Cache.from_preset(preset))
                self.assertEqual(c.name, name)
                self.assertEqual(c.stats()["max_entries"], max_entries)

    def test_from_preset_overrides(self):
        c = self.track(Cache.from_preset("user", max_entries=3,
                                         name="small-users", policy="fifo"))
        self.assertEqual(c.name, "small-users")
        self.assertEqual(c.stats()["max_entries"], 3)
        for i in range(5):
            c.set("k%d" % i, "v")
        self.assertEqual(len(c), 3)
        self.assertFalse(c.contains("k0"))  # FIFO: oldest insertion left
        self.assertTrue(c.contains("k4"))
        d = self.track(Cache.calculation(max_entries=2))
        self.assertEqual(d.name, "calculationCache")
        self.assertEqual(d.stats()["max_entries"], 2)

    def test_bad_presets(self):
        with self.assertRaises(ValueError):
            Cache.from_preset("no-such-preset")
        self.assertStatus(libcache.CACHE_EINVAL, Cache.from_preset, 99)
        with self.assertRaises(TypeError):
            Cache.from_preset("user", no_such_option=1)


class TestEntries(CacheTestCase):
    def test_round_trip_bytes_and_str(self):
        c = self.new()
        c.set(b"bk", b"bv")
        c.set("sk", "sv")
        c.set("clé-ü", "välue-€")
        self.assertEqual(c.get(b"bk"), b"bv")
        self.assertEqual(c.get("bk"), b"bv")
        self.assertEqual(c.get(b"sk"), b"sv")
        self.assertEqual(c.get("clé-ü"), "välue-€".encode("utf-8"))
        self.assertEqual(c.get("clé-ü".encode("utf-8")),
                         "välue-€".encode("utf-8"))
        c.set(bytearray(b"ba"), memoryview(b"mv"))
        self.assertEqual(c.get(b"ba"), b"mv")
        self.assertIsInstance(c.get("sk"), bytes)

    def test_missing_and_default(self):
        c = self.new()
        self.assertIsNone(c.get("nope"))
        self.assertEqual(c.get("nope", b"dflt"), b"dflt")
        with self.assertRaises(KeyError):
            c["nope"]

    def test_binary_values(self):
        c = self.new()
        value = bytes(range(256)) * 3 + b"\0\0\0"
        c.set(b"\0key\0", value)
        self.assertEqual(c.get(b"\0key\0"), value)
        self.assertIsNone(c.get(b"\0key"))
        c.set("empty", b"")
        self.assertEqual(c.get("empty"), b"")
        self.assertTrue(c.contains("empty"))

    def test_large_values(self):
        c = self.new()
        for size in (4095, 4096, 4097, 100000, 3 * 1024 * 1024):
            value = os.urandom(size)
            c.set("big", value)
            self.assertEqual(c.get("big"), value, size)
        # Small values still come back right after the buffer has grown.
        c.set("small", "x")
        self.assertEqual(c.get("small"), b"x")

    def test_replace(self):
        c = self.new()
        c.set("k", "one")
        c.set("k", "two, longer")
        self.assertEqual(c.get("k"), b"two, longer")
        self.assertEqual(len(c), 1)

    def test_ttl(self):
        c = self.new()
        c.set("short", "v", ttl_ms=30)
        c.set("forever", "v", ttl_ms=libcache.CACHE_TTL_NEVER)
        c.set("default", "v")
        self.assertEqual(c.get("short"), b"v")
        self.assertTrue(wait_until(lambda: c.get("short") is None))
        self.assertFalse(c.contains("short"))
        self.assertEqual(c.get("forever"), b"v")
        self.assertEqual(c.get("default"), b"v")
        self.assertGreaterEqual(c.stats()["expirations"], 1)

    def test_default_ttl_and_cleanup(self):
        c = self.new(ttl_ms=30)
        for i in range(5):
            c.set("k%d" % i, "v")
        c.set("keep", "v", ttl_ms=60000)
        self.assertEqual(len(c), 6)
        time.sleep(0.06)
        removed = 0
        end = time.monotonic() + DEADLINE
        while removed < 5 and time.monotonic() < end:
            removed += c.cleanup()
            time.sleep(0.01)
        self.assertEqual(removed, 5)
        self.assertEqual(len(c), 1)
        self.assertEqual(c.get("keep"), b"v")

    def test_background_cleanup(self):
        c = self.new(ttl_ms=20, cleanup_interval_ms=10)
        for i in range(10):
            c.set("k%d" % i, "v")
        self.assertTrue(wait_until(lambda: len(c) == 0))
        self.assertGreaterEqual(c.stats()["cleanup_runs"], 1)

    def test_delete_contains_len_clear(self):
        c = self.new()
        self.assertEqual(len(c), 0)
        for i in range(10):
            c.set("k%d" % i, str(i))
        self.assertEqual(len(c), 10)
        self.assertTrue(c.contains("k3"))
        self.assertIn("k3", c)
        self.assertNotIn("zz", c)
        self.assertTrue(c.delete("k3"))
        self.assertFalse(c.delete("k3"))
        self.assertNotIn("k3", c)
        self.assertEqual(len(c), 9)
        c["dict"] = "style"
        self.assertEqual(c["dict"], b"style")
        del c["dict"]
        with self.assertRaises(KeyError):
            del c["dict"]
        c.clear()
        self.assertEqual(len(c), 0)
        self.assertIsNone(c.get("k1"))
        with self.assertRaises(TypeError):
            iter(c)

    def test_eviction_lru(self):
        c = self.new(max_entries=3, policy="lru")
        for k in ("a", "b", "c"):
            c.set(k, k)
        c.get("a")  # a is now the most recent
        c.set("d", "d")
        self.assertIn("a", c)
        self.assertNotIn("b", c)
        self.assertEqual(c.stats()["evictions"], 1)

    def test_policy_by_value(self):
        c = self.new(max_entries=2, policy=libcache.CACHE_POLICY_FIFO)
        c.set("a", "a")
        c.set("b", "b")
        c.get("a")
        c.set("c", "c")
        self.assertNotIn("a", c)

    def test_stats_counts(self):
        c = self.new(name="counted", max_entries=100, max_bytes=1 << 20)
        for i in range(4):
            c.set("k%d" % i, "v%d" % i)
        c.set("k0", "again")
        for k in ("k0", "k1", "k2"):
            self.assertIsNotNone(c.get(k))
        for k in ("x", "y"):
            self.assertIsNone(c.get(k))
        c.contains("k1")  # counts neither hit nor miss
        c.delete("k1")
        c.delete("missing")
        s = c.stats()
        self.assertEqual(s["sets"], 5)
        self.assertEqual(s["hits"], 3)
        self.assertEqual(s["misses"], 2)
        self.assertEqual(s["deletes"], 1)
        self.assertEqual(s["entries"], 3)
        self.assertEqual(s["entries"], len(c))
        self.assertEqual(s["max_entries"], 100)
        self.assertEqual(s["max_bytes"], 1 << 20)
        self.assertGreater(s["bytes"], 0)
        self.assertEqual(s["evictions"], 0)
        self.assertEqual(s["health"], libcache.CACHE_HEALTH_HEALTHY)
        for field in ("expirations", "cleanup_runs", "cleanup_errors",
                      "alerts_warning", "alerts_critical", "table_bytes",
                      "arena_resident_bytes", "memory_evictions"):
            self.assertIn(field, s)
        self.assertNotIn("struct_size", s)

    def test_health_and_alerts(self):
        c = self.new(name="healthy-one")
        self.assertEqual(c.health(), "healthy")
        self.assertEqual(c.alerts(), [])
        hot = self.new(name="hot", memory_threshold_mb=1)
        for i in range(40):
            hot.set("k%d" % i, b"x" * 100000)
        self.assertIn(hot.health(), ("warning", "critical"))
        alerts = hot.alerts()
        self.assertGreater(len(alerts), 0)
        for a in alerts:
            self.assertIn(a["level"], ("warning", "critical"))
            self.assertIsInstance(a["time_ms"], int)
            self.assertIsInstance(a["message"], str)
            self.assertTrue(a["message"])
        self.assertEqual(len(hot.alerts(max=1)), 1)
        self.assertEqual(hot.alerts(max=0), [])
        s = hot.stats()
        self.assertEqual(len(alerts),
                         min(libcache.CACHE_ALERTS_KEPT,
                             s["alerts_warning"] + s["alerts_critical"]))


class TestErrors(CacheTestCase):
    def test_empty_key(self):
        c = self.new()
        self.assertStatus(libcache.CACHE_EINVAL, c.set, "", "v")
        self.assertStatus(libcache.CACHE_EINVAL, c.get, b"")
        self.assertStatus(libcache.CACHE_EINVAL, c.delete, "")
        self.assertStatus(libcache.CACHE_EINVAL, c.contains, "")

    def test_key_too_long(self):
        c = self.new()
        c.set(b"k" * libcache.CACHE_KEY_MAX, "v")
        self.assertStatus(libcache.CACHE_EINVAL, c.set,
                          b"k" * (libcache.CACHE_KEY_MAX + 1), "v")

    def test_too_big_for_max_bytes(self):
        c = self.new(max_bytes=1024)
        c.set("small", "v")
        self.assertStatus(libcache.CACHE_ETOOBIG, c.set, "big", b"x" * 4096)
        self.assertIsNone(c.get("big"))
        self.assertEqual(c.get("small"), b"v")  # unchanged by the error

    def test_bad_policy_value(self):
        self.assertStatus(libcache.CACHE_EINVAL, Cache, policy=42)
        with self.assertRaises(ValueError):
            Cache(policy="random")

    def test_argument_types(self):
        c = self.new()
        with self.assertRaises(TypeError):
            c.set(1, "v")
        with self.assertRaises(TypeError):
            c.set("k", 1)
        with self.assertRaises(ValueError):
            c.set("k", "v", ttl_ms=-1)
        with self.assertRaises(ValueError):
            Cache(max_entries=-1)
        with self.assertRaises(ValueError):
            Cache(max_retries=1 << 32)

    def test_use_after_close(self):
        c = Cache()
        c.set("k", "v")
        c.close()
        self.assertTrue(c.closed)
        c.close()  # idempotent
        for call in (lambda: c.get("k"), lambda: c.set("k", "v"),
                     lambda: c.delete("k"), lambda: c.contains("k"),
                     lambda: len(c), c.clear, c.stats, c.health, c.alerts,
                     c.cleanup, lambda: c.get_or_load("k", lambda k: b"")):
            self.assertStatus(libcache.CACHE_ECLOSED, call)

    def test_context_manager(self):
        with Cache(name="ctx") as c:
            c.set("k", "v")
            self.assertEqual(c.get("k"), b"v")
            self.assertFalse(c.closed)
        self.assertTrue(c.closed)
        self.assertStatus(libcache.CACHE_ECLOSED, c.get, "k")
        with self.assertRaises(RuntimeError):
            with Cache() as d:
                raise RuntimeError("boom")
        self.assertTrue(d.closed)

    def test_del_releases(self):
        for _ in range(100):
            c = Cache(name="dropped")
            c.set("k", b"x" * 1000)
            del c
        gc.collect()
        names = [x["name"] for x in libcache.health_json()["caches"]]
        self.assertNotIn("dropped", names)

    def test_close_while_other_threads_use_it(self):
        c = Cache(max_entries=1000)
        stop = threading.Event()
        errors = []

        def worker(n):
            i = 0
            while not stop.is_set():
                try:
                    c.set("k%d-%d" % (n, i % 50), b"v" * 100)
                    c.get("k%d-%d" % (n, (i + 7) % 50))
                    len(c)
                except CacheError as e:
                    if e.status != libcache.CACHE_ECLOSED:
                        errors.append(e)
                    return
                i += 1

        threads = [threading.Thread(target=worker, args=(n,))
                   for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        c.close()
        stop.set()
        for t in threads:
            t.join(DEADLINE)
            self.assertFalse(t.is_alive())
        self.assertEqual(errors, [])


class TestGetOrLoad(CacheTestCase):
    def test_loads_once_then_hits(self):
        c = self.new()
        calls = []

        def loader(key):
            calls.append(key)
            return key + b"-loaded"

        self.assertEqual(c.get_or_load("k", loader), b"k-loaded")
        self.assertEqual(c.get_or_load("k", loader), b"k-loaded")
        self.assertEqual(calls, [b"k"])
        self.assertEqual(c.get("k"), b"k-loaded")

    def test_loader_result_forms(self):
        c = self.new()
        self.assertEqual(c.get_or_load("s", lambda k: "text-€"),
                         "text-€".encode("utf-8"))
        self.assertEqual(c.get_or_load("t", lambda k: (b"v", 30)), b"v")
        self.assertTrue(wait_until(lambda: c.get("t") is None))
        self.assertIsNone(c.get_or_load("n", lambda k: None))
        self.assertEqual(c.get_or_load("n", lambda k: None, b"d"), b"d")
        self.assertNotIn("n", c)
        with self.assertRaises(TypeError):
            c.get_or_load("bad", lambda k: 42)
        self.assertNotIn("bad", c)
        with self.assertRaises(TypeError):
            c.get_or_load("k", "not callable")

    def test_large_loaded_value(self):
        c = self.new()
        value = os.urandom(200000)
        self.assertEqual(c.get_or_load("big", lambda k: value), value)
        self.assertEqual(c.get_or_load("big", lambda k: b"other"), value)

    def test_single_flight_8_threads(self):
        c = self.new()
        n = 8
        barrier = threading.Barrier(n)
        lock = threading.Lock()
        calls = [0]
        results = [None] * n

        def loader(key):
            with lock:
                calls[0] += 1
            time.sleep(0.2)
            return b"value-for-" + key

        def worker(i):
            barrier.wait(DEADLINE)
            results[i] = c.get_or_load("shared", loader)

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
            self.assertFalse(t.is_alive())
        self.assertEqual(calls[0], 1)
        self.assertEqual(results, [b"value-for-shared"] * n)

    def test_single_flight_large_value(self):
        c = self.new()
        n = 4
        barrier = threading.Barrier(n)
        value = os.urandom(50000)
        calls = []
        results = [None] * n

        def loader(key):
            calls.append(key)
            time.sleep(0.1)
            return value

        def worker(i):
            barrier.wait(DEADLINE)
            results[i] = c.get_or_load("big", loader)

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
        self.assertEqual(len(calls), 1)
        self.assertEqual(results, [value] * n)

    def test_loader_exception_propagates(self):
        c = self.new()

        class Boom(Exception):
            pass

        def loader(key):
            raise Boom("no value for %r" % key)

        with self.assertRaises(Boom) as cm:
            c.get_or_load("k", loader)
        self.assertIn("no value", str(cm.exception))
        self.assertNotIn("k", c)
        self.assertEqual(len(c), 0)
        # The key can be loaded afterwards.
        self.assertEqual(c.get_or_load("k", lambda k: b"ok"), b"ok")

    def test_loader_exception_reaches_waiters(self):
        c = self.new()
        n = 4
        barrier = threading.Barrier(n)
        outcomes = [None] * n

        def loader(key):
            time.sleep(0.1)
            raise KeyError("down")

        def worker(i):
            barrier.wait(DEADLINE)
            try:
                c.get_or_load("k", loader)
                outcomes[i] = "value"
            except KeyError:
                outcomes[i] = "own exception"
            except CacheError as e:
                outcomes[i] = e.status

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
        self.assertIn("own exception", outcomes)
        for o in outcomes:
            self.assertIn(o, ("own exception", libcache.LOADER_FAILED))
        self.assertNotIn("k", c)

    def test_loader_reentry_same_key_is_busy(self):
        c = self.new()

        def loader(key):
            return c.get_or_load(key, loader)

        self.assertStatus(libcache.CACHE_EBUSY, c.get_or_load, "k", loader)
        self.assertNotIn("k", c)

    def test_loader_may_use_the_cache(self):
        c = self.new()
        c.set("base", "41")

        def loader(key):
            c.set("side", "effect")
            return str(int(c.get("base")) + 1)

        self.assertEqual(c.get_or_load("answer", loader), b"42")
        self.assertEqual(c.get("side"), b"effect")

    def test_loader_value_too_big(self):
        c = self.new(max_bytes=1024)
        self.assertStatus(libcache.CACHE_ETOOBIG, c.get_or_load, "k",
                          lambda k: b"x" * 4096)
        self.assertNotIn("k", c)

    def test_close_from_loader(self):
        c = Cache()

        def loader(key):
            c.close()
            return b"v"

        self.assertStatus(libcache.CACHE_ECLOSED, c.get_or_load, "k", loader)
        self.assertTrue(c.closed)


class TestShutdownAll(CacheTestCase):
    def test_shutdown_all(self):
        a = self.new(name="a")
        b = self.new(name="b")
        a.set("k", "v")
        libcache.shutdown_all()
        self.assertStatus(libcache.CACHE_ECLOSED, a.get, "k")
        self.assertStatus(libcache.CACHE_ECLOSED, b.set, "k", "v")
        self.assertEqual(len(a), 0)
        a.close()  # still releases the handle
        self.assertTrue(a.closed)
        c = self.new(name="after")  # new caches work normally
        c.set("k", "v")
        self.assertEqual(c.get("k"), b"v")


if __name__ == "__main__":
    unittest.main()
