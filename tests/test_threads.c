/* Many threads on one handle: bounds hold, counters add up, no update is
 * lost and no value is torn. Failures inside threads are recorded and
 * asserted by the main thread after the join. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "test_util.h"

#define N_THREADS 4

static atomic_int failures;
static char first_failure[256];
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;

static void record_failure(const char *what, int status, int thread) {
  if (atomic_fetch_add(&failures, 1) == 0) {
    pthread_mutex_lock(&failure_lock);
    snprintf(first_failure, sizeof first_failure, "thread %d: %s (%s)", thread,
             what, cache_err_name(status));
    pthread_mutex_unlock(&failure_lock);
  }
}

static void reset_failures(void) {
  atomic_store(&failures, 0);
  first_failure[0] = '\0';
}

#define ASSERT_NO_THREAD_FAILURE()                                             \
  ck_assert_msg(atomic_load(&failures) == 0, "%d failure(s), first: %s",       \
                atomic_load(&failures), first_failure)

static void run_threads(void *(*fn)(void *), void *args, size_t arg_size) {
  pthread_t th[N_THREADS];
  for (int i = 0; i < N_THREADS; i++)
    ck_assert_int_eq(
        pthread_create(&th[i], NULL, fn, (char *)args + (size_t)i * arg_size),
        0);
  for (int i = 0; i < N_THREADS; i++)
    ck_assert_int_eq(pthread_join(th[i], NULL), 0);
}

/* ---- mixed workload on a bounded cache ---------------------------------- */

#define MIX_OPS 5000 /* per thread: 20,000 in all */
#define MIX_KEYS 200
#define MIX_MAX_ENTRIES 64
#define MIX_MAX_BYTES 16384

typedef struct mix_arg {
  cache_t *cache;
  int id;
  uint64_t gets, hits, sets;
} mix_arg_t;

static void *mix_worker(void *p) {
  mix_arg_t *a = p;
  uint32_t rng = 7919u * (uint32_t)(a->id + 1);
  unsigned char value[128], buf[128];
  char key[16];
  for (int i = 0; i < MIX_OPS; i++) {
    uint32_t r = tu_rand(&rng);
    int klen = snprintf(key, sizeof key, "k%u", (unsigned)(r % MIX_KEYS));
    uint32_t op = (r >> 10) % 100;
    if (op < 50) {
      size_t len = 0;
      int st = cache_get(a->cache, key, (size_t)klen, buf, sizeof buf, &len);
      a->gets++;
      if (st == CACHE_OK) {
        a->hits++;
        /* Every value is its own length repeated: a torn or mixed copy
         * would show. */
        for (size_t j = 0; j < len; j++)
          if (buf[j] != (unsigned char)len) {
            record_failure("get returned a corrupted value", st, a->id);
            break;
          }
      } else if (st != CACHE_NOT_FOUND) {
        record_failure("get", st, a->id);
      }
    } else if (op < 85) {
      size_t len = tu_rand(&rng) % 101;
      memset(value, (int)len, len);
      int st = cache_set(a->cache, key, (size_t)klen, value, len, 0);
      if (st == CACHE_OK)
        a->sets++;
      else
        record_failure("set", st, a->id);
    } else if (op < 95) {
      int st = cache_contains(a->cache, key, (size_t)klen);
      if (st != CACHE_OK && st != CACHE_NOT_FOUND)
        record_failure("contains", st, a->id);
    } else {
      int st = cache_delete(a->cache, key, (size_t)klen);
      if (st != CACHE_OK && st != CACHE_NOT_FOUND)
        record_failure("delete", st, a->id);
    }
    if (i % 500 == 0) {
      cache_stats_t st;
      memset(&st, 0, sizeof st);
      st.struct_size = sizeof st;
      int rc = cache_stats(a->cache, &st);
      if (rc != CACHE_OK)
        record_failure("stats", rc, a->id);
      else if (st.entries > MIX_MAX_ENTRIES)
        record_failure("entries above max_entries", rc, a->id);
      else if (st.bytes > MIX_MAX_BYTES)
        record_failure("bytes above max_bytes", rc, a->id);
      if (cache_count(a->cache) > MIX_MAX_ENTRIES)
        record_failure("count above max_entries", CACHE_OK, a->id);
    }
  }
  return NULL;
}

