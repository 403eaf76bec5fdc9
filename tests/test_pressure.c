/* Memory pressure: a cache's own memory_threshold_mb, and the process-wide
 * limit of cache_set_process_memory_limit().
 *
 * The threshold is checked on the caller's thread after each insert, so
 * those tests are deterministic: they insert one entry at a time and read
 * the footprint (stats.bytes + stats.table_bytes) after each. Health
 * windows are crossed with a clock the test moves by hand. The process limit
 * is enforced by the background thread once a second; those tests wait for
 * it by polling in real time with a generous bound. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "test_util.h"

#define MIB (UINT64_C(1) << 20)
#define VALUE_LEN 4000 /* about 4 KiB per entry with its header */
#define WAIT_LIMIT_MS 10000

static char value[VALUE_LEN];

/* ---- removal log --------------------------------------------------------- */

#define LOG_MAX 8192

typedef struct removal {
  int reason;
  char key[32];
} removal_t;

static removal_t removals[LOG_MAX];
static size_t n_removals;
/* Inserting threads shed too, so the listener runs on several at once. */
static pthread_mutex_t removals_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_remove(const void *key, size_t key_len, const void *val,
                      size_t val_len, int reason, void *ctx) {
  (void)val;
  (void)val_len;
  (void)ctx;
  pthread_mutex_lock(&removals_lock);
  if (n_removals < LOG_MAX) {
    removal_t *r = &removals[n_removals++];
    r->reason = reason;
    size_t n = key_len < sizeof r->key - 1 ? key_len : sizeof r->key - 1;
    memcpy(r->key, key, n);
    r->key[n] = '\0';
  }
  pthread_mutex_unlock(&removals_lock);
}

static size_t count_reason(int reason) {
  size_t n = 0;
  for (size_t i = 0; i < n_removals; i++)
    n += removals[i].reason == reason;
  return n;
}

/* ---- helpers ------------------------------------------------------------- */

static cache_t *cache;

static void setup(void) {
  memset(value, 'v', sizeof value);
  n_removals = 0;
  cache = NULL;
}

static void teardown(void) {
  cache_set_process_memory_limit(0);
  cache_destroy(cache);
  cache = NULL;
}

/* A cache with a memory threshold, the given clock (NULL = monotonic) and
 * the removal log as its listener. No bounds, no background pass. */
static cache_t *make(uint64_t threshold_mb, test_clock_t *clk) {
  cache_options_t o;
  cache_options_init(&o);
  o.name = "pressure";
  o.memory_threshold_mb = threshold_mb;
  if (clk != NULL) {
    o.clock_ms = test_clock_now;
    o.clock_ctx = clk;
  }
  o.on_remove = on_remove;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

static uint64_t footprint(cache_t *c) {
  cache_stats_t st = tu_stats(c);
  return st.bytes + st.table_bytes;
}

static void put(cache_t *c, const char *prefix, uint64_t i, uint64_t ttl_ms) {
  char key[32];
  int n = snprintf(key, sizeof key, "%s-%llu", prefix, (unsigned long long)i);
  ASSERT_OK(cache_set(c, key, (size_t)n, value, sizeof value, ttl_ms));
}

/* Inserts entries `prefix`-0, 1, ... until the footprint is above `above`
 * bytes, checking before each insert that no alert beyond `warnings`
 * warnings was raised. Returns how many it inserted. */
static uint64_t fill_past(cache_t *c, const char *prefix, uint64_t above,
                          uint64_t warnings) {
  uint64_t i = 0;
  while (footprint(c) <= above) {
    cache_stats_t st = tu_stats(c);
    ck_assert_uint_eq(st.alerts_critical, 0);
    ck_assert_uint_le(st.alerts_warning, warnings);
    ck_assert_uint_lt(i, 100000);
    put(c, prefix, i++, 0);
  }
  return i;
}

/* Inserts entries `prefix`-start, ... until an insert raises a critical
 * alert; returns the index after the last one inserted. */
static uint64_t fill_until_critical(cache_t *c, const char *prefix,
                                    uint64_t start) {
  uint64_t i = start, critical = tu_stats(c).alerts_critical;
  while (tu_stats(c).alerts_critical == critical) {
    ck_assert_uint_lt(i - start, 100000);
    put(c, prefix, i++, 0);
  }
  return i;
}

static size_t newest_alerts(cache_t *c, cache_alert_t *out, size_t max) {
  out[0].struct_size = sizeof out[0];
  return cache_alerts(c, out, max);
}

/* ---- the threshold ------------------------------------------------------- */

START_TEST(no_alert_below_the_threshold) {
  cache = make(1, NULL);
  for (uint64_t i = 0; footprint(cache) + 2 * (VALUE_LEN + 128) < MIB; i++)
    put(cache, "k", i, 0);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.alerts_warning, 0);
  ck_assert_uint_eq(st.alerts_critical, 0);
  ck_assert_uint_eq(st.memory_evictions, 0);
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_HEALTHY);
  ck_assert_int_eq(st.health, CACHE_HEALTH_HEALTHY);
}
END_TEST

