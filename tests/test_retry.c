/* Retries of failed background expiry passes, with exponential backoff.
 *
 * A pass is made to fail with the fault injection of the test build
 * (fault.h). With max_retries M and retry_base_ms B, the n-th consecutive
 * failure (n <= M) raises a warning and schedules the retry B * 2^n ms
 * later on the cache's clock; failure M + 1 raises a critical alert and
 * the next pass comes one cleanup interval later; the count of failures
 * starts again after that and after any success.
 *
 * The cache's clock is moved by hand, so each due time is checked to the
 * millisecond; real time only bounds the wait for the background thread. */
#define _POSIX_C_SOURCE 200809L
#include "test_async.h"

#include "fault.h"

static atomic_clock_t clk;
static cache_t *cache;
static reaper_probe_t probe;

static void setup(void) {
  atomic_store(&clk.now_ms, 1000);
  cache = NULL;
}

static void teardown(void) {
  cache__fault_set(CACHE__FAULT_PASS, 0, 0);
  cache_destroy(cache);
  cache = NULL;
}

static void setup_with_probe(void) {
  setup();
  probe_start(&probe);
}

static void teardown_with_probe(void) {
  teardown();
  probe_stop(&probe);
}

static cache_t *make(uint64_t interval_ms, uint32_t base_ms,
                     uint32_t max_retries, bool own_clock) {
  cache_options_t o;
  cache_options_init(&o);
  o.ttl_ms = 10;
  o.cleanup_interval_ms = interval_ms;
  o.retry_base_ms = base_ms;
  o.max_retries = max_retries;
  if (own_clock) {
    o.clock_ms = atomic_clock_now;
    o.clock_ctx = &clk;
  }
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

static uint64_t errors(void) { return stats_of(cache).cleanup_errors; }
static uint64_t runs(void) { return stats_of(cache).cleanup_runs; }

static uint64_t alerts_of(cache_t *c) {
  cache_stats_t st = stats_of(c);
  return st.alerts_warning + st.alerts_critical;
}

/* Moves the clock and waits for the failed pass that makes `expected`
 * failures in all. Its alert is raised once the next pass is scheduled,
 * so the clock may be moved again as soon as it is there. */
static void advance_and_expect_failure(uint64_t ms, uint64_t expected) {
  uint64_t alerts = alerts_of(cache);
  atomic_clock_advance(&clk, ms);
  WAIT_FOR(alerts_of(cache) > alerts);
  ck_assert_uint_eq(alerts_of(cache), alerts + 1);
  ck_assert_uint_eq(errors(), expected);
}

/* Moves the clock and waits for the successful pass that makes `expected`
 * passes in all, and for its next one to be scheduled. No failure may be
 * armed (see probe_sync). */
static void advance_and_expect_success(uint64_t ms, uint64_t expected) {
  atomic_clock_advance(&clk, ms);
  WAIT_FOR(runs() >= expected);
  ck_assert_uint_eq(runs(), expected);
  probe_sync(&probe);
}

/* Moves the clock and checks, after a while, that no pass ran. */
static void advance_and_expect_nothing(uint64_t ms) {
  uint64_t e = errors(), r = runs();
  atomic_clock_advance(&clk, ms);
  sleep_ms(50);
  ck_assert_msg(errors() == e && runs() == r,
                "a pass ran before it was due (clock at %llu)",
                (unsigned long long)atomic_clock_now(&clk));
}

/* The newest alert. */
static cache_alert_t newest_alert(void) {
  cache_alert_t a;
  memset(&a, 0, sizeof a);
  a.struct_size = sizeof a;
  ck_assert_uint_eq(cache_alerts(cache, &a, 1), 1);
  return a;
}

#define ASSERT_ALERT(alert, level_, text, time)                                \
  do {                                                                         \
    cache_alert_t a_ = (alert);                                                \
    ck_assert_msg(a_.level == (level_), "alert level %s, expected %s: %s",     \
                  cache_alert_level_name(a_.level),                            \
                  cache_alert_level_name(level_), a_.message);                 \
    ck_assert_msg(strstr(a_.message, (text)) != NULL,                          \
                  "alert \"%s\" does not say \"%s\"", a_.message, (text));     \
    ck_assert_uint_eq(a_.time_ms, (time));                                     \
  } while (0)

#define WARNING_PREFIX "cleanup pass failed ("

START_TEST(failures_back_off_exponentially_then_raise_a_critical_alert) {
  cache = make(100, 1000, 3, true);
  ASSERT_OK(tu_set(cache, "old", "1", 0)); /* expired at 1010 */
  cache__fault_set(CACHE__FAULT_PASS, 0, 4);

  advance_and_expect_failure(100, 1); /* 1100: the first pass */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_WARNING, WARNING_PREFIX, 1100);
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_WARNING, "retry 1 of 3 in 2000 ms",
               1100);
  ck_assert_uint_eq(stats_of(cache).alerts_warning, 1);

  advance_and_expect_nothing(1999);
  advance_and_expect_failure(1, 2); /* 3100 */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_WARNING, "retry 2 of 3 in 4000 ms",
               3100);

  advance_and_expect_nothing(3999);
  advance_and_expect_failure(1, 3); /* 7100 */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_WARNING, "retry 3 of 3 in 8000 ms",
               7100);

  advance_and_expect_nothing(7999);
  advance_and_expect_failure(1, 4); /* 15100: the last retry fails too */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_CRITICAL,
               "cleanup failed after 3 retries", 15100);

  cache_stats_t st = stats_of(cache);
  ck_assert_uint_eq(st.alerts_warning, 3);
  ck_assert_uint_eq(st.alerts_critical, 1);
  ck_assert_uint_eq(st.cleanup_runs, 0);
  ck_assert_uint_eq(cache_count(cache), 1); /* nothing was removed */

  /* Then the normal interval, and this time the pass succeeds. */
  advance_and_expect_nothing(99);
  advance_and_expect_success(1, 1);
  ck_assert_uint_eq(errors(), 4);
  ck_assert_uint_eq(cache_count(cache), 0);
  ck_assert_uint_eq(stats_of(cache).expirations, 1);

  /* Every alert, newest first. */
  cache_alert_t all[8];
  all[0].struct_size = sizeof all[0];
  ck_assert_uint_eq(cache_alerts(cache, all, 8), 4);
  ASSERT_ALERT(all[0], CACHE_ALERT_CRITICAL, "after 3 retries", 15100);
  ASSERT_ALERT(all[1], CACHE_ALERT_WARNING, "retry 3 of 3", 7100);
  ASSERT_ALERT(all[2], CACHE_ALERT_WARNING, "retry 2 of 3", 3100);
  ASSERT_ALERT(all[3], CACHE_ALERT_WARNING, "retry 1 of 3", 1100);
}
END_TEST

