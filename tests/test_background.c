/* The background expiry pass (cleanup_interval_ms).
 *
 * Expiry itself is decided with a clock the test moves by hand; only the
 * wait for the background thread to come round uses real time, polled in
 * 1 ms steps with a generous bound, so the outcome does not depend on the
 * machine's speed. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <time.h>

#include "test_util.h"

/* Real-time bound on waiting for one background pass. */
#define WAIT_LIMIT_MS 10000

typedef struct atomic_clock {
  _Atomic uint64_t now_ms;
} atomic_clock_t;

static uint64_t atomic_clock_now(void *ctx) {
  return atomic_load(&((atomic_clock_t *)ctx)->now_ms);
}

static uint64_t real_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void pause_1ms(void) {
  struct timespec ts = {0, 1000000};
  nanosleep(&ts, NULL);
}

static atomic_clock_t clk;
static cache_t *cache;

static cache_t *make(uint64_t interval_ms) {
  atomic_store(&clk.now_ms, 1000);
  cache_options_t o;
  cache_options_init(&o);
  o.ttl_ms = 10;
  o.cleanup_interval_ms = interval_ms;
  o.clock_ms = atomic_clock_now;
  o.clock_ctx = &clk;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

static void teardown(void) {
  cache_destroy(cache);
  cache = NULL;
}

/* Polls until the cache holds `entries` entries or the bound passes. */
static uint64_t wait_for_count(cache_t *c, uint64_t entries) {
  uint64_t start = real_ms();
  uint64_t n = cache_count(c);
  while (n != entries && real_ms() - start < WAIT_LIMIT_MS) {
    pause_1ms();
    n = cache_count(c);
  }
  return n;
}

START_TEST(background_pass_removes_expired_entries) {
  cache = make(5);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_set(cache, "b", "2", 0));
  ASSERT_OK(tu_set(cache, "c", "3", 0));
  atomic_fetch_add(&clk.now_ms, 1000000);
  ck_assert_uint_eq(wait_for_count(cache, 0), 0);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.expirations, 3);
  ck_assert_uint_ge(st.cleanup_runs, 1);
  ck_assert_uint_eq(st.bytes, 0);
}
END_TEST

START_TEST(background_pass_keeps_live_entries) {
  cache = make(5);
  ASSERT_OK(tu_set(cache, "old", "1", 0));
  ASSERT_OK(tu_set(cache, "keep", "2", CACHE_TTL_NEVER));
  ASSERT_OK(tu_set(cache, "later", "3", 10000000));
  atomic_fetch_add(&clk.now_ms, 1000000);
  ck_assert_uint_eq(wait_for_count(cache, 2), 2);
  ASSERT_VALUE(cache, "keep", "2");
  ASSERT_VALUE(cache, "later", "3");
  ck_assert_uint_eq(tu_stats(cache).expirations, 1);
}
END_TEST

START_TEST(no_background_pass_without_an_interval) {
  cache = make(0);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  atomic_fetch_add(&clk.now_ms, 1000000);
  for (int i = 0; i < 50; i++)
    pause_1ms();
  /* Expired but not removed: only counted. */
  ck_assert_uint_eq(cache_count(cache), 1);
  ck_assert_uint_eq(tu_stats(cache).cleanup_runs, 0);
}
END_TEST

START_TEST(on_demand_cleanup_works_beside_background_passes) {
  cache = make(5);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  atomic_fetch_add(&clk.now_ms, 1000000);
  uint64_t removed = 0;
  int st = cache_cleanup(cache, &removed);
  ck_assert_msg(st == CACHE_OK || st == CACHE_EBUSY, "cache_cleanup: %s",
                cache_err_name(st));
  ck_assert_uint_le(removed, 1);
  ck_assert_uint_eq(wait_for_count(cache, 0), 0);
  ck_assert_uint_eq(tu_stats(cache).expirations, 1);
}
END_TEST

START_TEST(destroy_does_not_wait_for_a_long_interval) {
  /* The presets run a pass every 60 s; destroying one must not wait for
   * the next. */
  uint64_t start = real_ms();
  ASSERT_OK(cache_create_proposal(&cache));
  ASSERT_OK(tu_set(cache, "k", "v", 0));
  cache_destroy(cache);
  cache = NULL;
  ck_assert_uint_lt(real_ms() - start, 5000);
}
END_TEST

START_TEST(close_stops_background_passes) {
  cache = make(1);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(cache_close(cache));
  atomic_fetch_add(&clk.now_ms, 1000000);
  for (int i = 0; i < 20; i++)
    pause_1ms();
  ck_assert_uint_eq(cache_count(cache), 0);
  ASSERT_STATUS(cache_cleanup(cache, NULL), CACHE_ECLOSED);
}
END_TEST

START_TEST(background_passes_go_on_for_other_caches_after_a_destroy) {
  cache = make(5);
  cache_t *other = make(5);
  cache_t *third = make(5);
  cache_destroy(other);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_set(third, "b", "2", 0));
  atomic_fetch_add(&clk.now_ms, 1000000);
  ck_assert_uint_eq(wait_for_count(cache, 0), 0);
  ck_assert_uint_eq(wait_for_count(third, 0), 0);
  cache_destroy(third);
}
END_TEST

START_TEST(background_passes_resume_after_every_cache_was_destroyed) {
  /* The background machinery stops when no cache needs it and must start
   * again for the next one. */
  for (int i = 0; i < 20; i++) {
    cache_t *c = make(1 + (uint64_t)(i % 3));
    if (i % 2 == 0)
      ASSERT_OK(tu_set(c, "k", "v", 0));
    cache_destroy(c);
  }
  cache = make(5);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  atomic_fetch_add(&clk.now_ms, 1000000);
  ck_assert_uint_eq(wait_for_count(cache, 0), 0);
}
END_TEST

static Suite *background_suite(void) {
  Suite *s = suite_create("background");
  TCase *t = tcase_create("background");
  tcase_add_checked_fixture(t, NULL, teardown);
  tcase_set_timeout(t, 60);
  tcase_add_test(t, background_pass_removes_expired_entries);
  tcase_add_test(t, background_pass_keeps_live_entries);
  tcase_add_test(t, no_background_pass_without_an_interval);
  tcase_add_test(t, on_demand_cleanup_works_beside_background_passes);
  tcase_add_test(t, destroy_does_not_wait_for_a_long_interval);
  tcase_add_test(t, close_stops_background_passes);
  tcase_add_test(t, background_passes_go_on_for_other_caches_after_a_destroy);
  tcase_add_test(t, background_passes_resume_after_every_cache_was_destroyed);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(background_suite()); }
