/* Many threads on one bounded cache, with a sampler thread watching the
 * bounds the whole time:
 *  - entries <= max_entries and bytes <= max_bytes at every sample (the
 *    bounds are exact at every moment, not only when quiet);
 *  - counters only grow;
 *  - afterwards hits + misses = the gets performed, and sets and deletes
 *    match what the callers were told;
 *  - a key written by one thread only never reads back an older value,
 *    and its last value is either there or was handed to the listener;
 *  - with a listener, once quiet: entries = sets - listener calls (each
 *    set adds an entry, each call accounts for one that left), and the
 *    calls by reason match the counters.
 * Failures on the worker threads are recorded and asserted after the
 * join. */
#define _POSIX_C_SOURCE 200809L
#include "test_async.h"

#define N_WORKERS 4
#define OPS 12000 /* per worker */

typedef struct config {
  const char *what;
  uint64_t max_entries;
  uint64_t max_bytes;
  unsigned keys;      /* shared keys k0 .. k<keys-1> */
  unsigned value_max; /* shared values are 0 .. value_max - 1 bytes */
  bool listener;
  bool expiry; /* ttls, a moving clock, passes on demand and background */
} config_t;

static const config_t configs[] = {
    /* 16 shards; both bounds bite. */
    {"sharded", 1024, 1024 * 1024, 2048, 2048, false, false},
    {"sharded, listener, expiry", 1024, 1024 * 1024, 2048, 2048, true, true},
    /* One shard. */
    {"one shard, listener, expiry", 100, 16 * 1024, 300, 256, true, true},
    {"one shard, listener", 100, 16 * 1024, 300, 256, true, false},
};
#define N_CONFIGS (int)(sizeof configs / sizeof configs[0])

static const config_t *cfg;
static cache_t *cache;
static atomic_clock_t clk;

/* ---- listener ----------------------------------------------------------- */

#define N_REASONS 7 /* indexed by CACHE_REMOVED_* */

static _Atomic uint64_t removed_by[N_REASONS];
static _Atomic uint64_t removed_total;
/* The highest counter of an own key handed to the listener, per owner. */
static _Atomic uint64_t own_removed_max[N_WORKERS];

typedef struct own_value {
  uint64_t n;
  uint64_t check; /* ~n: a torn value would show */
  unsigned char pad[48];
} own_value_t;

static int owner_of(const void *key, size_t key_len) {
  /* "t<digit>:own" */
  const char *k = key;
  if (key_len != 6 || k[0] != 't' || memcmp(k + 2, ":own", 4) != 0)
    return -1;
  int id = k[1] - '0';
  return id >= 0 && id < N_WORKERS ? id : -1;
}

static void on_remove(const void *key, size_t key_len, const void *value,
                      size_t value_len, int reason, void *ctx) {
  (void)ctx;
  if (reason > 0 && reason < N_REASONS)
    atomic_fetch_add(&removed_by[reason], 1);
  else
    record_failure("listener got an unknown reason", reason, -1);
  atomic_fetch_add(&removed_total, 1);
  int owner = owner_of(key, key_len);
  if (owner >= 0) {
    own_value_t v;
    if (value_len != sizeof v) {
      record_failure("own key removed with a wrong length", 0, owner);
      return;
    }
    memcpy(&v, value, sizeof v);
    uint64_t seen = atomic_load(&own_removed_max[owner]);
    while (v.n > seen &&
           !atomic_compare_exchange_weak(&own_removed_max[owner], &seen, v.n)) {
    }
  }
}

/* ---- workers ------------------------------------------------------------ */

typedef struct worker {
  int id;
  uint64_t gets, hits, sets, deletes_ok;
  uint64_t own_last; /* the last counter written to this thread's key */
} worker_t;

static void check_shared_value(const unsigned char *buf, size_t len, int id) {
  for (size_t j = 0; j < len; j++)
    if (buf[j] != (unsigned char)(len % 251)) {
      record_failure("get returned a corrupted value", 0, id);
      return;
    }
}

static void own_write_and_read(worker_t *w, const char *key) {
  own_value_t v;
  memset(&v, 0, sizeof v);
  v.n = w->own_last + 1;
  v.check = ~v.n;
  int st = cache_set(cache, key, 6, &v, sizeof v, CACHE_TTL_NEVER);
  if (st != CACHE_OK) {
    record_failure("set of own key", st, w->id);
    return;
  }
  w->sets++;
  w->own_last = v.n;

  own_value_t got;
  size_t len = 0;
  st = cache_get(cache, key, 6, &got, sizeof got, &len);
  w->gets++;
  if (st == CACHE_OK) {
    w->hits++;
    if (len != sizeof got || got.check != ~got.n)
      record_failure("own key read back torn", st, w->id);
    else if (got.n != w->own_last)
      record_failure("own key read back another value than the last "
                     "written (lost update)",
                     st, w->id);
  } else if (st != CACHE_NOT_FOUND) { /* evicted meanwhile: fine */
    record_failure("get of own key", st, w->id);
  }
}