START_TEST(success_resets_the_count_of_failures) {
  cache = make(100, 1000, 3, true);
  cache__fault_set(CACHE__FAULT_PASS, 0, 2);
  advance_and_expect_failure(100, 1);  /* 1100, retry at 3100 */
  advance_and_expect_failure(2000, 2); /* 3100, retry at 7100 */
  advance_and_expect_success(4000, 1); /* 7100 */
  ck_assert_uint_eq(stats_of(cache).alerts_warning, 2);

  /* The next pass is one interval after the success; its failure is the
   * first again. */
  cache__fault_set(CACHE__FAULT_PASS, 0, 1);
  advance_and_expect_nothing(99);
  advance_and_expect_failure(1, 3); /* 7200 */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_WARNING, "retry 1 of 3 in 2000 ms",
               7200);
  ck_assert_uint_eq(stats_of(cache).alerts_critical, 0);
}
END_TEST

START_TEST(count_of_failures_starts_again_after_the_critical_alert) {
  cache = make(100, 1000, 1, true);
  cache__fault_set(CACHE__FAULT_PASS, 0, 3);
  advance_and_expect_failure(100, 1); /* 1100 */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_WARNING, "retry 1 of 1 in 2000 ms",
               1100);
  advance_and_expect_failure(2000, 2); /* 3100 */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_CRITICAL,
               "cleanup failed after 1 retries", 3100);
  advance_and_expect_nothing(99);
  advance_and_expect_failure(1, 3); /* 3200 */
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_WARNING, "retry 1 of 1 in 2000 ms",
               3200);
  cache_stats_t st = stats_of(cache);
  ck_assert_uint_eq(st.alerts_warning, 2);
  ck_assert_uint_eq(st.alerts_critical, 1);
  ck_assert_uint_eq(st.cleanup_runs, 0);
}
END_TEST

