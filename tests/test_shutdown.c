/* cache_shutdown_all(): closes every live cache of the process (listeners
 * see CACHE_REMOVED_CLEARED), after which every call on those handles
 * returns CACHE_ECLOSED until cache_destroy() releases them; it stops the
 * background thread, may be called again, and caches created afterwards
 * work. It is safe while other threads use the caches. */
#define _POSIX_C_SOURCE 200809L
#include "test_async.h"

/* Listener counts, one set per cache. */
typedef struct tally {
  atomic_int calls;
  atomic_int cleared;
  atomic_int other; /* any other reason */
} tally_t;

static void count_removal(const void *key, size_t key_len, const void *value,
                          size_t value_len, int reason, void *ctx) {
  (void)key, (void)key_len, (void)value, (void)value_len;
  tally_t *t = ctx;
  atomic_fetch_add(&t->calls, 1);
  if (reason == CACHE_REMOVED_CLEARED)
    atomic_fetch_add(&t->cleared, 1);
  else
    atomic_fetch_add(&t->other, 1);
}

static atomic_clock_t clk;

static void setup(void) { atomic_store(&clk.now_ms, 1000); }

typedef struct spec {
  uint64_t max_entries;
  uint64_t interval_ms;
  bool own_clock;
} spec_t;

static cache_t *make(spec_t s, tally_t *t) {
  cache_options_t o;
  cache_options_init(&o);
  o.ttl_ms = 10;
  o.max_entries = s.max_entries;
  o.cleanup_interval_ms = s.interval_ms;
  if (s.own_clock) {
    o.clock_ms = atomic_clock_now;
    o.clock_ctx = &clk;
  }
  if (t != NULL) {
    atomic_init(&t->calls, 0);
    atomic_init(&t->cleared, 0);
    atomic_init(&t->other, 0);
    o.on_remove = count_removal;
    o.on_remove_ctx = t;
  }
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

static void fill(cache_t *c, int n) {
  for (int i = 0; i < n; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(tu_set(c, key, "v", CACHE_TTL_NEVER));
  }
}

/* Every call on a closed handle returns CACHE_ECLOSED. */
static void assert_closed(cache_t *c) {
  char buf[8];
  size_t len = 0;
  ASSERT_STATUS(tu_set(c, "k0", "v", 0), CACHE_ECLOSED);
  ASSERT_STATUS(tu_get(c, "k0", buf, sizeof buf, &len), CACHE_ECLOSED);
  ASSERT_STATUS(tu_contains(c, "k0"), CACHE_ECLOSED);
  ASSERT_STATUS(tu_delete(c, "k0"), CACHE_ECLOSED);
  ASSERT_STATUS(cache_clear(c), CACHE_ECLOSED);
  ASSERT_STATUS(cache_cleanup(c, NULL), CACHE_ECLOSED);
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  ASSERT_STATUS(cache_stats(c, &st), CACHE_ECLOSED);
  ck_assert_uint_eq(cache_count(c), 0);
  cache_alert_t alert;
  memset(&alert, 0, sizeof alert);
  alert.struct_size = sizeof alert;
  ck_assert_uint_eq(cache_alerts(c, &alert, 1), 0);
  ASSERT_STATUS(cache_close(c), CACHE_ECLOSED);
}

/* ---- closing ------------------------------------------------------------ */

START_TEST(shutdown_closes_every_live_cache) {
  tally_t t[3];
  cache_t *c[3];
  c[0] = make((spec_t){0, 0, false}, &t[0]);
  c[1] = make((spec_t){100, 0, true}, &t[1]);
  c[2] = make((spec_t){0, 60000, false}, &t[2]);
  fill(c[0], 50);
  fill(c[1], 10);
  fill(c[2], 3);
  cache_shutdown_all();
  ck_assert_int_eq(atomic_load(&t[0].cleared), 50);
  ck_assert_int_eq(atomic_load(&t[1].cleared), 10);
  ck_assert_int_eq(atomic_load(&t[2].cleared), 3);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(atomic_load(&t[i].other), 0);
    assert_closed(c[i]);
  }
  for (int i = 0; i < 3; i++)
    cache_destroy(c[i]);
  ck_assert_int_eq(atomic_load(&t[0].calls), 50);
  ck_assert_int_eq(atomic_load(&t[1].calls), 10);
  ck_assert_int_eq(atomic_load(&t[2].calls), 3);
}
END_TEST