START_TEST(no_threshold_means_no_memory_alerts) {
  cache = make(0, NULL);
  for (uint64_t i = 0; footprint(cache) <= 3 * MIB; i++)
    put(cache, "k", i, 0);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.alerts_warning, 0);
  ck_assert_uint_eq(st.alerts_critical, 0);
  ck_assert_uint_eq(st.memory_evictions, 0);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_HEALTHY);
}
END_TEST

START_TEST(passing_the_threshold_raises_one_warning) {
  test_clock_t clk = {5000};
  cache = make(1, &clk);
  uint64_t i = fill_past(cache, "k", MIB, 0);
  ck_assert_uint_eq(tu_stats(cache).alerts_warning, 1);
  /* More inserts between 1x and 2x raise nothing more. */
  while (footprint(cache) + 2 * (VALUE_LEN + 128) < 2 * MIB) {
    clk.now_ms++;
    put(cache, "k", i++, 0);
    cache_stats_t st = tu_stats(cache);
    ck_assert_uint_eq(st.alerts_warning, 1);
    ck_assert_uint_eq(st.alerts_critical, 0);
  }
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.memory_evictions, 0);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_uint_eq(st.entries, i);

  cache_alert_t alerts[4];
  ck_assert_uint_eq(newest_alerts(cache, alerts, 4), 1);
  ck_assert_int_eq(alerts[0].level, CACHE_ALERT_WARNING);
  ck_assert_uint_eq(alerts[0].time_ms, 5000);
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_WARNING);
  ck_assert_int_eq(st.health, CACHE_HEALTH_WARNING);
}
END_TEST

START_TEST(falling_below_and_rising_again_raises_another_warning) {
  test_clock_t clk = {5000};
  cache = make(1, &clk);
  fill_past(cache, "a", MIB, 0);
  ck_assert_uint_eq(tu_stats(cache).alerts_warning, 1);
  ASSERT_OK(cache_clear(cache));
  fill_past(cache, "b", MIB, 1);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.alerts_warning, 2);
  ck_assert_uint_eq(st.alerts_critical, 0);
}
END_TEST

