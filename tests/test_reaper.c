/* The background cleanup thread ("reaper") and the expiry pass itself:
 *  - one thread serves every cache with a cleanup interval, and exists only
 *    while there is such a cache;
 *  - with the monotonic clock it sleeps until a pass is due (no wake-ups
 *    in between); with a clock of the cache's own, due times are on that
 *    clock;
 *  - a pass holds no lock while the listener runs, removes at most 64
 *    entries per hold of a shard lock, and a second pass on the same cache
 *    meanwhile gets CACHE_EBUSY;
 *  - destroying a cache waits for a pass on it that is under way.
 *
 * Expiry is decided with clocks the test moves by hand; real time is only
 * used to bound the wait for another thread. Linked against the static
 * test build of the library, to see whether a thread that left on its own
 * was joined. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "test_async.h"

#include "reaper.h"

/* ---- a listener that can hold a pass inside it --------------------------- */

typedef struct gate {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  bool armed;    /* the next call blocks */
  bool entered;  /* a call is blocked */
  bool released; /* let it go */
  int calls;
  int reasons_other_than_expired;
  pthread_t caller; /* the thread of the blocked call */
  cache_t *cache;
  uint64_t count_inside; /* cache_count() seen by the blocked call */
} gate_t;

static gate_t gate = {.lock = PTHREAD_MUTEX_INITIALIZER,
                      .changed = PTHREAD_COND_INITIALIZER};

static void gate_reset(void) {
  pthread_mutex_lock(&gate.lock);
  gate.armed = gate.entered = gate.released = false;
  gate.calls = 0;
  gate.reasons_other_than_expired = 0;
  gate.cache = NULL;
  gate.count_inside = 0;
  pthread_mutex_unlock(&gate.lock);
}

static void gate_listener(const void *key, size_t key_len, const void *value,
                          size_t value_len, int reason, void *ctx) {
  (void)key, (void)key_len, (void)value, (void)value_len;
  gate_t *g = ctx;
  pthread_mutex_lock(&g->lock);
  g->calls++;
  if (reason != CACHE_REMOVED_EXPIRED && reason != CACHE_REMOVED_CLEARED)
    g->reasons_other_than_expired++;
  if (g->armed && reason == CACHE_REMOVED_EXPIRED) {
    g->armed = false;
    g->entered = true;
    g->caller = pthread_self();
    g->count_inside = cache_count(g->cache);
    pthread_cond_broadcast(&g->changed);
    /* Bounded, so that a failing test cannot hang the suite. */
    uint64_t start = real_ms();
    while (!g->released && real_ms() - start < WAIT_LIMIT_MS) {
      pthread_mutex_unlock(&g->lock);
      sleep_ms(1);
      pthread_mutex_lock(&g->lock);
    }
  }
  pthread_mutex_unlock(&g->lock);
}

static bool gate_entered(void) {
  pthread_mutex_lock(&gate.lock);
  bool e = gate.entered;
  pthread_mutex_unlock(&gate.lock);
  return e;
}

static int gate_calls(void) {
  pthread_mutex_lock(&gate.lock);
  int n = gate.calls;
  pthread_mutex_unlock(&gate.lock);
  return n;
}

static void gate_arm(cache_t *c) {
  pthread_mutex_lock(&gate.lock);
  gate.cache = c;
  gate.armed = true;
  pthread_mutex_unlock(&gate.lock);
}

static void gate_release(void) {
  pthread_mutex_lock(&gate.lock);
  gate.released = true;
  pthread_cond_broadcast(&gate.changed);
  pthread_mutex_unlock(&gate.lock);
}

/* ---- caches ------------------------------------------------------------- */

static atomic_clock_t clk;

static void setup(void) {
  atomic_store(&clk.now_ms, 1000);
  gate_reset();
}

static void teardown(void) { gate_release(); }

/* interval 0 = no background pass; own_clock: the atomic test clock
 * instead of the monotonic one. */