START_TEST(bounded_cache_holds_its_bounds_and_counts_every_get) {
  reset_failures();
  tu_config_t cfg = {NULL, CACHE_POLICY_LRU, 0, MIX_MAX_ENTRIES, MIX_MAX_BYTES,
                     NULL};
  cfg.policy = _i == 0 ? CACHE_POLICY_LRU : CACHE_POLICY_FIFO;
  cache_t *c = tu_make_cache_cfg(&cfg);
  mix_arg_t args[N_THREADS];
  memset(args, 0, sizeof args);
  for (int i = 0; i < N_THREADS; i++) {
    args[i].cache = c;
    args[i].id = i;
  }
  run_threads(mix_worker, args, sizeof args[0]);
  ASSERT_NO_THREAD_FAILURE();

  uint64_t gets = 0, hits = 0, sets = 0;
  for (int i = 0; i < N_THREADS; i++) {
    gets += args[i].gets;
    hits += args[i].hits;
    sets += args[i].sets;
  }
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_le(cache_count(c), MIX_MAX_ENTRIES);
  ck_assert_uint_eq(st.entries, cache_count(c));
  ck_assert_uint_le(st.bytes, MIX_MAX_BYTES);
  ck_assert_uint_eq(st.hits + st.misses, gets);
  ck_assert_uint_eq(st.hits, hits);
  ck_assert_uint_eq(st.sets, sets);
  ck_assert_uint_gt(st.evictions, 0);
  ASSERT_OK(cache_clear(c));
  ck_assert_uint_eq(tu_stats(c).bytes, 0);
  cache_destroy(c);
}
END_TEST

/* ---- no lost update ----------------------------------------------------- */

#define UPD_ROUNDS 2000
#define UPD_COPIES 4

typedef struct upd_arg {
  cache_t *cache;
  int id;
} upd_arg_t;

typedef struct counter_value {
  uint64_t copy[UPD_COPIES];
} counter_value_t;

static int read_counter(cache_t *c, int owner, uint64_t *out, int *status) {
  char key[16];
  int klen = snprintf(key, sizeof key, "own-%d", owner);
  counter_value_t v;
  size_t len = 0;
  *status = cache_get(c, key, (size_t)klen, &v, sizeof v, &len);
  if (*status != CACHE_OK)
    return 0;
  if (len != sizeof v)
    return -1;
  for (int j = 1; j < UPD_COPIES; j++)
    if (v.copy[j] != v.copy[0])
      return -1;
  *out = v.copy[0];
  return 1;
}

static void *upd_worker(void *p) {
  upd_arg_t *a = p;
  char key[16];
  int klen = snprintf(key, sizeof key, "own-%d", a->id);
  int peer = (a->id + 1) % N_THREADS;
  uint64_t last_peer = 0;
  for (uint64_t n = 1; n <= UPD_ROUNDS; n++) {
    counter_value_t v;
    for (int j = 0; j < UPD_COPIES; j++)
      v.copy[j] = n;
    int st = cache_set(a->cache, key, (size_t)klen, &v, sizeof v, 0);
    if (st != CACHE_OK) {
      record_failure("set of own key", st, a->id);
      return NULL;
    }
    uint64_t got = 0;
    int rc = read_counter(a->cache, a->id, &got, &st);
    if (rc != 1 || got != n) {
      record_failure("own key did not read back the value just written", st,
                     a->id);
      return NULL;
    }
    /* The peer's counter only grows, and is never torn. */
    rc = read_counter(a->cache, peer, &got, &st);
    if (rc < 0) {
      record_failure("peer key read back a torn value", st, a->id);
      return NULL;
    }
    if (rc == 0 && st != CACHE_NOT_FOUND) {
      record_failure("get of peer key", st, a->id);
      return NULL;
    }
    if (rc == 1) {
      if (got < last_peer) {
        record_failure("peer counter went backwards", st, a->id);
        return NULL;
      }
      last_peer = got;
    }
  }
  return NULL;
}

START_TEST(key_written_by_one_thread_loses_no_update) {
  reset_failures();
  cache_t *c = tu_make_cache(NULL, 0, 0);
  upd_arg_t args[N_THREADS];
  for (int i = 0; i < N_THREADS; i++) {
    args[i].cache = c;
    args[i].id = i;
  }
  run_threads(upd_worker, args, sizeof args[0]);
  ASSERT_NO_THREAD_FAILURE();
  for (int i = 0; i < N_THREADS; i++) {
    uint64_t got = 0;
    int st;
    ck_assert_int_eq(read_counter(c, i, &got, &st), 1);
    ck_assert_uint_eq(got, UPD_ROUNDS);
  }
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, N_THREADS);
  ck_assert_uint_eq(st.sets, (uint64_t)N_THREADS * UPD_ROUNDS);
  cache_destroy(c);
}
END_TEST

/* ---- expiry passes racing with writers ---------------------------------- */

#define EXP_OPS 1500