START_TEST(no_retries_means_a_critical_alert_at_the_first_failure) {
  cache = make(100, 1000, 0, true);
  cache__fault_set(CACHE__FAULT_PASS, 0, 1);
  advance_and_expect_failure(100, 1);
  ASSERT_ALERT(newest_alert(), CACHE_ALERT_CRITICAL,
               "cleanup failed after 0 retries", 1100);
  ck_assert_uint_eq(stats_of(cache).alerts_warning, 0);
  advance_and_expect_nothing(99);
  advance_and_expect_success(1, 1);
}
END_TEST

START_TEST(skipped_passes_succeed_before_the_failures) {
  cache = make(100, 1000, 3, true);
  cache__fault_set(CACHE__FAULT_PASS, 1, 1);
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(runs() == 1);
  ck_assert_uint_eq(runs(), 1);
  ck_assert_uint_eq(errors(), 0);
  /* (The failure is armed: no probe. Move on until the next pass.) */
  uint64_t start = real_ms();
  while (alerts_of(cache) == 0 && real_ms() - start < WAIT_LIMIT_MS) {
    atomic_clock_advance(&clk, 100);
    sleep_ms(5);
  }
  WAIT_FOR(alerts_of(cache) == 1);
  ck_assert_uint_eq(errors(), 1);
  ck_assert_uint_eq(runs(), 1);
  cache_alert_t a = newest_alert();
  ck_assert_int_eq(a.level, CACHE_ALERT_WARNING);
  ck_assert_ptr_nonnull(strstr(a.message, "retry 1 of 3 in 2000 ms"));
}
END_TEST

START_TEST(failed_pass_leaves_the_expired_entries_for_the_retry) {
  cache = make(100, 10, 3, true);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_set(cache, "b", "2", 0));
  cache__fault_set(CACHE__FAULT_PASS, 0, 1);
  advance_and_expect_failure(100, 1);
  ck_assert_uint_eq(cache_count(cache), 2);
  ck_assert_uint_eq(stats_of(cache).expirations, 0);
  atomic_clock_advance(&clk, 20); /* the first retry, 10 * 2 ms later */
  /* (A pass is counted once it is over, after it removed the entries.) */
  WAIT_FOR(cache_count(cache) == 0 && runs() == 1);
  ck_assert_uint_eq(cache_count(cache), 0);
  ck_assert_uint_eq(runs(), 1);
  ck_assert_uint_eq(stats_of(cache).expirations, 2);
}
END_TEST

/* ---- destroy and close never wait for a backoff ------------------------- */

#define HOUR_MS 3600000u

START_TEST(destroy_does_not_wait_for_a_backoff) {
  /* The monotonic clock: the thread sleeps until the retry, hours away. */
  cache = make(1, HOUR_MS, 3, false);
  cache__fault_set(CACHE__FAULT_PASS, 0, 3);
  WAIT_FOR(errors() == 1);
  ck_assert_uint_eq(errors(), 1);
  uint64_t start = real_ms();
  cache_destroy(cache);
  cache = NULL;
  ck_assert_uint_lt(real_ms() - start, 2000);
}
END_TEST

START_TEST(destroy_right_after_arming_failures_returns_quickly) {
  cache = make(1, HOUR_MS, 3, false);
  cache__fault_set(CACHE__FAULT_PASS, 0, 3);
  sleep_ms(5);
  uint64_t start = real_ms();
  cache_destroy(cache);
  cache = NULL;
  ck_assert_uint_lt(real_ms() - start, 2000);
}
END_TEST