START_TEST(passing_twice_the_threshold_sheds_to_half_of_it) {
  test_clock_t clk = {5000};
  cache = make(1, &clk);
  uint64_t n = fill_until_critical(cache, "k", 0);
  cache_stats_t st = tu_stats(cache);

  ck_assert_uint_eq(st.alerts_critical, 1);
  ck_assert_uint_eq(st.alerts_warning, 1); /* from passing 1x on the way */
  ck_assert_msg(st.bytes + st.table_bytes <= MIB / 2,
                "footprint %llu after the cleanup",
                (unsigned long long)(st.bytes + st.table_bytes));
  ck_assert_uint_gt(st.memory_evictions, 0);
  ck_assert_uint_eq(st.evictions, st.memory_evictions);
  ck_assert_uint_eq(st.entries, n - st.memory_evictions);
  ck_assert_uint_eq(st.sets, n);
  ck_assert_uint_eq(st.expirations, 0);

  /* Every one of them reached the listener, as a memory eviction. */
  ck_assert_uint_eq(n_removals, st.memory_evictions);
  ck_assert_uint_eq(count_reason(CACHE_REMOVED_MEMORY), n_removals);
  /* By policy (LRU): the oldest entry went first. */
  ASSERT_STATUS(tu_contains(cache, "k-0"), CACHE_NOT_FOUND);

  cache_alert_t alerts[4];
  ck_assert_uint_eq(newest_alerts(cache, alerts, 4), 2);
  ck_assert_int_eq(alerts[0].level, CACHE_ALERT_CRITICAL);
  ck_assert_int_eq(alerts[1].level, CACHE_ALERT_WARNING);
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_CRITICAL);
  ck_assert_int_eq(st.health, CACHE_HEALTH_CRITICAL);
}
END_TEST

START_TEST(the_cache_refills_after_a_cleanup_and_sheds_again) {
  test_clock_t clk = {5000};
  cache = make(1, &clk);
  uint64_t n = fill_until_critical(cache, "k", 0);
  uint64_t first = tu_stats(cache).memory_evictions;
  /* Back under the threshold: inserts work, and passing 1x warns again. */
  fill_until_critical(cache, "k", n);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.alerts_critical, 2);
  ck_assert_uint_eq(st.alerts_warning, 2);
  ck_assert_uint_gt(st.memory_evictions, first);
  ck_assert_uint_le(st.bytes + st.table_bytes, MIB / 2);
}
END_TEST

START_TEST(a_cleanup_removes_expired_entries_before_evicting_live_ones) {
  test_clock_t clk = {1000};
  cache = make(1, &clk);
  enum { SHORT = 16 };
  for (uint64_t i = 0; i < SHORT; i++)
    put(cache, "short", i, 50);
  clk.now_ms += 100; /* every short entry has expired, none removed yet */
  ck_assert_uint_eq(cache_count(cache), SHORT);
  ck_assert_uint_eq(n_removals, 0);

  fill_until_critical(cache, "long", 0);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.expirations, SHORT);
  ck_assert_uint_gt(st.memory_evictions, 0);
  ck_assert_uint_eq(st.evictions, st.memory_evictions);
  ck_assert_uint_le(st.bytes + st.table_bytes, MIB / 2);

  ck_assert_uint_eq(n_removals, SHORT + st.memory_evictions);
  for (size_t i = 0; i < n_removals; i++) {
    bool is_short = strncmp(removals[i].key, "short-", 6) == 0;
    if (i < SHORT) {
      ck_assert_msg(removals[i].reason == CACHE_REMOVED_EXPIRED && is_short,
                    "removal %zu: %s (%s), expected an expired short entry", i,
                    removals[i].key, cache_removal_name(removals[i].reason));
    } else {
      ck_assert_msg(removals[i].reason == CACHE_REMOVED_MEMORY && !is_short,
                    "removal %zu: %s (%s), expected a memory eviction", i,
                    removals[i].key, cache_removal_name(removals[i].reason));
    }
  }
}
END_TEST

/* ---- health over time ---------------------------------------------------- */

START_TEST(health_is_critical_after_a_cleanup_until_the_window_passes) {
  test_clock_t clk = {1000};
  cache = make(1, &clk);
  fill_until_critical(cache, "k", 0);
  ck_assert_uint_lt(footprint(cache), MIB);
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_CRITICAL);

  clk.now_ms += CACHE_HEALTH_WINDOW_MS - 1;
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_CRITICAL);
  clk.now_ms += 2; /* both alerts are older than the window now */
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_HEALTHY);
  ck_assert_int_eq(tu_stats(cache).health, CACHE_HEALTH_HEALTHY);
}
END_TEST

