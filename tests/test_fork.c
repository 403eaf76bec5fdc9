/* fork(): the child gets a copy of every cache and can go on using it
 * (whatever locks other threads of the parent held at that instant), and
 * the background cleanup thread, which fork() does not copy, is started
 * again in the child. The parent is not affected by what the child does.
 *
 * The child's work runs in run_child() and reports through its exit
 * status; the numbers it returns name the check that failed. */
#define _POSIX_C_SOURCE 200809L
#include "test_async.h"

/* Multi-threaded fork() is intended here: the child starts threads. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

/* GCC 12's ThreadSanitizer runtime keeps the parent's threads registered
 * in a child forked from a multi-threaded process, so a thread the child
 * starts may carry the same pthread_t as one of them, and joining it then
 * stops the runtime ("dup thread with used id"; later runtimes forget the
 * parent's threads at fork). Built with it, the children leave the caches
 * whose destruction would join the child's cleanup thread to the end of
 * the process. */
#if defined(__SANITIZE_THREAD__)
#define JOIN_IN_CHILD 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define JOIN_IN_CHILD 0
#endif
#endif
#ifndef JOIN_IN_CHILD
#define JOIN_IN_CHILD 1
#endif

static atomic_clock_t clk;

static void setup(void) { atomic_store(&clk.now_ms, 1000); }