START_TEST(destroy_of_an_own_clock_cache_does_not_wait_for_a_backoff) {
  cache = make(100, HOUR_MS, 3, true);
  cache__fault_set(CACHE__FAULT_PASS, 0, 3);
  advance_and_expect_failure(100, 1);
  uint64_t start = real_ms();
  cache_destroy(cache);
  cache = NULL;
  ck_assert_uint_lt(real_ms() - start, 2000);
}
END_TEST

START_TEST(close_does_not_wait_for_a_backoff) {
  int base = settled_thread_count();
  cache = make(1, HOUR_MS, 3, false);
  cache__fault_set(CACHE__FAULT_PASS, 0, 3);
  WAIT_FOR(errors() == 1);
  ck_assert_uint_eq(errors(), 1);
  uint64_t start = real_ms();
  ASSERT_OK(cache_close(cache));
  ck_assert_uint_lt(real_ms() - start, 2000);
  /* The thread had nothing else to serve. */
  WAIT_FOR(thread_count() == base);
  ck_assert_int_eq(thread_count(), base);
}
END_TEST

START_TEST(other_caches_keep_their_schedule_during_a_backoff) {
  cache = make(100, HOUR_MS, 3, true);
  cache_t *other = make(100, 1000, 3, true);
  ASSERT_OK(tu_set(other, "x", "1", 0));
  cache__fault_set(CACHE__FAULT_PASS, 0, 1);
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(alerts_of(cache) + alerts_of(other) == 1 &&
           stats_of(cache).cleanup_runs + stats_of(other).cleanup_runs == 1);
  /* Exactly one of the two failed; the other ran. */
  uint64_t failed = errors() + stats_of(other).cleanup_errors;
  ck_assert_uint_eq(failed, 1);
  cache_t *ok = errors() == 1 ? other : cache;
  cache_t *backing_off = errors() == 1 ? cache : other;
  ck_assert_uint_eq(stats_of(ok).cleanup_runs, 1);
  probe_sync(&probe);
  /* The one that succeeded goes on every interval; the one backing off
   * waits for its retry. */
  atomic_clock_advance(&clk, 100);
  WAIT_FOR(stats_of(ok).cleanup_runs == 2);
  ck_assert_uint_eq(stats_of(ok).cleanup_runs, 2);
  ck_assert_uint_eq(stats_of(backing_off).cleanup_runs, 0);
  cache_destroy(other);
}
END_TEST

static Suite *retry_suite(void) {
  Suite *s = suite_create("retry");

  TCase *b = tcase_create("backoff");
  tcase_add_checked_fixture(b, setup_with_probe, teardown_with_probe);
  tcase_set_timeout(b, 120);
  tcase_add_test(b,
                 failures_back_off_exponentially_then_raise_a_critical_alert);
  tcase_add_test(b, success_resets_the_count_of_failures);
  tcase_add_test(b, count_of_failures_starts_again_after_the_critical_alert);
  tcase_add_test(b, no_retries_means_a_critical_alert_at_the_first_failure);
  tcase_add_test(b, skipped_passes_succeed_before_the_failures);
  tcase_add_test(b, failed_pass_leaves_the_expired_entries_for_the_retry);
  tcase_add_test(b, other_caches_keep_their_schedule_during_a_backoff);
  suite_add_tcase(s, b);

  TCase *d = tcase_create("destroy");
  tcase_add_checked_fixture(d, setup, teardown);
  tcase_set_timeout(d, 120);
  tcase_add_test(d, destroy_does_not_wait_for_a_backoff);
  tcase_add_test(d, destroy_right_after_arming_failures_returns_quickly);
  tcase_add_test(d, destroy_of_an_own_clock_cache_does_not_wait_for_a_backoff);
  tcase_add_test(d, close_does_not_wait_for_a_backoff);
  suite_add_tcase(s, d);
  return s;
}

int main(void) { return tu_run(retry_suite()); }