START_TEST(health_is_warning_while_above_the_threshold_even_after_the_window) {
  test_clock_t clk = {1000};
  cache = make(1, &clk);
  fill_past(cache, "k", MIB, 0);
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_WARNING);
  clk.now_ms += 10 * (uint64_t)CACHE_HEALTH_WINDOW_MS;
  /* The warning is old, but the footprint is still above the threshold. */
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_WARNING);
  ASSERT_OK(cache_clear(cache));
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_HEALTHY);
}
END_TEST

START_TEST(health_stays_warning_within_the_window_after_the_footprint_falls) {
  test_clock_t clk = {1000};
  cache = make(1, &clk);
  fill_past(cache, "k", MIB, 0);
  ASSERT_OK(cache_clear(cache));
  ck_assert_uint_lt(footprint(cache), MIB);
  /* The footprint is fine now, but a warning was raised recently. */
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_WARNING);
  clk.now_ms += CACHE_HEALTH_WINDOW_MS + 1;
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_HEALTHY);
}
END_TEST

START_TEST(health_is_warning_after_an_old_critical_and_a_new_warning) {
  test_clock_t clk = {1000};
  cache = make(1, &clk);
  uint64_t n = fill_until_critical(cache, "k", 0);
  clk.now_ms += CACHE_HEALTH_WINDOW_MS + 1;
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_HEALTHY);
  /* Passing 1x again: a fresh warning, the critical alert is old. */
  for (uint64_t i = n; footprint(cache) <= MIB; i++)
    put(cache, "k", i, 0);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.alerts_warning, 2);
  ck_assert_uint_eq(st.alerts_critical, 1);
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_WARNING);
  ASSERT_OK(cache_clear(cache));
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_WARNING);
  clk.now_ms += CACHE_HEALTH_WINDOW_MS + 1;
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_HEALTHY);
}
END_TEST

/* ---- concurrent inserts -------------------------------------------------- */

#define RACE_THREADS 8
#define RACE_INSERTS 2000      /* per thread */
#define RACE_VALUE (64u << 10) /* 64 KiB: 16 entries make the threshold */

typedef struct racer {
  pthread_t thread;
  cache_t *cache;
  unsigned id;
  int failures;           /* cache_set or cache_stats that did not succeed */
  uint64_t max_footprint; /* seen after its own inserts */
} racer_t;

static void *race_main(void *arg) {
  racer_t *r = arg;
  unsigned char *v = calloc(1, RACE_VALUE);
  if (v == NULL) {
    r->failures++;
    return NULL;
  }
  char key[32];
  for (unsigned i = 0; i < RACE_INSERTS; i++) {
    int n = snprintf(key, sizeof key, "t%u-%u", r->id, i);
    if (cache_set(r->cache, key, (size_t)n, v, RACE_VALUE, 0) != CACHE_OK)
      r->failures++;
    cache_stats_t st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    if (cache_stats(r->cache, &st) != CACHE_OK)
      r->failures++;
    else if (st.bytes + st.table_bytes > r->max_footprint)
      r->max_footprint = st.bytes + st.table_bytes;
  }
  free(v);
  return NULL;
}

/* Inserts from several threads at once: while one of them sheds, the
 * others go on inserting, and the footprint must still come back down.
 * The allowance over twice the threshold is for the entries in flight. */