static cache_t *make(uint64_t interval_ms, uint64_t max_entries) {
  cache_options_t o;
  cache_options_init(&o);
  o.ttl_ms = 10;
  o.max_entries = max_entries;
  o.cleanup_interval_ms = interval_ms;
  o.clock_ms = atomic_clock_now;
  o.clock_ctx = &clk;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

/* Waits for a background pass on c, moving the test clock for it: the
 * cleanup thread has then finished starting. A thread caught by fork()
 * inside the start-up code of a sanitizer's runtime can leave a lock of
 * that runtime held for ever in the child, so the tests fork only once
 * the threads are in the library's own code. */
static void wait_for_a_pass(cache_t *c) {
  uint64_t runs = tu_stats(c).cleanup_runs;
  atomic_clock_advance(&clk, 5);
  WAIT_FOR(stats_of(c).cleanup_runs > runs);
  ck_assert_uint_gt(tu_stats(c).cleanup_runs, runs);
}

/* 0 if key holds exactly value. */
static int check_value(cache_t *c, const char *key, const char *value) {
  char buf[64];
  size_t len = 0;
  if (tu_get(c, key, buf, sizeof buf, &len) != CACHE_OK)
    return -1;
  return len == strlen(value) && memcmp(buf, value, len) == 0 ? 0 : -1;
}

/* ---- the child keeps its caches ----------------------------------------- */

static int child_uses_the_cache(void *arg) {
  cache_t *c = arg;
  if (check_value(c, "a", "1") != 0)
    return 10;
  if (tu_set(c, "b", "2", CACHE_TTL_NEVER) != CACHE_OK)
    return 11;
  if (check_value(c, "b", "2") != 0)
    return 12;
  if (tu_delete(c, "a") != CACHE_OK)
    return 13;
  if (cache_count(c) != 1)
    return 14;
  cache_stats_t st = stats_of(c);
  if (st.sets != 2 || st.deletes != 1 || st.entries != 1)
    return 15;
  if (cache_cleanup(c, NULL) != CACHE_OK)
    return 16;
  cache_destroy(c);
  return 0;
}

START_TEST(child_can_keep_using_its_caches) {
  cache_t *c = make(0, 0);
  ASSERT_OK(tu_set(c, "a", "1", CACHE_TTL_NEVER));
  ASSERT_CHILD_EXITED_OK(run_child(child_uses_the_cache, c));
  /* The parent's copy did not see any of it. */
  ASSERT_VALUE(c, "a", "1");
  ASSERT_MISSING(c, "b");
  ck_assert_uint_eq(cache_count(c), 1);
  ck_assert_uint_eq(tu_stats(c).deletes, 0);
  cache_destroy(c);
}
END_TEST

static int child_creates_caches(void *arg) {
  (void)arg;
  cache_options_t o;
  cache_options_init(&o);
  o.cleanup_interval_ms = 1;
  o.ttl_ms = 1;
  cache_t *c = NULL;
  if (cache_create(&o, &c) != CACHE_OK)
    return 10;
  if (tu_set(c, "k", "v", 0) != CACHE_OK)
    return 11;
  WAIT_FOR(cache_count(c) == 0);
  if (cache_count(c) != 0)
    return 12; /* no background pass in the child */
  cache_destroy(c);
  return 0;
}

START_TEST(child_can_create_caches_with_background_passes) {
  cache_t *c = make(5, 0); /* the parent has a cleanup thread */
  wait_for_a_pass(c);
  ASSERT_CHILD_EXITED_OK(run_child(child_creates_caches, NULL));
  cache_destroy(c);
}
END_TEST

/* ---- the cleanup thread in the child ------------------------------------ */

static int child_expires_in_the_background(void *arg) {
  cache_t *c = arg;
  if (cache_count(c) != 2)
    return 10;
  /* This moves the child's copy of the clock only. */
  atomic_clock_advance(&clk, 100);
  /* (A pass is counted once it is over, after it removed the entry.) */
  WAIT_FOR(cache_count(c) == 1 && stats_of(c).cleanup_runs >= 1);
  if (cache_count(c) != 1)
    return 11; /* nobody runs the passes in the child */
  if (stats_of(c).cleanup_runs < 1)
    return 12;
  if (check_value(c, "keep", "2") != 0)
    return 13;
  if (JOIN_IN_CHILD)
    cache_destroy(c);
  return 0;
}

START_TEST(cleanup_thread_is_started_again_in_the_child) {
  cache_t *c = make(5, 0);
  wait_for_a_pass(c);
  ASSERT_OK(tu_set(c, "old", "1", 0));
  ASSERT_OK(tu_set(c, "keep", "2", CACHE_TTL_NEVER));
  ASSERT_CHILD_EXITED_OK(run_child(child_expires_in_the_background, c));
  /* The parent's clock did not move: nothing expired here... */
  ck_assert_uint_eq(cache_count(c), 2);
  /* ...and its own thread goes on. */
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(cache_count(c) == 1);
  ck_assert_uint_eq(cache_count(c), 1);
  cache_destroy(c);
}
END_TEST

static int child_shuts_down(void *arg) {
  cache_t *c = arg;
  cache_shutdown_all();
  if (tu_set(c, "x", "1", 0) != CACHE_ECLOSED)
    return 10;
  cache_destroy(c);
  return 0;
}

START_TEST(shutdown_in_the_child_leaves_the_parent_alone) {
  cache_t *c = make(JOIN_IN_CHILD ? 5 : 0, 0);
  if (JOIN_IN_CHILD)
    wait_for_a_pass(c);
  ASSERT_OK(tu_set(c, "a", "1", CACHE_TTL_NEVER));
  ASSERT_CHILD_EXITED_OK(run_child(child_shuts_down, c));
  ASSERT_VALUE(c, "a", "1");
  ASSERT_OK(tu_set(c, "b", "2", CACHE_TTL_NEVER));
  cache_destroy(c);
}
END_TEST

/* ---- a load under way in another thread --------------------------------- */

/* The parent's loader holds its load open until the test lets it go. */
static atomic_bool load_started, load_release;

static int slow_loader(const void *key, size_t key_len, cache_load_t *load,
                       void *ctx) {
  (void)key, (void)key_len, (void)ctx;
  atomic_store(&load_started, true);
  while (!atomic_load(&load_release))
    sleep_ms(1);
  return cache_load_put(load, "parent", 6, CACHE_TTL_NEVER);
}

static int quick_loader(const void *key, size_t key_len, cache_load_t *load,
                        void *ctx) {
  (void)key, (void)key_len, (void)ctx;
  return cache_load_put(load, "child", 5, CACHE_TTL_NEVER);
}

static void *load_in_thread(void *arg) {
  char buf[16];
  size_t len;
  int rc =
      cache_get_or_load(arg, "k", 1, slow_loader, NULL, buf, sizeof buf, &len);
  return rc == CACHE_OK ? arg : NULL;
}

static int child_loads_the_key_itself(void *arg) {
  cache_t *c = arg;
  alarm(10); /* waiting for the parent's thread would never end */
  char buf[16];
  size_t len = 0;
  if (cache_get_or_load(c, "k", 1, quick_loader, NULL, buf, sizeof buf, &len) !=
      CACHE_OK)
    return 10;
  if (len != 5 || memcmp(buf, "child", 5) != 0)
    return 11;
  if (check_value(c, "k", "child") != 0)
    return 12;
  /* Entries are linked by packed addresses that a leak checker cannot
   * follow: leave none behind at the child's _exit. */
  if (cache_delete(c, "k", 1) != CACHE_OK)
    return 13;
  return 0;
}

START_TEST(child_does_not_wait_for_a_load_of_the_parent) {
  /* The thread running the load does not exist in the child: the child
   * loads the key itself. The parent's load is not disturbed. */
  cache_t *c = make(0, 0);
  atomic_store(&load_started, false);
  atomic_store(&load_release, false);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, load_in_thread, c), 0);
  WAIT_FOR(atomic_load(&load_started));
  ck_assert(atomic_load(&load_started));
  ASSERT_CHILD_EXITED_OK(run_child(child_loads_the_key_itself, c));
  atomic_store(&load_release, true);
  void *ok;
  ck_assert_int_eq(pthread_join(t, &ok), 0);
  ck_assert_ptr_eq(ok, c);
  ASSERT_VALUE(c, "k", "parent");
  cache_destroy(c);
}
END_TEST

