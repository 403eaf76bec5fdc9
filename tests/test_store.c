/* The store's hash table, white box: entries are made by hand with chosen
 * hashes, so that clusters are long (distances past the 15 a slot can
 * hold), wrap around the end of the table and interleave homes, and every
 * deletion order is checked against a plain list of what must be found.
 * Linked against the static test build of the library (internal symbols). */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "store.h"

#define MAX_ENTRIES 96

static cache__mem_t mem;
static cache__store_t st;
static cache__entry_t *entries[MAX_ENTRIES];
static bool linked[MAX_ENTRIES];
static size_t n_entries;

/* A 4-byte key (the entry's index) under a hash the test chooses. */
static cache__entry_t *make(uint32_t hash) {
  ck_assert_uint_lt(n_entries, MAX_ENTRIES);
  uint32_t key = (uint32_t)n_entries;
  size_t size = cache__entry_size(sizeof key, 0, false);
  cache__entry_t *e = cache__mem_alloc(&mem, size);
  ck_assert_ptr_nonnull(e);
  ck_assert(cache__store_can_hold(e));
  memset(e, 0, sizeof *e);
  e->hash = hash;
  e->key_len = sizeof key;
  memcpy(e->data, &key, sizeof key); /* no deadline: the key comes first */
  ck_assert_int_eq(cache__store_reserve(&st, &mem), 0);
  cache__store_insert(&st, e, size);
  entries[n_entries] = e;
  linked[n_entries] = true;
  return entries[n_entries++];
}

static void unlink_at(size_t i) {
  ck_assert(linked[i]);
  cache__store_remove(&st, &mem, entries[i], cache__entry_size_of(entries[i]));
  linked[i] = false;
}

/* Every linked entry is found under its key, no other is. */
static void check_all(void) {
  uint64_t count = 0;
  for (size_t i = 0; i < n_entries; i++) {
    uint32_t key = (uint32_t)i;
    cache__entry_t *found =
        cache__store_find(&st, entries[i]->hash, &key, sizeof key);
    if (linked[i]) {
      ck_assert_msg(found == entries[i], "entry %zu lost", i);
      count++;
    } else {
      ck_assert_msg(found == NULL, "entry %zu found after removal", i);
    }
  }
  ck_assert_uint_eq(cache__store_count(&st), count);
}

static void setup(void) {
  ck_assert_int_eq(cache__mem_init(&mem), 0);
  ck_assert_int_eq(cache__store_init(&st, &mem), 0);
  n_entries = 0;
}

static void teardown(void) {
  for (size_t i = 0; i < n_entries; i++) {
    if (linked[i])
      unlink_at(i);
    cache__mem_free(&mem, entries[i], cache__entry_size_of(entries[i]));
  }
  cache__store_free(&st, &mem);
  cache__mem_destroy(&mem);
}

/* Grows the table to 64 slots with entries whose homes are 50..57 there,
 * then removes all but 8 of them (fewer would let the table shrink), so
 * that the hashes a test chooses land where it says. Returns 64. */
static size_t table_of_64(void) {
  size_t first = n_entries;
  while (st.mask + 1 < 64)
    make((50u + (uint32_t)(n_entries % 8)) | (uint32_t)n_entries << 8);
  ck_assert_uint_eq(st.mask + 1, 64);
  for (size_t i = first; cache__store_count(&st) > 8; i++)
    unlink_at(i);
  ck_assert_uint_eq(st.mask + 1, 64);
  return 64;
}

START_TEST(long_cluster_removed_in_every_order) {
  /* 40 entries with one home: distances 0..39, most of them saturated.
   * Removed from the front, the back, and alternately. */
  size_t slots = table_of_64();
  size_t first = n_entries;
  for (int i = 0; i < 40; i++)
    make((uint32_t)(slots * 7 + 3)); /* home 3 */
  check_all();
  int order = _i;
  for (int k = 0; k < 40; k++) {
    int at = order == 0   ? k
             : order == 1 ? 39 - k
                          : (k % 2 ? k / 2 : 39 - k / 2);
    unlink_at(first + (size_t)at);
    check_all();
  }
}
END_TEST