START_TEST(concurrent_inserts_keep_the_footprint_near_the_threshold) {
  cache = make(1, NULL);
  racer_t r[RACE_THREADS];
  memset(r, 0, sizeof r);
  for (unsigned i = 0; i < RACE_THREADS; i++) {
    r[i].cache = cache;
    r[i].id = i;
    ck_assert_int_eq(pthread_create(&r[i].thread, NULL, race_main, &r[i]), 0);
  }
  uint64_t max_footprint = 0;
  for (unsigned i = 0; i < RACE_THREADS; i++) {
    pthread_join(r[i].thread, NULL);
    ck_assert_int_eq(r[i].failures, 0);
    if (r[i].max_footprint > max_footprint)
      max_footprint = r[i].max_footprint;
  }
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_gt(st.alerts_critical, 0);
  ck_assert_uint_gt(st.memory_evictions, 0);
  ck_assert_msg(max_footprint <= 4 * MIB,
                "the footprint reached %.1f MiB with a threshold of 1 MiB",
                (double)max_footprint / (double)MIB);
  /* Alone now, one more insert: it must not find the cache stuck above
   * twice its threshold. */
  put(cache, "last", 0, 0);
  ck_assert_msg(footprint(cache) <= 2 * MIB,
                "footprint %.1f MiB after the threads stopped and one more "
                "insert",
                (double)footprint(cache) / (double)MIB);
}
END_TEST

/* ---- the process limit --------------------------------------------------- */

static uint64_t real_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#define PROCESS_ENTRIES 1024 /* about 4 MiB */

static void fill_process_cache(cache_t *c, const char *prefix) {
  for (uint64_t i = 0; i < PROCESS_ENTRIES; i++)
    put(c, prefix, i, 0);
  ck_assert_uint_eq(cache_count(c), PROCESS_ENTRIES);
}

/* Whether some alert of the cache is a critical one about the process
 * limit. */
static bool has_process_limit_alert(cache_t *c) {
  cache_alert_t alerts[CACHE_ALERTS_KEPT];
  size_t n = newest_alerts(c, alerts, CACHE_ALERTS_KEPT);
  for (size_t i = 0; i < n; i++)
    if (alerts[i].level == CACHE_ALERT_CRITICAL &&
        strstr(alerts[i].message, "process") != NULL &&
        strstr(alerts[i].message, "limit") != NULL)
      return true;
  return false;
}

START_TEST(a_process_limit_below_the_resident_set_sheds_the_caches) {
  cache = make(0, NULL);
  fill_process_cache(cache, "a");
  ASSERT_OK(cache_set_process_memory_limit(1)); /* far below any real RSS */

  /* The alert reports what was shed, so it comes after the last entry
   * is gone: wait for both. */
  uint64_t start = real_ms();
  while ((cache_count(cache) > 0 || !has_process_limit_alert(cache)) &&
         real_ms() - start < WAIT_LIMIT_MS)
    pause_ms(5);
  ck_assert_msg(cache_count(cache) == 0, "%llu entries left after %llu ms",
                (unsigned long long)cache_count(cache),
                (unsigned long long)(real_ms() - start));
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.memory_evictions, PROCESS_ENTRIES);
  ck_assert_uint_eq(st.evictions, PROCESS_ENTRIES);
  ck_assert_uint_eq(st.bytes, 0);
  ck_assert_uint_ge(st.alerts_critical, 1);
  ck_assert(has_process_limit_alert(cache));
  ck_assert_int_eq(cache_health(cache), CACHE_HEALTH_CRITICAL);

  /* Without the limit the cache fills again and keeps what it holds. */
  ASSERT_OK(cache_set_process_memory_limit(0));
  fill_process_cache(cache, "b");
  st = tu_stats(cache);
  start = real_ms();
  while (real_ms() - start < 1500) { /* longer than the 1 s check period */
    ck_assert_uint_eq(cache_count(cache), PROCESS_ENTRIES);
    pause_ms(10);
  }
  cache_stats_t after = tu_stats(cache);
  ck_assert_uint_eq(after.memory_evictions, st.memory_evictions);
  ck_assert_uint_eq(after.alerts_critical, st.alerts_critical);
  ck_assert_uint_eq(count_reason(CACHE_REMOVED_MEMORY), PROCESS_ENTRIES);
}
END_TEST

/* With the limit a little below the resident set, only what is over it is
 * shed, from the largest cache first. */