START_TEST(name_stays_valid_after_shutdown) {
  cache_options_t o;
  cache_options_init(&o);
  o.name = "named";
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  cache_shutdown_all();
  ck_assert_str_eq(cache_name(c), "named");
  cache_destroy(c);
}
END_TEST

START_TEST(second_shutdown_is_harmless) {
  tally_t t;
  cache_t *c = make((spec_t){0, 0, false}, &t);
  fill(c, 5);
  cache_shutdown_all();
  cache_shutdown_all();
  ck_assert_int_eq(atomic_load(&t.calls), 5);
  assert_closed(c);
  cache_destroy(c);
  ck_assert_int_eq(atomic_load(&t.calls), 5);
}
END_TEST

START_TEST(shutdown_without_any_cache_is_harmless) {
  cache_shutdown_all();
  cache_shutdown_all();
}
END_TEST

START_TEST(cache_closed_before_is_left_as_it_was) {
  tally_t t;
  cache_t *c = make((spec_t){0, 0, false}, &t);
  fill(c, 4);
  ASSERT_OK(cache_close(c));
  ck_assert_int_eq(atomic_load(&t.calls), 4);
  cache_shutdown_all();
  ck_assert_int_eq(atomic_load(&t.calls), 4);
  assert_closed(c);
  cache_destroy(c);
}
END_TEST

START_TEST(destroyed_cache_is_not_touched) {
  tally_t t1, t2;
  cache_t *gone = make((spec_t){0, 0, false}, &t1);
  cache_t *kept = make((spec_t){0, 0, false}, &t2);
  fill(gone, 2);
  fill(kept, 3);
  cache_destroy(gone);
  ck_assert_int_eq(atomic_load(&t1.calls), 2);
  cache_shutdown_all();
  ck_assert_int_eq(atomic_load(&t1.calls), 2);
  ck_assert_int_eq(atomic_load(&t2.cleared), 3);
  cache_destroy(kept);
}
END_TEST

START_TEST(shutdown_stops_the_background_thread) {
  int base = settled_thread_count();
  cache_t *a = make((spec_t){0, 60000, false}, NULL);
  cache_t *b = make((spec_t){0, 5, true}, NULL);
  ck_assert_int_eq(thread_count(), base + 1);
  cache_shutdown_all();
  WAIT_FOR(thread_count() == base);
  ck_assert_int_eq(thread_count(), base);
  cache_destroy(a);
  cache_destroy(b);
}
END_TEST

START_TEST(caches_created_afterwards_work) {
  tally_t t_old, t_new;
  cache_t *old = make((spec_t){0, 5, true}, &t_old);
  fill(old, 2);
  cache_shutdown_all();

  cache_t *c = make((spec_t){0, 5, true}, &t_new);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", CACHE_TTL_NEVER));
  ASSERT_VALUE(c, "a", "1");
  ck_assert_uint_eq(cache_count(c), 2);
  /* Its background passes run: the thread came back for it. */
  atomic_clock_advance(&clk, 100);
  /* (A pass is counted once it is over, after it removed the entry.) */
  WAIT_FOR(cache_count(c) == 1 && stats_of(c).cleanup_runs >= 1);
  ck_assert_uint_eq(cache_count(c), 1);
  ck_assert_uint_ge(tu_stats(c).cleanup_runs, 1);
  ASSERT_VALUE(c, "b", "2");
  assert_closed(old);
  cache_destroy(old);
  /* And a later shutdown closes it in turn. */
  cache_shutdown_all();
  assert_closed(c);
  ck_assert_int_eq(atomic_load(&t_new.cleared), 1);
  cache_destroy(c);
}
END_TEST

/* A listener that uses another cache while the shutdown runs. */
static cache_t *peer;
static atomic_int peer_calls;

static void use_peer(const void *key, size_t key_len, const void *value,
                     size_t value_len, int reason, void *ctx) {
  (void)value, (void)value_len, (void)reason, (void)ctx;
  int st = cache_set(peer, key, key_len, "x", 1, 0);
  if (st == CACHE_OK || st == CACHE_ECLOSED)
    atomic_fetch_add(&peer_calls, 1);
}

START_TEST(listener_may_use_other_caches_during_shutdown) {
  atomic_store(&peer_calls, 0);
  tally_t t;
  peer = make((spec_t){0, 0, false}, &t);
  cache_options_t o;
  cache_options_init(&o);
  o.on_remove = use_peer;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  fill(c, 5);
  cache_shutdown_all();
  ck_assert_int_eq(atomic_load(&peer_calls), 5);
  assert_closed(c);
  assert_closed(peer);
  cache_destroy(c);
  cache_destroy(peer);
  peer = NULL;
}
END_TEST