typedef struct atomic_clock {
  _Atomic uint64_t now_ms;
} atomic_clock_t;

static uint64_t atomic_clock_now(void *ctx) {
  return atomic_load(&((atomic_clock_t *)ctx)->now_ms);
}

typedef struct exp_arg {
  cache_t *cache;
  atomic_clock_t *clock;
  int id;
  uint64_t cleanups_ok;
} exp_arg_t;

static void *exp_worker(void *p) {
  exp_arg_t *a = p;
  char key[24];
  for (int i = 0; i < EXP_OPS; i++) {
    if (a->id == 0 && i % 10 == 0) {
      uint64_t removed = 0;
      int st = cache_cleanup(a->cache, &removed);
      if (st == CACHE_OK)
        a->cleanups_ok++;
      else if (st != CACHE_EBUSY)
        record_failure("cleanup", st, a->id);
      continue;
    }
    if (i % 7 == 0)
      atomic_fetch_add(&a->clock->now_ms, 1);
    int klen = snprintf(key, sizeof key, "t%d-%d", a->id, i % 300);
    int st = cache_set(a->cache, key, (size_t)klen, "v", 1, 5);
    if (st != CACHE_OK)
      record_failure("set", st, a->id);
    size_t len;
    char buf[4];
    st = cache_get(a->cache, key, (size_t)klen, buf, sizeof buf, &len);
    if (st != CACHE_OK && st != CACHE_NOT_FOUND)
      record_failure("get", st, a->id);
  }
  return NULL;
}

START_TEST(cleanup_passes_race_safely_with_writers) {
  reset_failures();
  atomic_clock_t clk;
  atomic_init(&clk.now_ms, 1000);
  cache_options_t o;
  cache_options_init(&o);
  o.max_entries = 500;
  o.clock_ms = atomic_clock_now;
  o.clock_ctx = &clk;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  exp_arg_t args[N_THREADS];
  memset(args, 0, sizeof args);
  for (int i = 0; i < N_THREADS; i++) {
    args[i].cache = c;
    args[i].clock = &clk;
    args[i].id = i;
  }
  run_threads(exp_worker, args, sizeof args[0]);
  ASSERT_NO_THREAD_FAILURE();

  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.cleanup_runs, args[0].cleanups_ok);
  ck_assert_uint_le(st.entries, 500);
  /* Once everything has expired, one pass empties the cache. */
  atomic_fetch_add(&clk.now_ms, 1000);
  ASSERT_OK(cache_cleanup(c, NULL));
  ck_assert_uint_eq(cache_count(c), 0);
  st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.bytes, 0);
  cache_destroy(c);
}
END_TEST

/* ---- clear racing with writers ------------------------------------------ */

typedef struct clr_arg {
  cache_t *cache;
  int id;
} clr_arg_t;

static void *clr_worker(void *p) {
  clr_arg_t *a = p;
  char key[24];
  for (int i = 0; i < 2000; i++) {
    if (a->id == 0 && i % 50 == 0) {
      int st = cache_clear(a->cache);
      if (st != CACHE_OK)
        record_failure("clear", st, a->id);
      continue;
    }
    int klen = snprintf(key, sizeof key, "c%d-%d", a->id, i % 100);
    int st = cache_set(a->cache, key, (size_t)klen, key, (size_t)klen, 0);
    if (st != CACHE_OK)
      record_failure("set", st, a->id);
  }
  return NULL;
}

START_TEST(clear_races_safely_with_writers) {
  reset_failures();
  cache_t *c = tu_make_cache(NULL, 0, 0);
  clr_arg_t args[N_THREADS];
  for (int i = 0; i < N_THREADS; i++) {
    args[i].cache = c;
    args[i].id = i;
  }
  run_threads(clr_worker, args, sizeof args[0]);
  ASSERT_NO_THREAD_FAILURE();
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, cache_count(c));
  ck_assert_uint_le(st.entries, (N_THREADS - 1) * 100 + 100);
  ASSERT_OK(cache_clear(c));
  st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.bytes, 0);
  cache_destroy(c);
}
END_TEST

static Suite *threads_suite(void) {
  Suite *s = suite_create("threads");
  TCase *t = tcase_create("threads");
  tcase_set_timeout(t, 120);
  tcase_add_loop_test(t, bounded_cache_holds_its_bounds_and_counts_every_get, 0,
                      2);
  tcase_add_test(t, key_written_by_one_thread_loses_no_update);
  tcase_add_test(t, cleanup_passes_race_safely_with_writers);
  tcase_add_test(t, clear_races_safely_with_writers);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(threads_suite()); }