START_TEST(interleaved_homes_wrap_around) {
  /* Homes near the end of the table, so the clusters run over slot 0, and
   * each home holds several entries placed between the others'. 40 of
   * them and the 8 left by table_of_64() fill the table to the most it
   * holds before it doubles. */
  size_t slots = table_of_64();
  size_t first = n_entries;
  for (int round = 0; round < 5; round++)
    for (uint32_t home = (uint32_t)slots - 4; home != 4;
         home = (home + 1) & (uint32_t)(slots - 1))
      make(home | (uint32_t)round << 20);
  check_all();
  /* A fixed pseudo-random order, the same on every run. */
  size_t n = n_entries - first;
  uint32_t x = 12345;
  for (size_t left = n; left > 0; left--) {
    x = x * 1103515245u + 12345u;
    size_t pick = (x >> 8) % left, seen = 0;
    for (size_t i = first; i < n_entries; i++)
      if (linked[i] && seen++ == pick) {
        unlink_at(i);
        break;
      }
    check_all();
  }
  ck_assert_uint_eq(st.mask + 1, slots);
}
END_TEST

START_TEST(growth_keeps_long_clusters) {
  /* A cluster with saturated distances survives doubling: the entries are
   * placed again from their hashes. */
  size_t first = n_entries;
  for (int i = 0; i < 30; i++)
    make(5u | (uint32_t)i << 12); /* home 5 while the table is small */
  check_all();
  for (size_t i = first; i < n_entries; i += 3)
    unlink_at(i);
  check_all();
  for (int i = 0; i < 30; i++)
    make((uint32_t)i * 97u);
  check_all();
}
END_TEST

START_TEST(table_shrinks_and_keeps_what_is_left) {
  /* Fill the table (a quarter of the entries in one long cluster, whose
   * saturated distances make a shrink read their hashes), then remove
   * nine in ten: the table halves as it empties, and what is left is
   * still found after every step. */
  for (uint32_t i = 0; n_entries < MAX_ENTRIES; i++)
    make(i % 4 == 0 ? 9u | i << 16 : i * 2654435761u);
  size_t slots = st.mask + 1, smallest = slots;
  for (size_t i = 0; i < n_entries; i++) {
    if (i % 10 == 0)
      continue;
    unlink_at(i);
    check_all();
    ck_assert_uint_le(st.mask + 1, smallest);
    smallest = st.mask + 1;
  }
  ck_assert_uint_lt(st.mask + 1, slots);
  /* Still within the load the table allows. */
  ck_assert_uint_le(cache__store_count(&st) * 4, (st.mask + 1) * 3);
  /* Deletions in the smaller table shift entries by the distances the
   * shrink wrote: they must be right. */
  for (size_t i = n_entries; i-- > 0;)
    if (linked[i]) {
      unlink_at(i);
      check_all();
    }
}
END_TEST

static void unlink_entry(cache__entry_t *e, void *arg) {
  (void)arg;
  for (size_t i = 0; i < n_entries; i++)
    if (entries[i] == e) {
      unlink_at(i);
      return;
    }
  ck_abort_msg("drain passed an unknown entry");
}

START_TEST(drain_visits_every_entry_while_the_table_shrinks) {
  for (uint32_t i = 0; i < MAX_ENTRIES - 1; i++)
    make(i % 3 == 0 ? 4u | i << 16 : i * 2654435761u);
  size_t slots = st.mask + 1;
  cache__store_drain(&st, unlink_entry, NULL);
  for (size_t i = 0; i < n_entries; i++)
    ck_assert_msg(!linked[i], "entry %zu left behind", i);
  ck_assert_uint_eq(cache__store_count(&st), 0);
  ck_assert_uint_lt(st.mask + 1, slots);
}
END_TEST

static Suite *store_suite(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("table");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, long_cluster_removed_in_every_order, 0, 3);
  tcase_add_test(tc, interleaved_homes_wrap_around);
  tcase_add_test(tc, growth_keeps_long_clusters);
  tcase_add_test(tc, table_shrinks_and_keeps_what_is_left);
  tcase_add_test(tc, drain_visits_every_entry_while_the_table_shrinks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(store_suite()); }