/* ---- shutdown while the caches are in use ------------------------------- */

#define N_USERS 4
#define N_SHARED 2
#define MIN_OPS_BEFORE 200  /* each thread does this many before shutdown */
#define CLOSED_OPS_AFTER 50 /* and this many on each closed cache after */

typedef struct user_arg {
  cache_t **caches;
  int id;
  atomic_int ops;
  uint64_t ok_sets[N_SHARED];
} user_arg_t;

static int check_status(int st, bool closed_seen, int thread, const char *op) {
  if (closed_seen && st != CACHE_ECLOSED) {
    record_failure(op, st, thread); /* a closed cache opened again? */
    return st;
  }
  if (st != CACHE_OK && st != CACHE_NOT_FOUND && st != CACHE_ECLOSED)
    record_failure(op, st, thread);
  return st;
}

static void *user(void *p) {
  user_arg_t *a = p;
  uint32_t rng = 2654435761u * (uint32_t)(a->id + 1);
  bool closed[N_SHARED] = {false, false};
  int after[N_SHARED] = {0, 0};
  uint64_t start = real_ms();
  while (after[0] < CLOSED_OPS_AFTER || after[1] < CLOSED_OPS_AFTER) {
    if (real_ms() - start > 2 * WAIT_LIMIT_MS) {
      record_failure("caches still open long after the shutdown", 0, a->id);
      break;
    }
    int which = (int)(tu_rand(&rng) % N_SHARED);
    cache_t *c = a->caches[which];
    char key[16];
    int klen = snprintf(key, sizeof key, "k%u", (unsigned)((rng >> 12) % 64));
    int st;
    char buf[16];
    size_t len;
    switch ((rng >> 20) % 5) {
    case 0:
    case 1:
      st = check_status(cache_set(c, key, (size_t)klen, "value", 5, 0),
                        closed[which], a->id, "set");
      if (st == CACHE_OK)
        a->ok_sets[which]++;
      break;
    case 2:
      st = check_status(cache_get(c, key, (size_t)klen, buf, sizeof buf, &len),
                        closed[which], a->id, "get");
      break;
    case 3:
      st = check_status(cache_delete(c, key, (size_t)klen), closed[which],
                        a->id, "delete");
      break;
    default: {
      cache_stats_t stats;
      memset(&stats, 0, sizeof stats);
      stats.struct_size = sizeof stats;
      st = cache_stats(c, &stats);
      if (st != CACHE_OK && st != CACHE_ECLOSED)
        record_failure("stats", st, a->id);
      if (st == CACHE_ECLOSED && cache_count(c) != 0)
        record_failure("count of a closed cache is not 0", st, a->id);
      break;
    }
    }
    if (st == CACHE_ECLOSED)
      closed[which] = true;
    if (closed[which])
      after[which]++;
    atomic_fetch_add(&a->ops, 1);
  }
  return NULL;
}

START_TEST(shutdown_is_safe_while_threads_use_the_caches) {
  reset_failures();
  /* Static: the threads use them until they are joined. */
  static tally_t t[N_SHARED];
  static cache_t *caches[N_SHARED];
  static user_arg_t args[N_USERS];
  caches[0] = make((spec_t){0, 0, false}, &t[0]);
  caches[1] = make((spec_t){40, 1, true}, &t[1]); /* bounded, background */
  pthread_t th[N_USERS];
  memset(args, 0, sizeof args);
  for (int i = 0; i < N_USERS; i++) {
    args[i].caches = caches;
    args[i].id = i;
    atomic_init(&args[i].ops, 0);
    ck_assert_int_eq(pthread_create(&th[i], NULL, user, &args[i]), 0);
  }
  for (int i = 0; i < N_USERS; i++)
    WAIT_FOR(atomic_load(&args[i].ops) >= MIN_OPS_BEFORE);
  /* Let the background pass expire entries of the second cache too. */
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(stats_of(caches[1]).cleanup_runs >= 1);
  cache_shutdown_all();
  for (int i = 0; i < N_USERS; i++)
    ck_assert_int_eq(pthread_join(th[i], NULL), 0);
  ASSERT_NO_THREAD_FAILURE();

  for (int c = 0; c < N_SHARED; c++) {
    assert_closed(caches[c]);
    /* Every entry a set stored left through the listener exactly once. */
    uint64_t sets = 0;
    for (int i = 0; i < N_USERS; i++)
      sets += args[i].ok_sets[c];
    ck_assert_uint_gt(sets, 0);
    ck_assert_uint_eq((uint64_t)atomic_load(&t[c].calls), sets);
  }
  for (int c = 0; c < N_SHARED; c++)
    cache_destroy(caches[c]);
}
END_TEST