/* ---- fork while other threads are inside the library -------------------- */

/* The threads of the parent only read (get, contains, stats, alerts, expiry
 * passes that find nothing to remove): they hold every kind of lock of the
 * library, and the child, which cannot free what a vanished thread was
 * about to insert or free, does not start with memory nobody owns. */

#define N_BUSY 2
#define FORKS 4
#define BUSY_KEYS 100

typedef struct busy_arg {
  cache_t **caches;
  int id;
  atomic_bool *stop;
  atomic_int ops;
} busy_arg_t;

static void *busy(void *p) {
  busy_arg_t *a = p;
  uint32_t rng = 40503u * (uint32_t)(a->id + 1);
  while (!atomic_load(a->stop)) {
    int which = (int)(tu_rand(&rng) & 1);
    cache_t *c = a->caches[which];
    unsigned keys = which == 0 ? 64 : BUSY_KEYS; /* all present */
    char key[16];
    int klen = snprintf(key, sizeof key, "k%u", (unsigned)((rng >> 10) % keys));
    char buf[16];
    size_t len;
    int st;
    switch ((rng >> 20) % 5) {
    case 0:
    case 1:
      st = cache_get(c, key, (size_t)klen, buf, sizeof buf, &len);
      break;
    case 2:
      st = cache_contains(c, key, (size_t)klen);
      break;
    case 3: {
      cache_stats_t stats;
      memset(&stats, 0, sizeof stats);
      stats.struct_size = sizeof stats;
      st = cache_stats(c, &stats);
      cache_alert_t alert;
      memset(&alert, 0, sizeof alert);
      alert.struct_size = sizeof alert;
      (void)cache_alerts(c, &alert, 1);
      break;
    }
    default:
      st = cache_cleanup(c, NULL);
      if (st == CACHE_EBUSY)
        st = CACHE_OK;
      break;
    }
    if (st != CACHE_OK)
      record_failure("operation in the parent", st, a->id);
    atomic_fetch_add(&a->ops, 1);
  }
  return NULL;
}

static int child_after_busy_fork(void *arg) {
  cache_t **caches = arg;
  for (int i = 0; i < 2; i++) {
    cache_t *c = caches[i];
    if (check_value(c, "k7", "v") != 0)
      return 10 + i;
    if (tu_set(c, "child", "1", CACHE_TTL_NEVER) != CACHE_OK)
      return 12 + i;
    if (check_value(c, "child", "1") != 0)
      return 14 + i;
    if (tu_delete(c, "child") != CACHE_OK)
      return 16 + i;
    /* A pass a thread of the parent was running at the fork does not
     * exist here: the child's passes are not refused for ever (the child's
     * own cleanup thread may hold the second cache for a moment). */
    int st;
    uint64_t start = real_ms();
    while ((st = cache_cleanup(c, NULL)) == CACHE_EBUSY &&
           real_ms() - start < WAIT_LIMIT_MS)
      sleep_ms(1);
    if (st != CACHE_OK)
      return 18 + i;
    if (cache_clear(c) != CACHE_OK || cache_count(c) != 0)
      return 20 + i;
    cache_stats_t stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    if (cache_stats(c, &stats) != CACHE_OK || stats.entries != 0)
      return 22 + i;
  }
  /* The background thread of the child serves the inherited cache. */
  if (tu_set(caches[1], "old", "1", 5) != CACHE_OK)
    return 24;
  WAIT_FOR(cache_count(caches[1]) == 0);
  if (cache_count(caches[1]) != 0)
    return 25;
  cache_destroy(caches[0]);
  if (JOIN_IN_CHILD)
    cache_destroy(caches[1]);
  return 0;
}

