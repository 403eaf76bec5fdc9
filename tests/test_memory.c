/* The process memory monitor: cache_memory_usage(), cache_memory_is_high()
 * and cache_memory_purge().
 *
 * The same tests run on every build. Which groups of fields are filled in
 * depends on the machine (a memory cgroup or not) and on the build (the
 * allocator's figures exist only with jemalloc), so each test reads the
 * `sources` bits and checks what the present sources promise and that the
 * fields of an absent one are 0. */
#include <stddef.h>
#include <stdint.h>

#include "test_util.h"

/* A fresh, fully read usage struct. */
static cache_memory_usage_t usage_now(void) {
  cache_memory_usage_t m;
  memset(&m, 0xa5, sizeof m);
  m.struct_size = sizeof m;
  ASSERT_OK(cache_memory_usage(&m));
  return m;
}

/* ---- argument checks ----------------------------------------------------- */

START_TEST(usage_rejects_null) {
  ASSERT_STATUS(cache_memory_usage(NULL), CACHE_EINVAL);
}
END_TEST

START_TEST(usage_rejects_a_struct_size_below_the_first_version) {
  cache_memory_usage_t m;
  memset(&m, 0xa5, sizeof m);
  m.struct_size = sizeof m - 1;
  ASSERT_STATUS(cache_memory_usage(&m), CACHE_EINVAL);
  /* Nothing was written past struct_size. */
  const unsigned char *p = (const unsigned char *)&m;
  for (size_t i = sizeof m.struct_size; i < sizeof m; i++)
    ck_assert_uint_eq(p[i], 0xa5);
  m.struct_size = 0;
  ASSERT_STATUS(cache_memory_usage(&m), CACHE_EINVAL);
}
END_TEST

/* ---- what each source promises ------------------------------------------- */

START_TEST(usage_reads_proc_figures) {
  cache_memory_usage_t m = usage_now();
  ck_assert_uint_eq(m.struct_size, sizeof m);
  ck_assert_msg(m.sources & CACHE_MEMORY_PROC, "sources = %#x", m.sources);
  ck_assert_uint_eq(m.sources & ~(CACHE_MEMORY_PROC | CACHE_MEMORY_CGROUP |
                                  CACHE_MEMORY_ALLOCATOR),
                    0);
  ck_assert_uint_eq(m.reserved0, 0);
  ck_assert_uint_gt(m.rss_bytes, 0);
  ck_assert_uint_ge(m.rss_peak_bytes, m.rss_bytes);
  ck_assert_uint_ge(m.vm_size_bytes, m.rss_bytes);
  ck_assert_uint_gt(m.data_bytes, 0);
  /* /proc counts in kB. */
  ck_assert_uint_eq(m.rss_bytes % 1024, 0);
  ck_assert_uint_eq(m.vm_size_bytes % 1024, 0);
}
END_TEST

START_TEST(usage_reads_cgroup_figures_when_there_is_a_cgroup) {
  cache_memory_usage_t m = usage_now();
  if (m.sources & CACHE_MEMORY_CGROUP) {
    ck_assert_uint_gt(m.cgroup_usage_bytes, 0);
    ck_assert_uint_gt(m.cgroup_limit_bytes, 0);
  } else {
    ck_assert_uint_eq(m.cgroup_usage_bytes, 0);
    ck_assert_uint_eq(m.cgroup_limit_bytes, 0);
  }
}
END_TEST

START_TEST(usage_reads_allocator_figures_when_built_with_jemalloc) {
  /* Make sure the allocator has been used at all. */
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "key", "value", 0));
  cache_memory_usage_t m = usage_now();
  if (m.sources & CACHE_MEMORY_ALLOCATOR) {
    ck_assert_uint_gt(m.je_allocated, 0);
    ck_assert_uint_ge(m.je_active, m.je_allocated);
    ck_assert_uint_ge(m.je_resident, m.je_active);
    ck_assert_uint_ge(m.je_mapped, m.je_resident);
  } else {
    ck_assert_uint_eq(m.je_allocated, 0);
    ck_assert_uint_eq(m.je_active, 0);
    ck_assert_uint_eq(m.je_resident, 0);
    ck_assert_uint_eq(m.je_mapped, 0);
    ck_assert_uint_eq(m.je_retained, 0);
  }
  cache_destroy(c);
}
END_TEST

/* The arena figure of cache_stats() and the allocator source come from the
 * same allocator: both present or both absent. */
