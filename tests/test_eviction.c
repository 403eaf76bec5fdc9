/* Eviction by the max_entries bound under the FIFO, LRU and W-TinyLFU
 * policies. */
#include <stdbool.h>
#include <stdio.h>

#include "test_util.h"

static cache_t *make(int policy, uint64_t max_entries) {
  tu_config_t cfg = {NULL, policy, 0, max_entries, 0, NULL};
  return tu_make_cache_cfg(&cfg);
}

static void set_keys(cache_t *c, const char *const *keys, int n) {
  for (int i = 0; i < n; i++)
    ASSERT_OK(tu_set(c, keys[i], keys[i], 0));
}

static const char *const ABC[] = {"a", "b", "c"};

/* ---- FIFO --------------------------------------------------------------- */

START_TEST(fifo_evicts_the_oldest_insertion) {
  cache_t *c = make(CACHE_POLICY_FIFO, 3);
  set_keys(c, ABC, 3);
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ASSERT_STATUS(tu_contains(c, "a"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "b"));
  ASSERT_OK(tu_contains(c, "c"));
  ASSERT_OK(tu_contains(c, "d"));
  ck_assert_uint_eq(cache_count(c), 3);
  ck_assert_uint_eq(tu_stats(c).evictions, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(fifo_evicts_the_oldest_insertion_even_if_it_was_read) {
  cache_t *c = make(CACHE_POLICY_FIFO, 3);
  set_keys(c, ABC, 3);
  ASSERT_VALUE(c, "a", "a");
  ASSERT_VALUE(c, "a", "a");
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ASSERT_STATUS(tu_contains(c, "a"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "b"));
  cache_destroy(c);
}
END_TEST

START_TEST(fifo_keeps_the_newest_insertions) {
  cache_t *c = make(CACHE_POLICY_FIFO, 3);
  char key[16];
  for (int i = 0; i < 10; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(tu_set(c, key, key, 0));
    /* Reading the oldest one does not save it. */
    if (i < 3) {
      ASSERT_VALUE(c, "k0", "k0");
    } else {
      ASSERT_MISSING(c, "k0");
    }
  }
  for (int i = 0; i < 7; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_STATUS(tu_contains(c, key), CACHE_NOT_FOUND);
  }
  for (int i = 7; i < 10; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_VALUE(c, key, key);
  }
  ck_assert_uint_eq(tu_stats(c).evictions, 7);
  cache_destroy(c);
}
END_TEST

START_TEST(fifo_replacing_in_a_full_cache_evicts_nothing) {
  cache_t *c = make(CACHE_POLICY_FIFO, 3);
  set_keys(c, ABC, 3);
  ASSERT_OK(tu_set(c, "b", "new-b", 0));
  ck_assert_uint_eq(cache_count(c), 3);
  ck_assert_uint_eq(tu_stats(c).evictions, 0);
  ASSERT_VALUE(c, "a", "a");
  ASSERT_VALUE(c, "b", "new-b");
  ASSERT_VALUE(c, "c", "c");
  cache_destroy(c);
}
END_TEST

/* ---- LRU ---------------------------------------------------------------- */

START_TEST(lru_evicts_the_least_recently_used) {
  cache_t *c = make(CACHE_POLICY_LRU, 3);
  set_keys(c, ABC, 3);
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ASSERT_STATUS(tu_contains(c, "a"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "b"));
  ASSERT_OK(tu_contains(c, "c"));
  ASSERT_OK(tu_contains(c, "d"));
  ck_assert_uint_eq(tu_stats(c).evictions, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(lru_get_refreshes_an_entry) {
  cache_t *c = make(CACHE_POLICY_LRU, 3);
  set_keys(c, ABC, 3);
  ASSERT_VALUE(c, "a", "a");
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ASSERT_OK(tu_contains(c, "a"));
  ASSERT_STATUS(tu_contains(c, "b"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "c"));
  ASSERT_OK(tu_contains(c, "d"));
  cache_destroy(c);
}
END_TEST

START_TEST(lru_contains_does_not_refresh_an_entry) {
  cache_t *c = make(CACHE_POLICY_LRU, 3);
  set_keys(c, ABC, 3);
  ASSERT_OK(tu_contains(c, "a"));
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ASSERT_STATUS(tu_contains(c, "a"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "b"));
  cache_destroy(c);
}
END_TEST

START_TEST(lru_set_of_existing_key_refreshes_it) {
  cache_t *c = make(CACHE_POLICY_LRU, 3);
  set_keys(c, ABC, 3);
  ASSERT_OK(tu_set(c, "a", "a2", 0));
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ASSERT_VALUE(c, "a", "a2");
  ASSERT_STATUS(tu_contains(c, "b"), CACHE_NOT_FOUND);
  cache_destroy(c);
}
END_TEST

START_TEST(lru_evicts_in_recency_order) {
  cache_t *c = make(CACHE_POLICY_LRU, 3);
  set_keys(c, ABC, 3);               /* recency: a b c */
  ASSERT_VALUE(c, "a", "a");         /* b c a */
  ASSERT_VALUE(c, "b", "b");         /* c a b */
  ASSERT_OK(tu_set(c, "d", "d", 0)); /* evicts c: a b d */
  ASSERT_STATUS(tu_contains(c, "c"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_set(c, "e", "e", 0)); /* evicts a: b d e */
  ASSERT_STATUS(tu_contains(c, "a"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "b"));
  ASSERT_OK(tu_contains(c, "d"));
  ASSERT_OK(tu_contains(c, "e"));
  ck_assert_uint_eq(tu_stats(c).evictions, 2);
  cache_destroy(c);
}
END_TEST

START_TEST(lru_miss_does_not_change_recency) {
  cache_t *c = make(CACHE_POLICY_LRU, 3);
  set_keys(c, ABC, 3);
  ASSERT_MISSING(c, "zz");
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ASSERT_STATUS(tu_contains(c, "a"), CACHE_NOT_FOUND);
  cache_destroy(c);
}
END_TEST

START_TEST(lru_replacing_in_a_full_cache_evicts_nothing) {
  cache_t *c = make(CACHE_POLICY_LRU, 3);
  set_keys(c, ABC, 3);
  ASSERT_OK(tu_set(c, "a", "bigger value for a", 0));
  ck_assert_uint_eq(cache_count(c), 3);
  ck_assert_uint_eq(tu_stats(c).evictions, 0);
  ASSERT_VALUE(c, "a", "bigger value for a");
  ASSERT_VALUE(c, "b", "b");
  ASSERT_VALUE(c, "c", "c");
  cache_destroy(c);
}
END_TEST

/* ---- both policies ------------------------------------------------------ */

static const int policies[] = {CACHE_POLICY_FIFO, CACHE_POLICY_LRU};

START_TEST(max_entries_is_never_exceeded) {
  cache_t *c = make(policies[_i], 10);
  char key[16];
  for (int i = 0; i < 1000; i++) {
    int n = snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(cache_set(c, key, (size_t)n, key, (size_t)n, 0));
    ck_assert_uint_le(cache_count(c), 10);
    if (i % 3 == 0) {
      size_t len;
      char buf[16];
      int kn = snprintf(key, sizeof key, "k%d", i / 2);
      int st = cache_get(c, key, (size_t)kn, buf, sizeof buf, &len);
      ck_assert(st == CACHE_OK || st == CACHE_NOT_FOUND);
    }
  }
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 10);
  ck_assert_uint_eq(cache_count(c), 10);
  ck_assert_uint_eq(st.evictions, 990);
  ck_assert_uint_eq(st.sets, 1000);
  cache_destroy(c);
}
END_TEST

START_TEST(max_entries_of_one_keeps_only_the_last) {
  cache_t *c = make(policies[_i], 1);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  ck_assert_uint_eq(cache_count(c), 1);
  ASSERT_VALUE(c, "c", "3");
  ASSERT_MISSING(c, "a");
  ASSERT_MISSING(c, "b");
  ck_assert_uint_eq(tu_stats(c).evictions, 2);
  cache_destroy(c);
}
END_TEST

START_TEST(delete_makes_room_without_eviction) {
  cache_t *c = make(policies[_i], 3);
  set_keys(c, ABC, 3);
  ASSERT_OK(tu_delete(c, "b"));
  ASSERT_OK(tu_set(c, "d", "d", 0));
  ck_assert_uint_eq(tu_stats(c).evictions, 0);
  ASSERT_OK(tu_contains(c, "a"));
  ASSERT_OK(tu_contains(c, "c"));
  ASSERT_OK(tu_contains(c, "d"));
  cache_destroy(c);
}
END_TEST

START_TEST(eviction_releases_the_evicted_bytes) {
  /* Entries of identical sizes: after an eviction the cache holds as many
   * bytes as before it. */
  cache_t *c = make(policies[_i], 2);
  ASSERT_OK(tu_set(c, "k1", "value-1", 0));
  ASSERT_OK(tu_set(c, "k2", "value-2", 0));
  uint64_t full = tu_stats(c).bytes;
  ASSERT_OK(tu_set(c, "k3", "value-3", 0));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.bytes, full);
  ck_assert_uint_eq(st.evictions, 1);
  ck_assert_uint_eq(st.entries, 2);
  cache_destroy(c);
}
END_TEST

START_TEST(unbounded_cache_never_evicts) {
  cache_t *c = make(policies[_i], 0);
  char key[16];
  for (int i = 0; i < 2000; i++) {
    int n = snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(cache_set(c, key, (size_t)n, "v", 1, 0));
  }
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 2000);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_uint_eq(st.max_entries, 0);
  cache_destroy(c);
}
END_TEST

/* ---- W-TinyLFU ------------------------------------------------------------
 */

/* Sets `n` keys never seen before ("new0", "new1", ...), each once. */
static void flood(cache_t *c, int n) {
  char key[16];
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof key, "new%d", i);
    ASSERT_OK(tu_set(c, key, "v", 0));
  }
}