/* Static: the threads use them until they are joined. */
static cache_t *busy_caches[2];
static atomic_bool busy_stop;
static busy_arg_t busy_args[N_BUSY];

START_TEST(fork_while_other_threads_use_the_caches) {
  reset_failures();
  /* One shard, whose lock is always busy; and sixteen shards with a pass
   * every millisecond of the monotonic clock. */
  busy_caches[0] = make(0, 64);
  cache_options_t o;
  cache_options_init(&o);
  o.cleanup_interval_ms = 1;
  busy_caches[1] = NULL;
  ASSERT_OK(cache_create(&o, &busy_caches[1]));
  for (int i = 0; i < BUSY_KEYS; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    if (i < 64)
      ASSERT_OK(tu_set(busy_caches[0], key, "v", CACHE_TTL_NEVER));
    ASSERT_OK(tu_set(busy_caches[1], key, "v", CACHE_TTL_NEVER));
  }
  uint64_t runs = tu_stats(busy_caches[1]).cleanup_runs;
  WAIT_FOR(stats_of(busy_caches[1]).cleanup_runs > runs);
  ck_assert_uint_gt(tu_stats(busy_caches[1]).cleanup_runs, runs);
  atomic_store(&busy_stop, false);
  pthread_t th[N_BUSY];
  int started = 0;
  for (int i = 0; i < N_BUSY; i++) {
    busy_args[i].caches = busy_caches;
    busy_args[i].id = i;
    busy_args[i].stop = &busy_stop;
    atomic_store(&busy_args[i].ops, 0);
    if (pthread_create(&th[i], NULL, busy, &busy_args[i]) == 0)
      started++;
  }
  int status[FORKS];
  for (int f = 0; f < FORKS && started == N_BUSY; f++) {
    for (int i = 0; i < N_BUSY; i++) {
      int target = atomic_load(&busy_args[i].ops) + 50;
      WAIT_FOR(atomic_load(&busy_args[i].ops) >= target);
    }
    status[f] = run_child(child_after_busy_fork, busy_caches);
  }
  atomic_store(&busy_stop, true);
  for (int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  ck_assert_int_eq(started, N_BUSY);
  ASSERT_NO_THREAD_FAILURE();
  for (int f = 0; f < FORKS; f++) {
    char how[64];
    ck_assert_msg(WIFEXITED(status[f]) && WEXITSTATUS(status[f]) == 0,
                  "child %d %s", f,
                  describe_status(status[f], how, sizeof how));
  }
  /* The parent's caches are as they were. */
  ck_assert_uint_eq(cache_count(busy_caches[0]), 64);
  ck_assert_uint_eq(cache_count(busy_caches[1]), BUSY_KEYS);
  cache_destroy(busy_caches[0]);
  cache_destroy(busy_caches[1]);
}
END_TEST

static Suite *fork_suite(void) {
  Suite *s = suite_create("fork");
  TCase *t = tcase_create("fork");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_set_timeout(t, 120);
  tcase_add_test(t, child_can_keep_using_its_caches);
  tcase_add_test(t, child_can_create_caches_with_background_passes);
  tcase_add_test(t, cleanup_thread_is_started_again_in_the_child);
  tcase_add_test(t, shutdown_in_the_child_leaves_the_parent_alone);
  tcase_add_test(t, fork_while_other_threads_use_the_caches);
  tcase_add_test(t, child_does_not_wait_for_a_load_of_the_parent);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(fork_suite()); }