static void *run_shutdown(void *arg) {
  (void)arg;
  cache_shutdown_all();
  return NULL;
}

START_TEST(concurrent_shutdowns_close_each_cache_once) {
  enum { N = 8, PER = 20, CALLERS = 3 };
  tally_t t[N];
  cache_t *c[N];
  for (int i = 0; i < N; i++) {
    c[i] = make((spec_t){0, (uint64_t)(i % 2) * 60000, false}, &t[i]);
    fill(c[i], PER);
  }
  pthread_t th[CALLERS];
  for (int i = 0; i < CALLERS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, run_shutdown, NULL), 0);
  cache_shutdown_all();
  /* Any shutdown that returned has every cache closed. */
  for (int i = 0; i < N; i++)
    ck_assert_uint_eq(cache_count(c[i]), 0);
  for (int i = 0; i < CALLERS; i++)
    ck_assert_int_eq(pthread_join(th[i], NULL), 0);
  for (int i = 0; i < N; i++) {
    assert_closed(c[i]);
    ck_assert_int_eq(atomic_load(&t[i].cleared), PER);
    ck_assert_int_eq(atomic_load(&t[i].calls), PER);
    cache_destroy(c[i]);
  }
}
END_TEST

/* A slow listener keeps a shutdown on each cache for a while. */
static void slow_removal(const void *key, size_t key_len, const void *value,
                         size_t value_len, int reason, void *ctx) {
  count_removal(key, key_len, value, value_len, reason, ctx);
  sleep_ms(1);
}

START_TEST(destroy_during_a_shutdown_is_safe) {
  enum { N = 6, PER = 5 };
  static tally_t t[N];
  cache_t *c[N];
  for (int i = 0; i < N; i++) {
    atomic_init(&t[i].calls, 0);
    atomic_init(&t[i].cleared, 0);
    atomic_init(&t[i].other, 0);
    cache_options_t o;
    cache_options_init(&o);
    o.cleanup_interval_ms = (uint64_t)(i % 2) * 60000;
    o.on_remove = slow_removal;
    o.on_remove_ctx = &t[i];
    c[i] = NULL;
    ASSERT_OK(cache_create(&o, &c[i]));
    fill(c[i], PER);
  }
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, run_shutdown, NULL), 0);
  /* Destroy them while the shutdown goes through them, in the other
   * order. Each entry leaves exactly once, by one or the other. */
  for (int i = N - 1; i >= 0; i--)
    cache_destroy(c[i]);
  ck_assert_int_eq(pthread_join(th, NULL), 0);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(atomic_load(&t[i].calls), PER);
    ck_assert_int_eq(atomic_load(&t[i].cleared), PER);
  }
}
END_TEST

static Suite *shutdown_suite(void) {
  Suite *s = suite_create("shutdown");

  TCase *t = tcase_create("close");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_set_timeout(t, 120);
  tcase_add_test(t, shutdown_closes_every_live_cache);
  tcase_add_test(t, name_stays_valid_after_shutdown);
  tcase_add_test(t, second_shutdown_is_harmless);
  tcase_add_test(t, shutdown_without_any_cache_is_harmless);
  tcase_add_test(t, cache_closed_before_is_left_as_it_was);
  tcase_add_test(t, destroyed_cache_is_not_touched);
  tcase_add_test(t, shutdown_stops_the_background_thread);
  tcase_add_test(t, caches_created_afterwards_work);
  tcase_add_test(t, listener_may_use_other_caches_during_shutdown);
  suite_add_tcase(s, t);

  TCase *c = tcase_create("concurrent");
  tcase_add_checked_fixture(c, setup, NULL);
  tcase_set_timeout(c, 120);
  tcase_add_test(c, shutdown_is_safe_while_threads_use_the_caches);
  tcase_add_test(c, concurrent_shutdowns_close_each_cache_once);
  tcase_add_test(c, destroy_during_a_shutdown_is_safe);
  suite_add_tcase(s, c);
  return s;
}

int main(void) { return tu_run(shutdown_suite()); }