static void read_n(cache_t *c, const char *key, int n) {
  for (int i = 0; i < n; i++)
    ASSERT_VALUE(c, key, key);
}

START_TEST(tinylfu_frequent_key_outlives_a_flood_of_new_keys) {
  /* The same reads under LRU lose the key: the flood is what evicts it. */
  int policy = _i == 0 ? CACHE_POLICY_TINYLFU : CACHE_POLICY_LRU;
  cache_t *c = make(policy, 64);
  ASSERT_OK(tu_set(c, "hot", "hot", 0));
  read_n(c, "hot", 10);
  flood(c, 1000);
  ASSERT_STATUS(tu_contains(c, "hot"),
                policy == CACHE_POLICY_TINYLFU ? CACHE_OK : CACHE_NOT_FOUND);
  ck_assert_uint_eq(cache_count(c), 64);
  cache_destroy(c);
}
END_TEST

START_TEST(tinylfu_key_set_again_keeps_its_count) {
  /* An entry that leaves, deleted (_i == 0) or replaced (_i == 1), hands
   * its count back to the sketch, and the key's next entry starts from it:
   * it still beats keys seen once. */
  cache_t *c = make(CACHE_POLICY_TINYLFU, 64);
  ASSERT_OK(tu_set(c, "hot", "old", 0));
  for (int i = 0; i < 10; i++)
    ASSERT_VALUE(c, "hot", "old");
  if (_i == 0)
    ASSERT_OK(tu_delete(c, "hot"));
  ASSERT_OK(tu_set(c, "hot", "hot", 0));
  flood(c, 1000);
  ASSERT_VALUE(c, "hot", "hot");
  cache_destroy(c);
}
END_TEST