static cache_t *make(uint64_t interval_ms, bool own_clock,
                     uint64_t max_entries) {
  cache_options_t o;
  cache_options_init(&o);
  o.ttl_ms = 10;
  o.max_entries = max_entries;
  o.cleanup_interval_ms = interval_ms;
  if (own_clock) {
    o.clock_ms = atomic_clock_now;
    o.clock_ctx = &clk;
  }
  o.on_remove = gate_listener;
  o.on_remove_ctx = &gate;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

/* ---- the thread --------------------------------------------------------- */

#define MANY 10

START_TEST(one_thread_serves_every_cache_with_an_interval) {
  int base = settled_thread_count();
  ck_assert_int_gt(base, 0);
  cache_t *plain = make(0, false, 0);
  ck_assert_int_eq(thread_count(), base);

  cache_t *caches[MANY];
  for (int i = 0; i < MANY; i++) {
    caches[i] = make(60000, false, 0);
    ck_assert_int_eq(thread_count(), base + 1);
  }
  for (int i = 0; i < MANY - 1; i++) {
    cache_destroy(caches[i]);
    ck_assert_int_eq(thread_count(), base + 1);
  }
  cache_destroy(caches[MANY - 1]);
  WAIT_FOR(thread_count() == base);
  ck_assert_int_eq(thread_count(), base);
  cache_destroy(plain);
  ck_assert_int_eq(thread_count(), base);
}
END_TEST

START_TEST(caches_without_an_interval_start_no_thread) {
  int base = settled_thread_count();
  cache_t *caches[MANY];
  for (int i = 0; i < MANY; i++)
    caches[i] = make(0, i % 2 == 0, 0);
  ck_assert_int_eq(thread_count(), base);
  for (int i = 0; i < MANY; i++)
    cache_destroy(caches[i]);
  ck_assert_int_eq(thread_count(), base);
}
END_TEST

START_TEST(closing_the_last_cache_with_an_interval_stops_the_thread) {
  int base = settled_thread_count();
  cache_t *a = make(60000, false, 0);
  cache_t *b = make(5, true, 0);
  ck_assert_int_eq(thread_count(), base + 1);
  ASSERT_OK(cache_close(a));
  ck_assert_int_eq(thread_count(), base + 1);
  ASSERT_OK(cache_close(b));
  WAIT_FOR(thread_count() == base);
  ck_assert_int_eq(thread_count(), base);
  cache_destroy(a);
  cache_destroy(b);
}
END_TEST

START_TEST(thread_comes_back_for_a_new_cache) {
  int base = settled_thread_count();
  for (int round = 0; round < 3; round++) {
    cache_t *c = make(5, true, 0);
    ck_assert_int_eq(thread_count(), base + 1);
    ASSERT_OK(tu_set(c, "k", "v", 0));
    atomic_clock_advance(&clk, 100);
    WAIT_FOR(cache_count(c) == 0);
    ck_assert_uint_eq(cache_count(c), 0);
    cache_destroy(c);
    WAIT_FOR(thread_count() == base);
    ck_assert_int_eq(thread_count(), base);
  }
}
END_TEST

/* voluntary_ctxt_switches of thread tid, or -1. */
static long voluntary_switches(long tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  char line[256];
  long n = -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
      break;
  fclose(f);
  return n;
}

#define MAX_TIDS 256

START_TEST(idle_thread_does_not_wake_up_between_passes) {
  long before[MAX_TIDS], after[MAX_TIDS];
  ck_assert_int_gt(settled_thread_count(), 0);
  int nb = thread_ids(before, MAX_TIDS);
  ck_assert_int_gt(nb, 0);
  ck_assert_int_le(nb, MAX_TIDS - 1);
  cache_t *caches[MANY];
  caches[0] = make(60000, false, 0);
  int na = thread_ids(after, MAX_TIDS);
  ck_assert_int_eq(na, nb + 1);
  long reaper = -1;
  for (int i = 0; i < na; i++) {
    bool known = false;
    for (int j = 0; j < nb; j++)
      known = known || after[i] == before[j];
    if (!known)
      reaper = after[i];
  }
  ck_assert_int_gt(reaper, 0);

  for (int i = 1; i < MANY; i++) {
    caches[i] = make(60000, false, 0);
    ASSERT_OK(tu_set(caches[i], "k", "v", 0));
  }
  sleep_ms(50); /* let it take in the last registration */
  long first = voluntary_switches(reaper);
  ck_assert_int_ge(first, 0);
  sleep_ms(300);
  long second = voluntary_switches(reaper);
  ck_assert_msg(second == first,
                "the cleanup thread woke up %ld time(s) in 300 ms with "
                "nothing due for 60 s",
                second - first);
  for (int i = 0; i < MANY; i++)
    cache_destroy(caches[i]);
}
END_TEST

/* ---- when passes run ---------------------------------------------------- */

START_TEST(pass_runs_when_the_cache_clock_reaches_the_interval) {
  cache_t *c = make(1000, true, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  atomic_clock_advance(&clk, 999);
  sleep_ms(50);
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 0);
  ck_assert_uint_eq(cache_count(c), 1);
  atomic_clock_advance(&clk, 1);
  WAIT_FOR(tu_stats(c).cleanup_runs == 1);
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 1);
  ck_assert_uint_eq(cache_count(c), 0);
  ck_assert_uint_eq(tu_stats(c).expirations, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(passes_repeat_every_interval_after_the_last) {
  reaper_probe_t probe;
  probe_start(&probe);
  cache_t *c = make(1000, true, 0);
  atomic_clock_advance(&clk, 1000);
  WAIT_FOR(tu_stats(c).cleanup_runs == 1);
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 1);
  probe_sync(&probe); /* the next pass is scheduled */
  ASSERT_OK(tu_set(c, "a", "1", 0));
  atomic_clock_advance(&clk, 999);
  sleep_ms(50);
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 1);
  atomic_clock_advance(&clk, 1);
  WAIT_FOR(tu_stats(c).cleanup_runs == 2);
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 2);
  ck_assert_uint_eq(cache_count(c), 0);
  cache_destroy(c);
  probe_stop(&probe);
}
END_TEST

