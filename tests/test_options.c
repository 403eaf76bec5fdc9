/* Options: defaults, presets, validation by cache_create(), and the preset
 * constructors. */
#include <stddef.h>

#include "test_util.h"

/* A handle value cache_create() must leave alone when it fails. */
static cache_t *const SENTINEL = (cache_t *)&SENTINEL;

/* ---- cache_options_init ------------------------------------------------- */

START_TEST(options_init_sets_documented_defaults) {
  cache_options_t o;
  memset(&o, 0xAB, sizeof o);
  cache_options_init(&o);
  ck_assert_uint_eq(o.struct_size, sizeof(cache_options_t));
  ck_assert_ptr_null(o.name);
  ck_assert_uint_eq(o.ttl_ms, 0);
  ck_assert_uint_eq(o.max_entries, 0);
  ck_assert_uint_eq(o.max_bytes, 0);
  ck_assert_uint_eq(o.cleanup_interval_ms, 0);
  ck_assert_uint_eq(o.max_retries, 3);
  ck_assert_uint_eq(o.retry_base_ms, 1000);
  ck_assert_uint_eq(o.memory_threshold_mb, 0);
  ck_assert_int_eq(o.policy, CACHE_POLICY_TINYLFU);
  ck_assert_int_eq(o.reserved0, 0);
  ck_assert(o.clock_ms == NULL);
}
END_TEST

START_TEST(options_init_null_is_ignored) { cache_options_init(NULL); }
END_TEST

START_TEST(default_options_create_a_cache) {
  cache_options_t o;
  cache_options_init(&o);
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(cache_name(c), "");
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.bytes, 0);
  ck_assert_uint_eq(st.max_entries, 0);
  ck_assert_uint_eq(st.max_bytes, 0);
  cache_destroy(c);
}
END_TEST

/* ---- presets ------------------------------------------------------------ */
typedef struct preset_row {
  int preset;
  const char *name;
  uint64_t ttl_ms;
  uint64_t max_entries;
  uint64_t cleanup_ms;
  uint32_t retries;
  uint64_t threshold_mb;
} preset_row_t;

static const preset_row_t preset_rows[] = {
#define ROW(id, value, cname, ttl, maxe, cleanup, retries, mib)                \
  {value, cname, ttl, maxe, cleanup, retries, mib},
    CACHE_PRESET_MAP(ROW)
#undef ROW
};
#define N_PRESETS ((int)(sizeof preset_rows / sizeof preset_rows[0]))

START_TEST(preset_map_has_the_four_named_caches) {
  ck_assert_int_eq(N_PRESETS, 4);
  ck_assert_int_eq(CACHE_PRESET_PROPOSAL, 0);
  ck_assert_int_eq(CACHE_PRESET_USER, 1);
  ck_assert_int_eq(CACHE_PRESET_MARKET_DATA, 2);
  ck_assert_int_eq(CACHE_PRESET_CALCULATION, 3);
}
END_TEST

START_TEST(preset_options_exact_values) {
  const preset_row_t *row = &preset_rows[_i];
  cache_options_t o;
  memset(&o, 0xAB, sizeof o);
  ASSERT_OK(cache_preset_options(row->preset, &o));
  ck_assert_uint_eq(o.struct_size, sizeof(cache_options_t));
  ck_assert_ptr_nonnull(o.name);
  ck_assert_str_eq(o.name, row->name);
  ck_assert_uint_eq(o.ttl_ms, row->ttl_ms);
  ck_assert_uint_eq(o.max_entries, row->max_entries);
  ck_assert_uint_eq(o.cleanup_interval_ms, row->cleanup_ms);
  ck_assert_uint_eq(o.max_retries, row->retries);
  ck_assert_uint_eq(o.memory_threshold_mb, row->threshold_mb);
  /* Everything else keeps the cache_options_init() defaults. */
  ck_assert_uint_eq(o.max_bytes, 0);
  ck_assert_uint_eq(o.retry_base_ms, 1000);
  ck_assert_int_eq(o.policy, CACHE_POLICY_TINYLFU);
  ck_assert_int_eq(o.reserved0, 0);
  ck_assert(o.clock_ms == NULL);
}
END_TEST

