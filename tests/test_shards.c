/* Sharding: a cache is split into up to 16 lock-striped shards, each with
 * at least 2048 entries of max_entries (a max_bytes bound counting one
 * entry per KiB); a cache too small for two shards has one, and its FIFO or LRU
 * order is exact. The bounds are global, whatever the number of shards:
 * a cache evicts only when the whole cache is full. */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

/* The library's CACHE__MIN_SHARD_ENTRIES. */
#define MIN_SHARD 2048

/* The keys evicted, in order. */
#define MAX_EVICTED 512

static struct {
  int n;
  int other; /* removals for another reason */
  char keys[MAX_EVICTED][16];
} evicted;

static void on_remove(const void *key, size_t key_len, const void *value,
                      size_t value_len, int reason, void *ctx) {
  (void)value, (void)value_len, (void)ctx;
  if (reason != CACHE_REMOVED_EVICTED) {
    evicted.other++;
    return;
  }
  if (evicted.n < MAX_EVICTED && key_len < sizeof evicted.keys[0]) {
    memcpy(evicted.keys[evicted.n], key, key_len);
    evicted.keys[evicted.n][key_len] = '\0';
  }
  evicted.n++;
}

static void setup(void) { memset(&evicted, 0, sizeof evicted); }

static cache_t *make(int policy, uint64_t max_entries, uint64_t max_bytes) {
  cache_options_t o;
  cache_options_init(&o);
  o.policy = policy;
  o.max_entries = max_entries;
  o.max_bytes = max_bytes;
  o.on_remove = on_remove;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

static void key_of(char *key, size_t len, int i) {
  snprintf(key, len, "k%d", i);
}

static void set_key(cache_t *c, int i, size_t value_len) {
  static char value[2048];
  char key[16];
  key_of(key, sizeof key, i);
  memset(value, 'v', value_len);
  ASSERT_OK(cache_set(c, key, strlen(key), value, value_len, 0));
}

#define ASSERT_EVICTED_AT(pos, i)                                              \
  do {                                                                         \
    char k_[16];                                                               \
    key_of(k_, sizeof k_, (i));                                                \
    ck_assert_msg(strcmp(evicted.keys[(pos)], k_) == 0,                        \
                  "eviction %d was %s, expected %s", (pos),                    \
                  evicted.keys[(pos)], k_);                                    \
  } while (0)

/* The largest bound that keeps one shard: two would hold 127 each. */
#define ONE_SHARD 255

/* ---- one shard: exact order --------------------------------------------- */

START_TEST(fifo_order_is_exact_in_the_largest_one_shard_cache) {
  cache_t *c = make(CACHE_POLICY_FIFO, ONE_SHARD, 0);
  for (int i = 0; i < ONE_SHARD; i++)
    set_key(c, i, 1);
  /* Reads do not matter to FIFO. */
  for (int i = 0; i < ONE_SHARD; i += 2) {
    char key[16], buf[4];
    size_t len;
    key_of(key, sizeof key, i);
    ASSERT_OK(cache_get(c, key, strlen(key), buf, sizeof buf, &len));
  }
  ck_assert_int_eq(evicted.n, 0);
  for (int i = 0; i < ONE_SHARD; i++)
    set_key(c, ONE_SHARD + i, 1);
  ck_assert_int_eq(evicted.n, ONE_SHARD);
  for (int i = 0; i < ONE_SHARD; i++)
    ASSERT_EVICTED_AT(i, i);
  ck_assert_uint_eq(cache_count(c), ONE_SHARD);
  cache_destroy(c);
}
END_TEST

START_TEST(lru_order_is_exact_in_the_largest_one_shard_cache) {
  cache_t *c = make(CACHE_POLICY_LRU, ONE_SHARD, 0);
  for (int i = 0; i < ONE_SHARD; i++)
    set_key(c, i, 1);
  /* Read the odd keys, newest first: recency is then the even keys in
   * insertion order, then the odd ones from the highest down. */
  for (int i = ONE_SHARD - 1; i >= 0; i--) {
    if (i % 2 == 0)
      continue;
    char key[16], buf[4];
    size_t len;
    key_of(key, sizeof key, i);
    ASSERT_OK(cache_get(c, key, strlen(key), buf, sizeof buf, &len));
  }
  for (int i = 0; i < ONE_SHARD; i++)
    set_key(c, ONE_SHARD + i, 1);
  ck_assert_int_eq(evicted.n, ONE_SHARD);
  int pos = 0;
  for (int i = 0; i < ONE_SHARD; i += 2, pos++)
    ASSERT_EVICTED_AT(pos, i);
  for (int i = ONE_SHARD - 2; i >= 1; i -= 2, pos++) /* the odd keys */
    ASSERT_EVICTED_AT(pos, i);
  ck_assert_int_eq(pos, ONE_SHARD);
  cache_destroy(c);
}
END_TEST

START_TEST(byte_bound_below_256_kib_keeps_one_shard_in_exact_order) {
  /* No entry bound; 255 KiB counts as 255 entries: one shard. */
  cache_t *c = make(CACHE_POLICY_FIFO, 0, ONE_SHARD * 1024);
  const int n = 300;
  for (int i = 0; i < n; i++)
    set_key(c, i, 1000);
  ck_assert_int_gt(evicted.n, 0);
  ck_assert_int_le(evicted.n, MAX_EVICTED);
  for (int i = 0; i < evicted.n; i++)
    ASSERT_EVICTED_AT(i, i);
  ck_assert_uint_eq(cache_count(c), (uint64_t)(n - evicted.n));
  ck_assert_uint_le(tu_stats(c).bytes, ONE_SHARD * 1024);
  cache_destroy(c);
}
END_TEST

START_TEST(smaller_of_the_two_bounds_decides_the_shards) {
  /* 4096 entries would make 16 shards, but 100 KiB makes one. */
  cache_t *c = make(CACHE_POLICY_FIFO, 4096, 100 * 1024);
  for (int i = 0; i < 200; i++)
    set_key(c, i, 1000);
  ck_assert_int_gt(evicted.n, 0);
  for (int i = 0; i < evicted.n; i++)
    ASSERT_EVICTED_AT(i, i);
  cache_destroy(c);
}
END_TEST

/* ---- many shards: the bounds stay global --------------------------------- */

START_TEST(entry_bound_is_global_across_sixteen_shards) {
  /* Sixteen shards of MIN_SHARD. The keys do not spread evenly over the
   * shards, yet nothing is evicted before the cache is full. */
  const int max = 16 * MIN_SHARD;
  cache_t *c = make(CACHE_POLICY_LRU, (uint64_t)max, 0);
  for (int i = 0; i < max; i++)
    set_key(c, i, 8);
  ck_assert_int_eq(evicted.n, 0);
  ck_assert_uint_eq(cache_count(c), (uint64_t)max);
  /* Then each new key evicts exactly one. */
  for (int i = 0; i < 100; i++) {
    set_key(c, max + i, 8);
    ck_assert_int_eq(evicted.n, i + 1);
    ck_assert_uint_eq(cache_count(c), (uint64_t)max);
  }
  ck_assert_uint_eq(tu_stats(c).evictions, 100);
  ck_assert_int_eq(evicted.other, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(byte_bound_is_global_across_sixteen_shards) {
  /* Sixteen shards of MIN_SHARD KiB. Fill to within one entry of the
   * bound, then go past it. */
  const uint64_t max = 16u * MIN_SHARD * 1024;
  cache_t *c = make(CACHE_POLICY_FIFO, 0, max);
  int i = 0;
  uint64_t one = 0;
  for (;; i++) {
    uint64_t before = tu_stats(c).bytes;
    if (one != 0 && before + 2 * one > max)
      break;
    set_key(c, i, 1000);
    one = tu_stats(c).bytes - before;
  }
  ck_assert_int_eq(evicted.n, 0);
  ck_assert_int_gt(i, MIN_SHARD); /* more than any one shard's share */
  while (evicted.n == 0) {
    set_key(c, i++, 1000);
    ck_assert_uint_le(tu_stats(c).bytes, max);
  }
  ck_assert_uint_le(tu_stats(c).bytes, max);
  ck_assert_int_eq(evicted.other, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(unbounded_cache_never_evicts) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  for (int i = 0; i < 5000; i++)
    set_key(c, i, 16);
  ck_assert_uint_eq(cache_count(c), 5000);
  ck_assert_int_eq(evicted.n, 0);
  cache_destroy(c);
}
END_TEST

static Suite *shards_suite(void) {
  Suite *s = suite_create("shards");
  TCase *o = tcase_create("one shard");
  tcase_add_checked_fixture(o, setup, NULL);
  tcase_add_test(o, fifo_order_is_exact_in_the_largest_one_shard_cache);
  tcase_add_test(o, lru_order_is_exact_in_the_largest_one_shard_cache);
  tcase_add_test(o, byte_bound_below_256_kib_keeps_one_shard_in_exact_order);
  tcase_add_test(o, smaller_of_the_two_bounds_decides_the_shards);
  suite_add_tcase(s, o);

  TCase *m = tcase_create("many shards");
  tcase_add_checked_fixture(m, setup, NULL);
  tcase_add_test(m, entry_bound_is_global_across_sixteen_shards);
  tcase_add_test(m, byte_bound_is_global_across_sixteen_shards);
  tcase_add_test(m, unbounded_cache_never_evicts);
  suite_add_tcase(s, m);
  return s;
}

int main(void) { return tu_run(shards_suite()); }