START_TEST(long_interval_does_not_delay_a_short_one) {
  /* The thread sleeps 60 s for the first cache; the second, added later,
   * must not wait for that. */
  cache_t *slow = make(60000, false, 0);
  ASSERT_OK(tu_set(slow, "s", "1", 0));
  sleep_ms(20);
  cache_t *fast = make(5, false, 0);
  ASSERT_OK(tu_set(fast, "f", "1", 1));
  WAIT_FOR(cache_count(fast) == 0);
  ck_assert_uint_eq(cache_count(fast), 0);
  ck_assert_uint_eq(cache_count(slow), 1);
  cache_destroy(fast);
  cache_destroy(slow);
}
END_TEST

START_TEST(own_clock_cache_is_served_beside_a_sleeping_monotonic_one) {
  cache_t *slow = make(60000, false, 0);
  cache_t *sim = make(10, true, 0);
  ASSERT_OK(tu_set(sim, "a", "1", 0));
  sleep_ms(20);
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(cache_count(sim) == 0);
  ck_assert_uint_eq(cache_count(sim), 0);
  cache_destroy(sim);
  cache_destroy(slow);
}
END_TEST

START_TEST(background_listener_runs_on_another_thread) {
  cache_t *c = make(5, true, 0);
  gate_arm(c);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(gate_entered());
  ck_assert(gate_entered());
  ck_assert(!pthread_equal(gate.caller, pthread_self()));
  gate_release();
  WAIT_FOR(cache_count(c) == 0);
  ck_assert_uint_eq(cache_count(c), 0);
  pthread_mutex_lock(&gate.lock);
  int others = gate.reasons_other_than_expired;
  pthread_mutex_unlock(&gate.lock);
  ck_assert_int_eq(others, 0);
  cache_destroy(c);
}
END_TEST

/* A listener on the background thread that calls back into its cache. */
typedef struct callback {
  cache_t *cache;
  atomic_int expired;
  atomic_int set_status;
  atomic_int close_status;
  bool close; /* close the cache instead of writing to it */
} callback_t;

static void call_back(const void *key, size_t key_len, const void *value,
                      size_t value_len, int reason, void *ctx) {
  (void)value, (void)value_len;
  callback_t *cb = ctx;
  if (reason != CACHE_REMOVED_EXPIRED)
    return;
  atomic_fetch_add(&cb->expired, 1);
  if (cb->close) {
    atomic_store(&cb->close_status, cache_close(cb->cache));
    return;
  }
  char copy[32];
  int n =
      snprintf(copy, sizeof copy, "was-%.*s", (int)key_len, (const char *)key);
  atomic_store(&cb->set_status,
               cache_set(cb->cache, copy, (size_t)n, "x", 1, CACHE_TTL_NEVER));
}

static cache_t *make_calling_back(callback_t *cb, bool close) {
  cb->close = close;
  atomic_init(&cb->expired, 0);
  atomic_init(&cb->set_status, 99);
  atomic_init(&cb->close_status, 99);
  cache_options_t o;
  cache_options_init(&o);
  o.ttl_ms = 10;
  o.cleanup_interval_ms = 5;
  o.clock_ms = atomic_clock_now;
  o.clock_ctx = &clk;
  o.on_remove = call_back;
  o.on_remove_ctx = cb;
  cb->cache = NULL;
  ASSERT_OK(cache_create(&o, &cb->cache));
  return cb->cache;
}

START_TEST(background_listener_may_write_to_its_cache) {
  static callback_t cb;
  cache_t *c = make_calling_back(&cb, false);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(atomic_load(&cb.expired) == 1 &&
           tu_contains(c, "was-a") == CACHE_OK);
  ASSERT_OK(atomic_load(&cb.set_status));
  ASSERT_OK(tu_contains(c, "was-a"));
  ASSERT_STATUS(tu_contains(c, "a"), CACHE_NOT_FOUND);
  cache_destroy(c);
}
END_TEST