START_TEST(preset_table_values_are_the_original_ones) {
  cache_options_t o;
  ASSERT_OK(cache_preset_options(CACHE_PRESET_PROPOSAL, &o));
  ck_assert_str_eq(o.name, "proposalCache");
  ck_assert_uint_eq(o.ttl_ms, 600000);
  ck_assert_uint_eq(o.max_entries, 500);
  ck_assert_uint_eq(o.memory_threshold_mb, 50);
  ASSERT_OK(cache_preset_options(CACHE_PRESET_USER, &o));
  ck_assert_str_eq(o.name, "userCache");
  ck_assert_uint_eq(o.ttl_ms, 1800000);
  ck_assert_uint_eq(o.max_entries, 200);
  ck_assert_uint_eq(o.memory_threshold_mb, 30);
  ASSERT_OK(cache_preset_options(CACHE_PRESET_MARKET_DATA, &o));
  ck_assert_str_eq(o.name, "marketDataCache");
  ck_assert_uint_eq(o.ttl_ms, 3600000);
  ck_assert_uint_eq(o.max_entries, 100);
  ck_assert_uint_eq(o.memory_threshold_mb, 20);
  ASSERT_OK(cache_preset_options(CACHE_PRESET_CALCULATION, &o));
  ck_assert_str_eq(o.name, "calculationCache");
  ck_assert_uint_eq(o.ttl_ms, 300000);
  ck_assert_uint_eq(o.max_entries, 1000);
  ck_assert_uint_eq(o.memory_threshold_mb, 100);
}
END_TEST

static const int bad_presets[] = {-1, 4, 5, 100, -100};
#define N_BAD_PRESETS ((int)(sizeof bad_presets / sizeof bad_presets[0]))

START_TEST(preset_options_unknown_preset_is_einval_and_leaves_options) {
  cache_options_t o, before;
  memset(&o, 0xAB, sizeof o);
  memcpy(&before, &o, sizeof o);
  ASSERT_STATUS(cache_preset_options(bad_presets[_i], &o), CACHE_EINVAL);
  ck_assert_mem_eq(&o, &before, sizeof o);
}
END_TEST

START_TEST(preset_options_null_options_is_einval) {
  ASSERT_STATUS(cache_preset_options(CACHE_PRESET_USER, NULL), CACHE_EINVAL);
}
END_TEST

START_TEST(preset_options_then_create_uses_the_preset) {
  const preset_row_t *row = &preset_rows[_i];
  cache_options_t o;
  ASSERT_OK(cache_preset_options(row->preset, &o));
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  ck_assert_str_eq(cache_name(c), row->name);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.max_entries, row->max_entries);
  ck_assert_uint_eq(st.max_bytes, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(preset_default_ttl_applies_to_entries) {
  const preset_row_t *row = &preset_rows[_i];
  test_clock_t clk = {5000};
  cache_options_t o;
  ASSERT_OK(cache_preset_options(row->preset, &o));
  o.clock_ms = test_clock_now;
  o.clock_ctx = &clk;
  o.cleanup_interval_ms = 0; /* only this thread reads the clock */
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = 5000 + row->ttl_ms - 1;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = 5000 + row->ttl_ms;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

/* ---- preset constructors ------------------------------------------------ */
typedef int (*ctor_fn)(cache_t **);
static const ctor_fn ctors[] = {cache_create_proposal, cache_create_user,
                                cache_create_market_data,
                                cache_create_calculation};

START_TEST(preset_constructor_names_and_bounds_the_cache) {
  /* ctors[] is in the order of the preset values 0..3. */
  const preset_row_t *row = &preset_rows[_i];
  ck_assert_int_eq(row->preset, _i);
  cache_t *c = NULL;
  ASSERT_OK(ctors[_i](&c));
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(cache_name(c), row->name);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.max_entries, row->max_entries);
  ck_assert_uint_eq(st.max_bytes, 0);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(cache_count(c), 0);
  cache_destroy(c);
}
END_TEST

START_TEST(preset_constructor_cache_stores_and_returns) {
  cache_t *c = NULL;
  ASSERT_OK(ctors[_i](&c));
  ASSERT_OK(tu_set(c, "k", "v", 0));
  ASSERT_VALUE(c, "k", "v");
  ck_assert_uint_eq(cache_count(c), 1);
  cache_destroy(c);
}
END_TEST

START_TEST(preset_constructor_null_out_is_einval) {
  ASSERT_STATUS(ctors[_i](NULL), CACHE_EINVAL);
}
END_TEST

/* ---- cache_create validation -------------------------------------------- */

START_TEST(create_null_options_is_einval_and_out_untouched) {
  cache_t *c = SENTINEL;
  ASSERT_STATUS(cache_create(NULL, &c), CACHE_EINVAL);
  ck_assert_ptr_eq(c, SENTINEL);
}
END_TEST

START_TEST(create_null_out_is_einval) {
  cache_options_t o;
  cache_options_init(&o);
  ASSERT_STATUS(cache_create(&o, NULL), CACHE_EINVAL);
}
END_TEST

/* struct_size values smaller than the first layout of the struct, which
 * ended after clock_ctx (before the listener). */
static const size_t short_sizes[] = {
    0,
    sizeof(size_t),
    offsetof(cache_options_t, ttl_ms),
    offsetof(cache_options_t, policy),
    offsetof(cache_options_t, clock_ctx),
    offsetof(cache_options_t, on_remove) - 1,
};
#define N_SHORT ((int)(sizeof short_sizes / sizeof short_sizes[0]))

START_TEST(create_struct_size_too_small_is_einval) {
  cache_options_t o;
  cache_options_init(&o);
  o.struct_size = short_sizes[_i];
  cache_t *c = SENTINEL;
  ASSERT_STATUS(cache_create(&o, &c), CACHE_EINVAL);
  ck_assert_ptr_eq(c, SENTINEL);
}
END_TEST

/* An options struct from a future, longer version of the header. */
typedef union bigger_options {
  cache_options_t o;
  unsigned char raw[sizeof(cache_options_t) + 32];
} bigger_options_t;

START_TEST(create_larger_struct_with_zero_tail_is_ok) {
  bigger_options_t b;
  memset(&b, 0, sizeof b);
  cache_options_init(&b.o);
  b.o.struct_size = sizeof b.raw;
  b.o.max_entries = 7;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&b.o, &c));
  ck_assert_ptr_nonnull(c);
  ck_assert_uint_eq(tu_stats(c).max_entries, 7);
  cache_destroy(c);
}
END_TEST

