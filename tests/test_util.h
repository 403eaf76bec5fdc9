/*
 * Shared helpers for the libcache unit tests.
 *
 *  - test_clock_t: a clock the test moves by hand, so expiry is decided
 *    without sleeping.
 *  - tu_make_cache(): creates a cache from a few common knobs and fails the
 *    test if that does not work.
 *  - ASSERT_STATUS(): compares two statuses and prints both by name.
 *  - tu_stats(): reads the full statistics struct.
 *  - tu_run(): runs one suite and turns its result into an exit status.
 *  - tu_rand(): a small pseudo-random sequence, the same on every run.
 */
#ifndef LIBCACHE_TEST_UTIL_H
#define LIBCACHE_TEST_UTIL_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

/* ---- pseudo-random numbers --------------------------------------------- */
/* The next of a fixed sequence (24 bits), for orders and sizes that should
 * look random but be the same on every run. */
static inline uint32_t tu_rand(uint32_t *state) {
  *state = *state * 1103515245u + 12345u;
  return *state >> 8;
}

/* ---- controllable clock ------------------------------------------------ */
/* For caches used by one thread and without a background pass; the thread
 * and background tests use an atomic clock of their own. */
typedef struct test_clock {
  uint64_t now_ms;
} test_clock_t;

static inline uint64_t test_clock_now(void *ctx) {
  return ((const test_clock_t *)ctx)->now_ms;
}

/* ---- status assertions -------------------------------------------------- */
#define ASSERT_STATUS(got, expected)                                           \
  do {                                                                         \
    int tu_got_ = (got);                                                       \
    int tu_exp_ = (expected);                                                  \
    ck_assert_msg(tu_got_ == tu_exp_, "%s: expected %s (%d), got %s (%d)",     \
                  #got, cache_err_name(tu_exp_), tu_exp_,                      \
                  cache_err_name(tu_got_), tu_got_);                           \
  } while (0)

#define ASSERT_OK(got) ASSERT_STATUS((got), CACHE_OK)

/* ---- cache construction ------------------------------------------------- */
typedef struct tu_config {
  test_clock_t *clock; /* NULL = the library's monotonic clock */
  int policy;
  uint64_t ttl_ms;
  uint64_t max_entries;
  uint64_t max_bytes;
  const char *name;
} tu_config_t;

static inline cache_t *tu_make_cache_cfg(const tu_config_t *cfg) {
  cache_options_t opts;
  cache_options_init(&opts);
  opts.name = cfg->name;
  opts.policy = cfg->policy;
  opts.ttl_ms = cfg->ttl_ms;
  opts.max_entries = cfg->max_entries;
  opts.max_bytes = cfg->max_bytes;
  if (cfg->clock != NULL) {
    opts.clock_ms = test_clock_now;
    opts.clock_ctx = cfg->clock;
  }
  cache_t *cache = NULL;
  ASSERT_OK(cache_create(&opts, &cache));
  ck_assert_ptr_nonnull(cache);
  return cache;
}

/* A cache with the given clock (may be NULL), LRU policy, default ttl and
 * entry bound, and no byte bound. */
static inline cache_t *tu_make_cache(test_clock_t *clock, uint64_t ttl_ms,
                                     uint64_t max_entries) {
  tu_config_t cfg = {clock, CACHE_POLICY_LRU, ttl_ms, max_entries, 0, NULL};
  return tu_make_cache_cfg(&cfg);
}

/* ---- entry helpers (NUL-terminated strings as keys and values) ---------- */
static inline int tu_set(cache_t *cache, const char *key, const char *value,
                         uint64_t ttl_ms) {
  return cache_set(cache, key, strlen(key), value, strlen(value), ttl_ms);
}

static inline int tu_get(cache_t *cache, const char *key, char *buf,
                         size_t buf_len, size_t *value_len) {
  return cache_get(cache, key, strlen(key), buf, buf_len, value_len);
}

static inline int tu_contains(cache_t *cache, const char *key) {
  return cache_contains(cache, key, strlen(key));
}

static inline int tu_delete(cache_t *cache, const char *key) {
  return cache_delete(cache, key, strlen(key));
}

/* Asserts that key holds exactly the string expected. */
#define ASSERT_VALUE(cache, key, expected)                                     \
  do {                                                                         \
    char tu_buf_[256];                                                         \
    size_t tu_len_ = 0;                                                        \
    const char *tu_expected_ = (expected);                                     \
    ASSERT_OK(tu_get((cache), (key), tu_buf_, sizeof tu_buf_, &tu_len_));      \
    ck_assert_uint_eq(tu_len_, strlen(tu_expected_));                          \
    ck_assert_mem_eq(tu_buf_, tu_expected_, tu_len_);                          \
  } while (0)

/* Asserts that key has no live entry, as seen by a get. */
#define ASSERT_MISSING(cache, key)                                             \
  do {                                                                         \
    char tu_buf_[256];                                                         \
    size_t tu_len_ = 0;                                                        \
    ASSERT_STATUS(tu_get((cache), (key), tu_buf_, sizeof tu_buf_, &tu_len_),   \
                  CACHE_NOT_FOUND);                                            \
  } while (0)

/* ---- statistics --------------------------------------------------------- */
static inline cache_stats_t tu_stats(cache_t *cache) {
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  ASSERT_OK(cache_stats(cache, &st));
  return st;
}

/* Asserts that two stats snapshots are identical field by field. */
#define ASSERT_STATS_EQ(a, b)                                                  \
  do {                                                                         \
    ck_assert_uint_eq((a).entries, (b).entries);                               \
    ck_assert_uint_eq((a).bytes, (b).bytes);                                   \
    ck_assert_uint_eq((a).hits, (b).hits);                                     \
    ck_assert_uint_eq((a).misses, (b).misses);                                 \
    ck_assert_uint_eq((a).sets, (b).sets);                                     \
    ck_assert_uint_eq((a).deletes, (b).deletes);                               \
    ck_assert_uint_eq((a).evictions, (b).evictions);                           \
    ck_assert_uint_eq((a).expirations, (b).expirations);                       \
    ck_assert_uint_eq((a).cleanup_runs, (b).cleanup_runs);                     \
    ck_assert_uint_eq((a).cleanup_errors, (b).cleanup_errors);                 \
    ck_assert_uint_eq((a).max_entries, (b).max_entries);                       \
    ck_assert_uint_eq((a).max_bytes, (b).max_bytes);                           \
  } while (0)

/* ---- runner ------------------------------------------------------------- */
static inline int tu_run(Suite *suite) {
  SRunner *sr = srunner_create(suite);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* LIBCACHE_TEST_UTIL_H */