START_TEST(tinylfu_new_key_loses_to_no_one_when_there_is_room) {
  /* Admission only decides between two entries when the cache is full. */
  cache_t *c = make(CACHE_POLICY_TINYLFU, 64);
  ASSERT_OK(tu_set(c, "hot", "hot", 0));
  read_n(c, "hot", 10);
  flood(c, 63);
  ck_assert_uint_eq(cache_count(c), 64);
  ck_assert_uint_eq(tu_stats(c).evictions, 0);
  ASSERT_OK(tu_contains(c, "new0"));
  ASSERT_OK(tu_contains(c, "new62"));
  cache_destroy(c);
}
END_TEST

/* One run of the case below on a fresh cache. The admissions it sets up
 * are ties between counts of 1, and a new key's count comes from the
 * sketch, where the cache's random hash seed now and then puts it on
 * counters another key raised (about 1 run in 100): false when that broke
 * a tie the other way, and the case did not come about. */
static bool probation_case(void) {
  cache_t *c = make(CACHE_POLICY_TINYLFU, 64);
  char key[16];
  /* "hot" leaves a count of 11 in the sketch for its next entry. */
  ASSERT_OK(tu_set(c, "hot", "hot", 0));
  read_n(c, "hot", 10);
  ASSERT_OK(tu_delete(c, "hot"));
  for (int i = 0; i < 64; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(tu_set(c, key, key, 0));
  }
  /* The first eviction moves k0..k62 to probation (k0 the oldest) and
   * drops k62, which ties with k0. */
  ASSERT_OK(tu_set(c, "x1", "x1", 0));
  bool as_planned = tu_contains(c, "k62") == CACHE_NOT_FOUND &&
                    tu_contains(c, "k0") == CACHE_OK;
  if (as_planned) {
    ASSERT_VALUE(c, "k0", "k0"); /* the hit in probation */
    /* Three more inserts bring "hot" from the window as the candidate;
     * k63 and x1 lose their admissions on the way (ties again). */
    ASSERT_OK(tu_set(c, "hot", "hot", 0));
    ASSERT_OK(tu_set(c, "y", "y", 0));
    ASSERT_OK(tu_set(c, "z", "z", 0));
    as_planned = tu_contains(c, "k63") == CACHE_NOT_FOUND &&
                 tu_contains(c, "x1") == CACHE_NOT_FOUND;
  }
  if (as_planned) {
    ASSERT_OK(tu_contains(c, "hot"));
    ASSERT_OK(tu_contains(c, "k0"));
    ASSERT_STATUS(tu_contains(c, "k1"), CACHE_NOT_FOUND);
    ASSERT_OK(tu_contains(c, "k2"));
    ck_assert_uint_eq(cache_count(c), 64);
  }
  cache_destroy(c);
  return as_planned;
}