START_TEST(a_process_limit_sheds_the_largest_cache_first) {
  cache = make(0, NULL);
  cache_t *small = make(0, NULL);
  for (uint64_t i = 0; i < 2 * PROCESS_ENTRIES; i++) /* about 8 MiB */
    put(cache, "big", i, 0);
  for (uint64_t i = 0; i < PROCESS_ENTRIES / 4; i++) /* about 1 MiB */
    put(small, "small", i, 0);
  cache_memory_usage_t m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  ASSERT_OK(cache_memory_usage(&m));
  ck_assert_uint_gt(m.rss_bytes, 8 * MIB); /* it holds the caches */
  /* 3 to 4 MiB over the limit: less than the big cache holds. */
  ASSERT_OK(cache_set_process_memory_limit((m.rss_bytes >> 20) - 3));

  uint64_t start = real_ms();
  while (cache_count(cache) == 2 * PROCESS_ENTRIES &&
         real_ms() - start < WAIT_LIMIT_MS)
    pause_ms(5);
  /* Removing the limit waits for a check under way to finish. */
  ASSERT_OK(cache_set_process_memory_limit(0));
  uint64_t big_left = cache_count(cache);
  ck_assert_msg(big_left < 2 * PROCESS_ENTRIES, "nothing shed in %llu ms",
                (unsigned long long)(real_ms() - start));
  ck_assert_msg(big_left > 0, "the whole big cache was shed");
  ck_assert_uint_eq(cache_count(small), PROCESS_ENTRIES / 4);
  ck_assert_uint_eq(tu_stats(small).memory_evictions, 0);
  ck_assert_uint_eq(tu_stats(small).alerts_critical, 0);
  ck_assert(has_process_limit_alert(cache));
  cache_destroy(small);
}
END_TEST

START_TEST(a_process_limit_above_the_resident_set_sheds_nothing) {
  cache = make(0, NULL);
  fill_process_cache(cache, "a");
  ASSERT_OK(cache_set_process_memory_limit(UINT64_C(1) << 30)); /* 1 PiB */
  uint64_t start = real_ms();
  while (real_ms() - start < 1500) {
    ck_assert_uint_eq(cache_count(cache), PROCESS_ENTRIES);
    pause_ms(10);
  }
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.memory_evictions, 0);
  ck_assert_uint_eq(st.alerts_critical, 0);
  ASSERT_OK(cache_set_process_memory_limit(0));
}
END_TEST

static Suite *pressure_suite(void) {
  Suite *s = suite_create("pressure");
  TCase *t = tcase_create("threshold");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, no_alert_below_the_threshold);
  tcase_add_test(t, no_threshold_means_no_memory_alerts);
  tcase_add_test(t, passing_the_threshold_raises_one_warning);
  tcase_add_test(t, falling_below_and_rising_again_raises_another_warning);
  tcase_add_test(t, passing_twice_the_threshold_sheds_to_half_of_it);
  tcase_add_test(t, the_cache_refills_after_a_cleanup_and_sheds_again);
  tcase_add_test(t,
                 a_cleanup_removes_expired_entries_before_evicting_live_ones);
  suite_add_tcase(s, t);

  t = tcase_create("health");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, health_is_critical_after_a_cleanup_until_the_window_passes);
  tcase_add_test(
      t, health_is_warning_while_above_the_threshold_even_after_the_window);
  tcase_add_test(
      t, health_stays_warning_within_the_window_after_the_footprint_falls);
  tcase_add_test(t, health_is_warning_after_an_old_critical_and_a_new_warning);
  suite_add_tcase(s, t);

  t = tcase_create("concurrency");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_set_timeout(t, 120);
  tcase_add_test(t, concurrent_inserts_keep_the_footprint_near_the_threshold);
  suite_add_tcase(s, t);

  t = tcase_create("process_limit");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_set_timeout(t, 60);
  tcase_add_test(t, a_process_limit_below_the_resident_set_sheds_the_caches);
  tcase_add_test(t, a_process_limit_sheds_the_largest_cache_first);
  tcase_add_test(t, a_process_limit_above_the_resident_set_sheds_nothing);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(pressure_suite()); }