START_TEST(background_listener_may_close_its_cache) {
  int base = settled_thread_count();
  static callback_t cb;
  cache_t *c = make_calling_back(&cb, true);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", CACHE_TTL_NEVER));
  ck_assert_int_eq(thread_count(), base + 1);
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(tu_contains(c, "b") == CACHE_ECLOSED);
  ASSERT_STATUS(tu_contains(c, "b"), CACHE_ECLOSED);
  WAIT_FOR(atomic_load(&cb.close_status) != 99);
  ASSERT_OK(atomic_load(&cb.close_status));
  ck_assert_int_eq(atomic_load(&cb.expired), 1);
  /* It was the only cache with an interval: the thread leaves, to be
   * joined by whoever starts the next one... */
  WAIT_FOR(thread_count() == base);
  ck_assert_int_eq(thread_count(), base);
  ck_assert(cache__reaper_unjoined());
  cache_destroy(c);
  ck_assert(cache__reaper_unjoined());
  /* ...which comes for the next cache. */
  cache_t *next = make(5, true, 0);
  ck_assert(!cache__reaper_unjoined());
  ASSERT_OK(tu_set(next, "n", "1", 0));
  ck_assert_int_eq(thread_count(), base + 1);
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(cache_count(next) == 0);
  ck_assert_uint_eq(cache_count(next), 0);
  cache_destroy(next);
  WAIT_FOR(thread_count() == base);
  ck_assert_int_eq(thread_count(), base);
}
END_TEST

/* ---- a pass under way --------------------------------------------------- */

typedef struct pass_arg {
  cache_t *cache;
  int status;
  uint64_t removed;
} pass_arg_t;

static void *run_cleanup(void *p) {
  pass_arg_t *a = p;
  a->status = cache_cleanup(a->cache, &a->removed);
  return NULL;
}

START_TEST(cleanup_is_ebusy_while_another_pass_runs) {
  cache_t *c = make(0, true, 0);
  ASSERT_OK(tu_set(c, "old", "1", 0));
  atomic_clock_advance(&clk, 100);
  gate_arm(c);
  static pass_arg_t a; /* outlives the test if an assertion fails */
  a = (pass_arg_t){c, 99, 0};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, run_cleanup, &a), 0);
  WAIT_FOR(gate_entered());
  ck_assert(gate_entered());
  uint64_t removed = 77;
  ASSERT_STATUS(cache_cleanup(c, &removed), CACHE_EBUSY);
  gate_release();
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  ASSERT_OK(a.status);
  ck_assert_uint_eq(a.removed, 1);
  /* Once it is over, a new pass may run. */
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 0);
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 2);
  cache_destroy(c);
}
END_TEST

START_TEST(cleanup_is_ebusy_while_a_background_pass_runs) {
  cache_t *c = make(5, true, 0);
  ASSERT_OK(tu_set(c, "old", "1", 0));
  gate_arm(c);
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(gate_entered());
  ck_assert(gate_entered());
  ASSERT_STATUS(cache_cleanup(c, NULL), CACHE_EBUSY);
  gate_release();
  WAIT_FOR(cache_cleanup(c, NULL) == CACHE_OK);
  ASSERT_OK(cache_cleanup(c, NULL));
  ck_assert_uint_eq(cache_count(c), 0);
  cache_destroy(c);
}
END_TEST

START_TEST(pass_holds_no_lock_while_the_listener_runs) {
  /* One shard, so any lock the pass held would be the one these calls
   * need. */
  cache_t *c = make(0, true, 100);
  ASSERT_OK(tu_set(c, "old", "1", 0));
  ASSERT_OK(tu_set(c, "live", "2", CACHE_TTL_NEVER));
  atomic_clock_advance(&clk, 100);
  gate_arm(c);
  static pass_arg_t a; /* outlives the test if an assertion fails */
  a = (pass_arg_t){c, 99, 0};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, run_cleanup, &a), 0);
  WAIT_FOR(gate_entered());
  ck_assert(gate_entered());

  ASSERT_VALUE(c, "live", "2");
  ASSERT_OK(tu_set(c, "new", "3", CACHE_TTL_NEVER));
  ASSERT_OK(tu_contains(c, "new"));
  ASSERT_OK(tu_delete(c, "new"));
  ck_assert_uint_eq(cache_count(c), 1);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 1);

  gate_release();
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  ASSERT_OK(a.status);
  ck_assert_uint_eq(a.removed, 1);
  cache_destroy(c);
}
END_TEST