START_TEST(create_larger_struct_with_nonzero_tail_is_einval) {
  /* _i picks which byte of the unknown tail is non-zero. */
  bigger_options_t b;
  memset(&b, 0, sizeof b);
  cache_options_init(&b.o);
  b.o.struct_size = sizeof b.raw;
  b.raw[sizeof(cache_options_t) + (size_t)_i] = 1;
  cache_t *c = SENTINEL;
  ASSERT_STATUS(cache_create(&b.o, &c), CACHE_EINVAL);
  ck_assert_ptr_eq(c, SENTINEL);
}
END_TEST

START_TEST(create_larger_struct_size_does_not_read_past_struct_size) {
  /* Only the first struct_size bytes are read: a non-zero byte just past a
   * larger struct_size does not matter. */
  bigger_options_t b;
  memset(&b, 0, sizeof b);
  cache_options_init(&b.o);
  b.o.struct_size = sizeof(cache_options_t) + 16;
  b.raw[sizeof(cache_options_t) + 16] = 0xFF;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&b.o, &c));
  cache_destroy(c);
}
END_TEST

START_TEST(create_nonzero_reserved_is_einval) {
  static const int32_t values[] = {1, -1, 0x7fffffff};
  cache_options_t o;
  cache_options_init(&o);
  o.reserved0 = values[_i];
  cache_t *c = SENTINEL;
  ASSERT_STATUS(cache_create(&o, &c), CACHE_EINVAL);
  ck_assert_ptr_eq(c, SENTINEL);
}
END_TEST

START_TEST(create_unknown_policy_is_einval) {
  static const int32_t values[] = {-1, 3, 4, 1000};
  cache_options_t o;
  cache_options_init(&o);
  o.policy = values[_i];
  cache_t *c = SENTINEL;
  ASSERT_STATUS(cache_create(&o, &c), CACHE_EINVAL);
  ck_assert_ptr_eq(c, SENTINEL);
}
END_TEST

START_TEST(create_accepts_every_known_policy) {
  static const int32_t policies[] = {
#define P(name, value, text) value,
      CACHE_POLICY_MAP(P)
#undef P
  };
  for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
    cache_options_t o;
    cache_options_init(&o);
    o.policy = policies[i];
    cache_t *c = NULL;
    ASSERT_OK(cache_create(&o, &c));
    ck_assert_ptr_nonnull(c);
    cache_destroy(c);
  }
}
END_TEST