START_TEST(arena_resident_bytes_follow_the_allocator_source) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "key", "value", 0));
  cache_memory_usage_t m = usage_now();
  cache_stats_t st = tu_stats(c);
  if (m.sources & CACHE_MEMORY_ALLOCATOR)
    ck_assert_uint_gt(st.arena_resident_bytes, 0);
  else
    ck_assert_uint_eq(st.arena_resident_bytes, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(usage_zeroes_the_tail_of_a_larger_struct) {
  enum { EXTRA = 64 };
  union {
    cache_memory_usage_t m;
    unsigned char bytes[sizeof(cache_memory_usage_t) + EXTRA];
  } u;
  memset(&u, 0xa5, sizeof u);
  u.m.struct_size = sizeof u.bytes;
  ASSERT_OK(cache_memory_usage(&u.m));
  ck_assert_uint_eq(u.m.struct_size, sizeof u.bytes); /* left as it was */
  for (size_t i = sizeof(cache_memory_usage_t); i < sizeof u.bytes; i++)
    ck_assert_msg(u.bytes[i] == 0, "byte %zu past the struct is %#x", i,
                  u.bytes[i]);
  ck_assert(u.m.sources & CACHE_MEMORY_PROC);
  ck_assert_uint_gt(u.m.rss_bytes, 0);
}
END_TEST

/* ---- is_high ------------------------------------------------------------- */

START_TEST(is_high_at_zero_is_true) {
  ck_assert_int_eq(cache_memory_is_high(0), 1);
}
END_TEST

START_TEST(is_high_at_a_huge_threshold_is_false) {
  ck_assert_int_eq(cache_memory_is_high(UINT64_MAX), 0);
  ck_assert_int_eq(cache_memory_is_high(UINT64_MAX >> 20), 0);
  ck_assert_int_eq(cache_memory_is_high(UINT64_C(1) << 30), 0); /* 1 PiB */
}
END_TEST

START_TEST(is_high_compares_with_the_resident_set) {
  uint64_t rss_mb = usage_now().rss_bytes >> 20;
  if (rss_mb >= 2)
    ck_assert_int_eq(cache_memory_is_high(rss_mb / 2), 1);
  ck_assert_int_eq(cache_memory_is_high(rss_mb * 4 + 64), 0);
}
END_TEST

/* ---- purge --------------------------------------------------------------- */

START_TEST(purge_succeeds_and_records_what_it_released) {
  ASSERT_OK(cache_memory_purge());
  cache_memory_usage_t m = usage_now();
  /* Whatever it released, the figure is a real one now (the 0xa5 fill of
   * usage_now() would show through otherwise). */
  ck_assert_uint_lt(m.purge_released_bytes, m.rss_peak_bytes + 1);
  ASSERT_OK(cache_memory_purge()); /* again, with nothing left to purge */
}
END_TEST

#define FILL_BYTES (UINT64_C(50) << 20)
#define FILL_VALUE 4000

/* With jemalloc, the pages of a cleared cache leave the resident set once
 * purged. (The C library's heap gives no such promise, and sanitizers and
 * valgrind keep freed memory on purpose: there only the call is checked.) */
static cache_t *filled_cache; /* destroyed by teardown, even on failure */

static void teardown(void) {
  cache_destroy(filled_cache);
  filled_cache = NULL;
}

START_TEST(purge_after_clear_returns_a_filled_cache_to_the_system) {
  cache_t *c = filled_cache = tu_make_cache(NULL, 0, 0);
  static char value[FILL_VALUE];
  memset(value, 'v', sizeof value);
  char key[32];
  uint64_t i = 0;
  while (tu_stats(c).bytes < FILL_BYTES) {
    for (int j = 0; j < 256; j++, i++) {
      int n = snprintf(key, sizeof key, "fill-%llu", (unsigned long long)i);
      value[0] = (char)i; /* touch each value differently */
      ASSERT_OK(cache_set(c, key, (size_t)n, value, sizeof value, 0));
    }
  }
  cache_memory_usage_t filled = usage_now();
  ASSERT_OK(cache_clear(c));
  ck_assert_uint_eq(cache_count(c), 0);
  ck_assert_uint_eq(tu_stats(c).bytes, 0);
  ASSERT_OK(cache_memory_purge());
  cache_memory_usage_t purged = usage_now();

  if (filled.sources & CACHE_MEMORY_ALLOCATOR) {
    uint64_t dropped = filled.rss_bytes > purged.rss_bytes
                           ? filled.rss_bytes - purged.rss_bytes
                           : 0;
    ck_assert_msg(dropped >= FILL_BYTES / 2,
                  "rss %llu with %llu MiB cached, %llu after clear and purge "
                  "(released %llu): dropped only %llu",
                  (unsigned long long)filled.rss_bytes,
                  (unsigned long long)(FILL_BYTES >> 20),
                  (unsigned long long)purged.rss_bytes,
                  (unsigned long long)purged.purge_released_bytes,
                  (unsigned long long)dropped);
    ck_assert_uint_ge(purged.purge_released_bytes, FILL_BYTES / 2);
    ck_assert_uint_lt(purged.je_allocated, filled.je_allocated);
    ck_assert_uint_ge(filled.je_allocated, FILL_BYTES);
    ck_assert_uint_lt(purged.je_resident + FILL_BYTES / 2, filled.je_resident);
  }
}
END_TEST

static Suite *memory_suite(void) {
  Suite *s = suite_create("memory");
  TCase *t = tcase_create("usage");
  tcase_add_test(t, usage_rejects_null);
  tcase_add_test(t, usage_rejects_a_struct_size_below_the_first_version);
  tcase_add_test(t, usage_reads_proc_figures);
  tcase_add_test(t, usage_reads_cgroup_figures_when_there_is_a_cgroup);
  tcase_add_test(t, usage_reads_allocator_figures_when_built_with_jemalloc);
  tcase_add_test(t, arena_resident_bytes_follow_the_allocator_source);
  tcase_add_test(t, usage_zeroes_the_tail_of_a_larger_struct);
  suite_add_tcase(s, t);

  t = tcase_create("is_high");
  tcase_add_test(t, is_high_at_zero_is_true);
  tcase_add_test(t, is_high_at_a_huge_threshold_is_false);
  tcase_add_test(t, is_high_compares_with_the_resident_set);
  suite_add_tcase(s, t);

  t = tcase_create("purge");
  tcase_add_checked_fixture(t, NULL, teardown);
  tcase_set_timeout(t, 120);
  tcase_add_test(t, purge_succeeds_and_records_what_it_released);
  tcase_add_test(t, purge_after_clear_returns_a_filled_cache_to_the_system);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(memory_suite()); }