#define BATCH 64
#define ONE_SHARD_MAX 127 /* the largest bound that keeps one shard */

START_TEST(pass_removes_at_most_64_entries_per_lock_hold) {
  cache_t *c = make(0, true, ONE_SHARD_MAX);
  for (int i = 0; i < ONE_SHARD_MAX; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(tu_set(c, key, "v", 0));
  }
  ck_assert_uint_eq(cache_count(c), ONE_SHARD_MAX);
  atomic_clock_advance(&clk, 100);
  gate_arm(c);
  static pass_arg_t a; /* outlives the test if an assertion fails */
  a = (pass_arg_t){c, 99, 0};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, run_cleanup, &a), 0);
  WAIT_FOR(gate_entered());
  ck_assert(gate_entered());
  /* The first listener call comes after its batch left the cache, and
   * before any later batch was taken. */
  ck_assert_uint_lt(gate.count_inside, ONE_SHARD_MAX);
  ck_assert_uint_ge(gate.count_inside, ONE_SHARD_MAX - BATCH);
  gate_release();
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  ASSERT_OK(a.status);
  ck_assert_uint_eq(a.removed, ONE_SHARD_MAX);
  ck_assert_uint_eq(cache_count(c), 0);
  ck_assert_int_eq(gate_calls(), ONE_SHARD_MAX);
  cache_destroy(c);
}
END_TEST

typedef struct destroy_arg {
  cache_t *cache;
  atomic_bool done;
} destroy_arg_t;

static void *run_destroy(void *p) {
  destroy_arg_t *a = p;
  cache_destroy(a->cache);
  atomic_store(&a->done, true);
  return NULL;
}

START_TEST(destroy_waits_for_a_background_pass_under_way) {
  cache_t *c = make(5, true, 0);
  ASSERT_OK(tu_set(c, "old", "1", 0));
  ASSERT_OK(tu_set(c, "live", "2", CACHE_TTL_NEVER));
  gate_arm(c);
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(gate_entered());
  ck_assert(gate_entered());

  static destroy_arg_t a; /* outlives the test if an assertion fails */
  a.cache = c;
  atomic_store(&a.done, false);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, run_destroy, &a), 0);
  sleep_ms(50);
  ck_assert_msg(!atomic_load(&a.done),
                "cache_destroy returned while a pass on the cache was "
                "inside its listener");
  gate_release();
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  ck_assert(atomic_load(&a.done));
  /* "old" expired in the pass, "live" was cleared by the destroy. */
  ck_assert_int_eq(gate_calls(), 2);
}
END_TEST

static Suite *reaper_suite(void) {
  Suite *s = suite_create("reaper");

  TCase *t = tcase_create("thread");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_set_timeout(t, 120);
  tcase_add_test(t, one_thread_serves_every_cache_with_an_interval);
  tcase_add_test(t, caches_without_an_interval_start_no_thread);
  tcase_add_test(t, closing_the_last_cache_with_an_interval_stops_the_thread);
  tcase_add_test(t, thread_comes_back_for_a_new_cache);
  tcase_add_test(t, idle_thread_does_not_wake_up_between_passes);
  suite_add_tcase(s, t);

  TCase *w = tcase_create("when");
  tcase_add_checked_fixture(w, setup, teardown);
  tcase_set_timeout(w, 120);
  tcase_add_test(w, pass_runs_when_the_cache_clock_reaches_the_interval);
  tcase_add_test(w, passes_repeat_every_interval_after_the_last);
  tcase_add_test(w, long_interval_does_not_delay_a_short_one);
  tcase_add_test(w, own_clock_cache_is_served_beside_a_sleeping_monotonic_one);
  tcase_add_test(w, background_listener_runs_on_another_thread);
  tcase_add_test(w, background_listener_may_write_to_its_cache);
  tcase_add_test(w, background_listener_may_close_its_cache);
  suite_add_tcase(s, w);

  TCase *p = tcase_create("pass");
  tcase_add_checked_fixture(p, setup, teardown);
  tcase_set_timeout(p, 120);
  tcase_add_test(p, cleanup_is_ebusy_while_another_pass_runs);
  tcase_add_test(p, cleanup_is_ebusy_while_a_background_pass_runs);
  tcase_add_test(p, pass_holds_no_lock_while_the_listener_runs);
  tcase_add_test(p, pass_removes_at_most_64_entries_per_lock_hold);
  tcase_add_test(p, destroy_waits_for_a_background_pass_under_way);
  suite_add_tcase(s, p);
  return s;
}

int main(void) { return tu_run(reaper_suite()); }