static void *work(void *p) {
  worker_t *w = p;
  uint32_t rng = 0x9e3779b9u * (uint32_t)(w->id + 1);
  char own_key[8];
  snprintf(own_key, sizeof own_key, "t%d:own", w->id);
  unsigned char *value = malloc(cfg->value_max);
  unsigned char *buf = malloc(cfg->value_max);
  if (value == NULL || buf == NULL) {
    record_failure("out of memory in the test", 0, w->id);
    free(value);
    free(buf);
    return NULL;
  }
  for (int i = 0; i < OPS; i++) {
    if (cfg->expiry && w->id == 0 && i % 8 == 0)
      atomic_clock_advance(&clk, 1);
    if (cfg->expiry && w->id == 1 && i % 256 == 0) {
      int st = cache_cleanup(cache, NULL);
      if (st != CACHE_OK && st != CACHE_EBUSY)
        record_failure("cleanup", st, w->id);
      continue;
    }
    uint32_t r = tu_rand(&rng);
    char key[16];
    int klen = snprintf(key, sizeof key, "k%u", (unsigned)(r % cfg->keys));
    uint32_t op = tu_rand(&rng) % 100;
    if (op < 45) {
      size_t len = 0;
      int st = cache_get(cache, key, (size_t)klen, buf, cfg->value_max, &len);
      w->gets++;
      if (st == CACHE_OK) {
        w->hits++;
        check_shared_value(buf, len, w->id);
      } else if (st != CACHE_NOT_FOUND) {
        record_failure("get", st, w->id);
      }
    } else if (op < 80) {
      size_t len = tu_rand(&rng) % cfg->value_max;
      memset(value, (int)(len % 251), len);
      uint64_t ttl = 0;
      if (cfg->expiry && tu_rand(&rng) % 4 == 0)
        ttl = 1 + tu_rand(&rng) % 50;
      int st = cache_set(cache, key, (size_t)klen, value, len, ttl);
      if (st == CACHE_OK)
        w->sets++;
      else
        record_failure("set", st, w->id);
    } else if (op < 90) {
      int st = cache_delete(cache, key, (size_t)klen);
      if (st == CACHE_OK)
        w->deletes_ok++;
      else if (st != CACHE_NOT_FOUND)
        record_failure("delete", st, w->id);
    } else if (op < 95) {
      int st = cache_contains(cache, key, (size_t)klen);
      if (st != CACHE_OK && st != CACHE_NOT_FOUND)
        record_failure("contains", st, w->id);
    } else {
      own_write_and_read(w, own_key);
    }
  }
  free(value);
  free(buf);
  return NULL;
}

/* ---- the sampler -------------------------------------------------------- */

typedef struct sampler {
  atomic_bool stop;
  uint64_t samples;
} sampler_t;

static void *sample(void *p) {
  sampler_t *s = p;
  cache_stats_t prev;
  memset(&prev, 0, sizeof prev);
  while (!atomic_load(&s->stop)) {
    cache_stats_t st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    int rc = cache_stats(cache, &st);
    if (rc != CACHE_OK) {
      record_failure("stats", rc, -1);
      break;
    }
    if (st.entries > cfg->max_entries)
      record_failure("stats: entries above max_entries", 0, -1);
    if (st.bytes > cfg->max_bytes)
      record_failure("stats: bytes above max_bytes", 0, -1);
    if (cache_count(cache) > cfg->max_entries)
      record_failure("count above max_entries", 0, -1);
    if (st.hits < prev.hits || st.misses < prev.misses || st.sets < prev.sets ||
        st.deletes < prev.deletes || st.evictions < prev.evictions ||
        st.expirations < prev.expirations ||
        st.cleanup_runs < prev.cleanup_runs)
      record_failure("a counter went backwards", 0, -1);
    prev = st;
    s->samples++;
  }
  return NULL;
}

/* ---- the test ----------------------------------------------------------- */

static void make_cache(void) {
  atomic_store(&clk.now_ms, 1000);
  for (int i = 0; i < N_REASONS; i++)
    atomic_store(&removed_by[i], 0);
  atomic_store(&removed_total, 0);
  for (int i = 0; i < N_WORKERS; i++)
    atomic_store(&own_removed_max[i], 0);
  cache_options_t o;
  cache_options_init(&o);
  o.max_entries = cfg->max_entries;
  o.max_bytes = cfg->max_bytes;
  if (cfg->listener)
    o.on_remove = on_remove;
  if (cfg->expiry) {
    o.clock_ms = atomic_clock_now;
    o.clock_ctx = &clk;
    o.cleanup_interval_ms = 1;
  }
  cache = NULL;
  ASSERT_OK(cache_create(&o, &cache));
}

/* Waits until no expiry pass is under way, with the clock stopped: after
 * one pass of our own has run, every listener call of earlier passes has
 * returned and later ones have nothing left to remove. */