START_TEST(create_copies_the_name) {
  char name[] = "orders";
  cache_options_t o;
  cache_options_init(&o);
  o.name = name;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  memset(name, 'x', sizeof name - 1);
  ck_assert_str_eq(cache_name(c), "orders");
  cache_destroy(c);
}
END_TEST

START_TEST(create_null_name_gives_empty_name) {
  cache_options_t o;
  cache_options_init(&o);
  o.name = NULL;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  ck_assert_ptr_nonnull(cache_name(c));
  ck_assert_str_eq(cache_name(c), "");
  cache_destroy(c);
}
END_TEST

START_TEST(create_does_not_modify_options) {
  cache_options_t o, before;
  cache_options_init(&o);
  o.name = "n";
  o.max_entries = 3;
  o.max_bytes = 4096;
  o.ttl_ms = 10;
  memcpy(&before, &o, sizeof o);
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  ck_assert_mem_eq(&o, &before, sizeof o);
  cache_destroy(c);
}
END_TEST

START_TEST(create_reports_bounds_in_stats) {
  cache_options_t o;
  cache_options_init(&o);
  o.max_entries = 42;
  o.max_bytes = 1u << 20;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.max_entries, 42);
  ck_assert_uint_eq(st.max_bytes, 1u << 20);
  cache_destroy(c);
}
END_TEST

START_TEST(caches_are_independent) {
  cache_t *a = tu_make_cache(NULL, 0, 0);
  cache_t *b = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(a, "k", "in-a", 0));
  ASSERT_MISSING(b, "k");
  ck_assert_uint_eq(cache_count(a), 1);
  ck_assert_uint_eq(cache_count(b), 0);
  cache_destroy(a);
  cache_destroy(b);
}
END_TEST

static Suite *options_suite(void) {
  Suite *s = suite_create("options");

  TCase *d = tcase_create("defaults");
  tcase_add_test(d, options_init_sets_documented_defaults);
  tcase_add_test(d, options_init_null_is_ignored);
  tcase_add_test(d, default_options_create_a_cache);
  suite_add_tcase(s, d);

  TCase *p = tcase_create("presets");
  tcase_add_test(p, preset_map_has_the_four_named_caches);
  tcase_add_loop_test(p, preset_options_exact_values, 0, N_PRESETS);
  tcase_add_test(p, preset_table_values_are_the_original_ones);
  tcase_add_loop_test(
      p, preset_options_unknown_preset_is_einval_and_leaves_options, 0,
      N_BAD_PRESETS);
  tcase_add_test(p, preset_options_null_options_is_einval);
  tcase_add_loop_test(p, preset_options_then_create_uses_the_preset, 0,
                      N_PRESETS);
  tcase_add_loop_test(p, preset_default_ttl_applies_to_entries, 0, N_PRESETS);
  tcase_add_loop_test(p, preset_constructor_names_and_bounds_the_cache, 0, 4);
  tcase_add_loop_test(p, preset_constructor_cache_stores_and_returns, 0, 4);
  tcase_add_loop_test(p, preset_constructor_null_out_is_einval, 0, 4);
  suite_add_tcase(s, p);

  TCase *c = tcase_create("create");
  tcase_add_test(c, create_null_options_is_einval_and_out_untouched);
  tcase_add_test(c, create_null_out_is_einval);
  tcase_add_loop_test(c, create_struct_size_too_small_is_einval, 0, N_SHORT);
  tcase_add_test(c, create_larger_struct_with_zero_tail_is_ok);
  tcase_add_loop_test(c, create_larger_struct_with_nonzero_tail_is_einval, 0,
                      32);
  tcase_add_test(c, create_larger_struct_size_does_not_read_past_struct_size);
  tcase_add_loop_test(c, create_nonzero_reserved_is_einval, 0, 3);
  tcase_add_loop_test(c, create_unknown_policy_is_einval, 0, 4);
  tcase_add_test(c, create_accepts_every_known_policy);
  tcase_add_test(c, create_copies_the_name);
  tcase_add_test(c, create_null_name_gives_empty_name);
  tcase_add_test(c, create_does_not_modify_options);
  tcase_add_test(c, create_reports_bounds_in_stats);
  tcase_add_test(c, caches_are_independent);
  suite_add_tcase(s, c);
  return s;
}

int main(void) { return tu_run(options_suite()); }