START_TEST(tinylfu_probation_entry_hit_once_is_not_the_next_victim) {
  /* A hit in probation only marks the entry; the mark must promote it when
   * it comes up as the victim, so that a strong candidate evicts the next
   * entry instead. */
  int runs = 0;
  while (runs < 20 && !probation_case())
    runs++;
  ck_assert_msg(runs < 20, "20 caches in a row broke the case's ties");
}
END_TEST

static Suite *eviction_suite(void) {
  Suite *s = suite_create("eviction");

  TCase *f = tcase_create("fifo");
  tcase_add_test(f, fifo_evicts_the_oldest_insertion);
  tcase_add_test(f, fifo_evicts_the_oldest_insertion_even_if_it_was_read);
  tcase_add_test(f, fifo_keeps_the_newest_insertions);
  tcase_add_test(f, fifo_replacing_in_a_full_cache_evicts_nothing);
  suite_add_tcase(s, f);

  TCase *l = tcase_create("lru");
  tcase_add_test(l, lru_evicts_the_least_recently_used);
  tcase_add_test(l, lru_get_refreshes_an_entry);
  tcase_add_test(l, lru_contains_does_not_refresh_an_entry);
  tcase_add_test(l, lru_set_of_existing_key_refreshes_it);
  tcase_add_test(l, lru_evicts_in_recency_order);
  tcase_add_test(l, lru_miss_does_not_change_recency);
  tcase_add_test(l, lru_replacing_in_a_full_cache_evicts_nothing);
  suite_add_tcase(s, l);

  TCase *t = tcase_create("tinylfu");
  tcase_add_loop_test(t, tinylfu_frequent_key_outlives_a_flood_of_new_keys, 0,
                      2);
  tcase_add_loop_test(t, tinylfu_key_set_again_keeps_its_count, 0, 2);
  tcase_add_test(t, tinylfu_new_key_loses_to_no_one_when_there_is_room);
  tcase_add_test(t, tinylfu_probation_entry_hit_once_is_not_the_next_victim);
  suite_add_tcase(s, t);

  TCase *b = tcase_create("both");
  tcase_add_loop_test(b, max_entries_is_never_exceeded, 0, 2);
  tcase_add_loop_test(b, max_entries_of_one_keeps_only_the_last, 0, 2);
  tcase_add_loop_test(b, delete_makes_room_without_eviction, 0, 2);
  tcase_add_loop_test(b, eviction_releases_the_evicted_bytes, 0, 2);
  tcase_add_loop_test(b, unbounded_cache_never_evicts, 0, 2);
  suite_add_tcase(s, b);
  return s;
}

int main(void) { return tu_run(eviction_suite()); }