static void quiesce(void) {
  int st;
  uint64_t start = real_ms();
  while ((st = cache_cleanup(cache, NULL)) == CACHE_EBUSY &&
         real_ms() - start < WAIT_LIMIT_MS)
    sleep_ms(1);
  ASSERT_OK(st);
}

START_TEST(bounds_hold_at_every_sample_and_every_operation_is_counted) {
  cfg = &configs[_i];
  reset_failures();
  make_cache();

  worker_t workers[N_WORKERS];
  pthread_t th[N_WORKERS], sampler_th;
  sampler_t sampler;
  atomic_init(&sampler.stop, false);
  sampler.samples = 0;
  memset(workers, 0, sizeof workers);
  ck_assert_int_eq(pthread_create(&sampler_th, NULL, sample, &sampler), 0);
  for (int i = 0; i < N_WORKERS; i++) {
    workers[i].id = i;
    ck_assert_int_eq(pthread_create(&th[i], NULL, work, &workers[i]), 0);
  }
  for (int i = 0; i < N_WORKERS; i++)
    ck_assert_int_eq(pthread_join(th[i], NULL), 0);
  atomic_store(&sampler.stop, true);
  ck_assert_int_eq(pthread_join(sampler_th, NULL), 0);
  ASSERT_NO_THREAD_FAILURE();
  ck_assert_uint_gt(sampler.samples, 0);

  if (cfg->expiry)
    quiesce();
  uint64_t gets = 0, hits = 0, sets = 0, deletes = 0;
  for (int i = 0; i < N_WORKERS; i++) {
    gets += workers[i].gets;
    hits += workers[i].hits;
    sets += workers[i].sets;
    deletes += workers[i].deletes_ok;
  }
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.entries, cache_count(cache));
  ck_assert_uint_le(st.entries, cfg->max_entries);
  ck_assert_uint_le(st.bytes, cfg->max_bytes);
  ck_assert_uint_eq(st.hits + st.misses, gets);
  ck_assert_uint_eq(st.hits, hits);
  ck_assert_uint_eq(st.sets, sets);
  ck_assert_uint_eq(st.deletes, deletes);
  ck_assert_uint_gt(st.evictions, 0); /* the bounds were reached */

  if (cfg->listener) {
    /* Every set added an entry; every listener call accounts for one that
     * left. */
    ck_assert_uint_eq(st.entries, st.sets - atomic_load(&removed_total));
    ck_assert_uint_eq(st.evictions,
                      atomic_load(&removed_by[CACHE_REMOVED_EVICTED]));
    ck_assert_uint_eq(st.expirations,
                      atomic_load(&removed_by[CACHE_REMOVED_EXPIRED]));
    ck_assert_uint_eq(st.deletes,
                      atomic_load(&removed_by[CACHE_REMOVED_DELETED]));
    ck_assert_uint_eq(atomic_load(&removed_by[CACHE_REMOVED_CLEARED]), 0);
    ck_assert_uint_eq(atomic_load(&removed_by[CACHE_REMOVED_MEMORY]), 0);
    ck_assert_uint_gt(atomic_load(&removed_by[CACHE_REMOVED_REPLACED]), 0);
    if (cfg->expiry)
      ck_assert_uint_gt(st.expirations, 0);
  }

  /* The last value of each thread's own key: still there, or handed to
   * the listener; never an older one. */
  for (int i = 0; i < N_WORKERS; i++) {
    char key[8];
    snprintf(key, sizeof key, "t%d:own", i);
    own_value_t v;
    size_t len = 0;
    int rc = cache_get(cache, key, 6, &v, sizeof v, &len);
    ck_assert_msg(rc == CACHE_OK || rc == CACHE_NOT_FOUND, "get %s: %s", key,
                  cache_err_name(rc));
    if (rc == CACHE_OK) {
      ck_assert_uint_eq(len, sizeof v);
      ck_assert_uint_eq(v.n, workers[i].own_last);
      if (cfg->listener)
        ck_assert_uint_lt(atomic_load(&own_removed_max[i]), v.n);
    } else if (cfg->listener && workers[i].own_last > 0) {
      ck_assert_uint_eq(atomic_load(&own_removed_max[i]), workers[i].own_last);
    }
  }

  ASSERT_OK(cache_clear(cache));
  st = tu_stats(cache);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.bytes, 0);
  if (cfg->listener)
    ck_assert_uint_eq(atomic_load(&removed_total), st.sets);
  cache_destroy(cache);
  cache = NULL;
}
END_TEST

static Suite *stress_suite(void) {
  Suite *s = suite_create("stress");
  TCase *t = tcase_create("stress");
  tcase_set_timeout(t, 300);
  tcase_add_loop_test(
      t, bounds_hold_at_every_sample_and_every_operation_is_counted, 0,
      N_CONFIGS);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(stress_suite()); }
