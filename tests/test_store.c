/* The store's hash table, white box: entries are made by hand with keys
 * chosen for their hashes' homes, so that clusters are long (distances past
 * 15, and past the 255 a slot can hold), wrap around the end of the table
 * and interleave homes, and every deletion order is checked against a
 * plain list of what must be found. Linked against the static test build
 * of the library (internal symbols). */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "hash.h"
#include "store.h"

#define MAX_ENTRIES 640
#define FILL 96 /* entries of the tests that fill the table */

static cache__mem_t mem;
static cache__store_t st;
static cache__entry_t *entries[MAX_ENTRIES];
static bool linked[MAX_ENTRIES];
static uint32_t hashes[MAX_ENTRIES];
static size_t n_entries;

#define SEED UINT64_C(0x5eed)

/* An entry's key: its index, and a number tried until the hash suits. */
typedef struct key {
  uint32_t index, nonce;
} key_t_;

static uint32_t hash_of(const key_t_ *k) {
  return (uint32_t)cache__hash(k, sizeof *k, SEED);
}

/* Links in a new entry whose home in a table of n slots is `home`; any
 * home if n is 0. */
static cache__entry_t *make_at(size_t n, size_t home) {
  ck_assert_uint_lt(n_entries, MAX_ENTRIES);
  key_t_ key = {(uint32_t)n_entries, 0};
  while (n != 0 && cache__store_home(n, hash_of(&key)) != home)
    key.nonce++;
  size_t size = cache__entry_size(sizeof key, 0, false);
  cache__entry_t *e = cache__mem_alloc(&mem, size);
  ck_assert_ptr_nonnull(e);
  ck_assert(cache__store_can_hold(e));
  cache__entry_init(e, sizeof key, 0, false);
  memcpy((unsigned char *)cache__entry_key(e), &key, sizeof key);
  ck_assert_uint_eq(cache__store_hash(&st, e), hash_of(&key));
  ck_assert_int_eq(cache__store_reserve(&st, &mem), 0);
  cache__store_insert(&st, e, hash_of(&key), size);
  hashes[n_entries] = hash_of(&key);
  entries[n_entries] = e;
  linked[n_entries] = true;
  return entries[n_entries++];
}

static cache__entry_t *make_any(void) { return make_at(0, 0); }

static void unlink_at(size_t i) {
  ck_assert(linked[i]);
  cache__store_remove(&st, &mem, entries[i], hashes[i],
                      cache__entry_size_of(entries[i]));
  linked[i] = false;
}

/* Every linked entry is found under its key, no other is. */
static void check_all(void) {
  uint64_t count = 0;
  for (size_t i = 0; i < n_entries; i++) {
    const unsigned char *key = cache__entry_key(entries[i]);
    cache__entry_t *found = cache__store_find(&st, hashes[i], key, 8);
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
  ck_assert_int_eq(cache__store_init(&st, &mem, 0, SEED), 0);
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

/* Grows the table to n slots with entries whose homes are 8 slots from
 * 14 before its end, then removes all but n / 8 of them (fewer would let
 * the table shrink), so that the hashes a test chooses land where it
 * says. Returns n. */
static size_t table_of(size_t n) {
  size_t first = n_entries;
  while (st.size < n)
    make_at(n, n - 14 + n_entries % 8);
  ck_assert_uint_eq(st.size, n);
  for (size_t i = first; cache__store_count(&st) > n / 8; i++)
    unlink_at(i);
  ck_assert_uint_eq(st.size, n);
  return n;
}

/* Links n entries with one home (slot 3) into a table of `slots`, then
 * removes them from the front (order 0), the back (1), or alternately
 * (2), checking every entry after each `every` removals and at the end. */
static void cluster_removed(size_t slots, int n, int order, int every) {
  size_t first = n_entries;
  for (int i = 0; i < n; i++)
    make_at(slots, 3);
  check_all();
  for (int k = 0; k < n; k++) {
    int at = order == 0   ? k
             : order == 1 ? n - 1 - k
                          : (k % 2 ? k / 2 : n - 1 - k / 2);
    unlink_at(first + (size_t)at);
    if ((k + 1) % every == 0)
      check_all();
  }
  check_all();
  ck_assert_uint_eq(st.size, slots);
}

START_TEST(long_cluster_removed_in_every_order) {
  /* Distances 0..39, in both halves of the distance bits. */
  cluster_removed(table_of(64), 40, _i, 1);
}
END_TEST

START_TEST(a_cluster_longer_than_the_distance_field) {
  /* Distances 0..299, of which those from 255 on are stored as 255 and
   * worked out from the entry's hash, by lookups and by the moves of
   * deletions. */
  cluster_removed(table_of(512), 300, _i, 10);
}
END_TEST

START_TEST(interleaved_homes_wrap_around) {
  /* Homes near the end of the table, so the clusters run over slot 0, and
   * each home holds several entries placed between the others'. 40 of
   * them and the 8 left by table_of(64) fill the table to the most it
   * holds before it doubles. */
  size_t slots = table_of(64);
  size_t first = n_entries;
  for (int round = 0; round < 5; round++)
    for (size_t home = slots - 4; home != 4; home = (home + 1) % slots)
      make_at(slots, home);
  check_all();
  /* A fixed pseudo-random order, the same on every run. */
  size_t n = n_entries - first;
  uint32_t x = 12345;
  for (size_t left = n; left > 0; left--) {
    size_t pick = tu_rand(&x) % left, seen = 0;
    for (size_t i = first; i < n_entries; i++)
      if (linked[i] && seen++ == pick) {
        unlink_at(i);
        break;
      }
    check_all();
  }
  ck_assert_uint_eq(st.size, slots);
}
END_TEST

START_TEST(growth_keeps_long_clusters) {
  /* A long cluster survives doubling: the entries are placed again from
   * their hashes. */
  size_t first = n_entries;
  for (int i = 0; i < 30; i++)
    make_at(16, 5); /* one cluster while the table is small */
  check_all();
  for (size_t i = first; i < n_entries; i += 3)
    unlink_at(i);
  check_all();
  for (int i = 0; i < 30; i++)
    make_any();
  check_all();
}
END_TEST

START_TEST(table_shrinks_and_keeps_what_is_left) {
  /* Fill the table (a quarter of the entries in one long cluster), then
   * remove nine in ten: the table halves as it empties, and what is left
   * is still found after every step. */
  for (uint32_t i = 0; n_entries < FILL; i++) {
    if (i % 4 == 0)
      make_at(16, 9);
    else
      make_any();
  }
  size_t slots = st.size, smallest = slots;
  for (size_t i = 0; i < n_entries; i++) {
    if (i % 10 == 0)
      continue;
    unlink_at(i);
    check_all();
    ck_assert_uint_le(st.size, smallest);
    smallest = st.size;
  }
  ck_assert_uint_lt(st.size, slots);
  /* Still within the load the table allows. */
  ck_assert_uint_le(cache__store_count(&st) * 4, st.size * 3);
  /* Deletions in the smaller table shift entries by the distances the
   * shrink wrote: they must be right. */
  for (size_t i = n_entries; i-- > 0;)
    if (linked[i]) {
      unlink_at(i);
      check_all();
    }
}
END_TEST

START_TEST(table_grows_to_fit_its_capacity) {
  /* Capacity 40: 42 entries (1/32 and one more for uneven shards) at 4/5
   * load need 53 slots, where doubling would give 64. Half of them have
   * homes at the end of those 53, so clusters wrap round an odd size. */
  cache__store_free(&st, &mem);
  ck_assert_int_eq(cache__store_init(&st, &mem, 40, SEED), 0);
  while (n_entries < 42) {
    if (n_entries % 2)
      make_at(53, 50 + n_entries % 3);
    else
      make_any();
  }
  ck_assert_uint_eq(st.size, 53);
  check_all();
  /* One past what was expected: the table doubles as before. */
  make_at(53, 52);
  ck_assert_uint_eq(st.size, 106);
  check_all();
  for (size_t i = 0; i < n_entries; i += 2)
    unlink_at(i);
  check_all();
  for (size_t i = 1; i < n_entries; i += 2)
    unlink_at(i);
  check_all();
  ck_assert_uint_lt(st.size, 53);
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
  for (uint32_t i = 0; i < FILL - 1; i++) {
    if (i % 3 == 0)
      make_at(16, 4);
    else
      make_any();
  }
  size_t slots = st.size;
  cache__store_drain(&st, unlink_entry, NULL);
  for (size_t i = 0; i < n_entries; i++)
    ck_assert_msg(!linked[i], "entry %zu left behind", i);
  ck_assert_uint_eq(cache__store_count(&st), 0);
  ck_assert_uint_lt(st.size, slots);
}
END_TEST

START_TEST(homes_do_not_depend_on_the_tag) {
  /* Up to 2^20 slots, two hashes that differ only in the tag's bits have
   * one home: keys that share a cluster do not share tags any more often
   * than others. */
  uint32_t x = 99;
  for (int k = 0; k < 1000; k++) {
    uint32_t h = tu_rand(&x) << 8 ^ tu_rand(&x);
    uint32_t other = h ^ (tu_rand(&x) << (32 - CACHE__STORE_TAG_BITS));
    for (size_t n = 16; n <= (size_t)1 << 20; n *= 4)
      ck_assert_uint_eq(cache__store_home(n, h), cache__store_home(n, other));
  }
}
END_TEST

START_TEST(a_miss_is_confirmed_only_when_no_entry_moved) {
  size_t slots = table_of(64);
  make_at(slots, 3);
  make_at(slots, 3);
  make_at(slots, 3);
  key_t_ absent = {9999, 0};
  uint32_t h = hash_of(&absent);
  ck_assert(cache__store_absent_shared(&st, h, &absent, sizeof absent));
  /* A present key is not absent, whatever the count of moves. */
  ck_assert(!cache__store_absent_shared(
      &st, hashes[n_entries - 1], cache__entry_key(entries[n_entries - 1]),
      sizeof absent));
  /* A deletion that shifts the other two back counts as one move: the
   * count is odd during it and two more after. */
  uint64_t before = atomic_load(&st.moves);
  ck_assert_uint_eq(before % 2, 0);
  unlink_at(n_entries - 3);
  ck_assert_uint_eq(atomic_load(&st.moves), before + 2);
  /* While a deletion is under way, no miss is confirmed. */
  atomic_store(&st.moves, before + 3);
  ck_assert(!cache__store_absent_shared(&st, h, &absent, sizeof absent));
  atomic_store(&st.moves, before + 4);
  ck_assert(cache__store_absent_shared(&st, h, &absent, sizeof absent));
  check_all();
}
END_TEST

START_TEST(a_hold_covers_the_deletions_inside_it) {
  size_t slots = table_of(64);
  make_at(slots, 3);
  make_at(slots, 3);
  key_t_ absent = {9999, 0};
  uint32_t h = hash_of(&absent);
  uint64_t before = atomic_load(&st.moves);
  cache__store_hold(&st);
  ck_assert_uint_eq(atomic_load(&st.moves), before + 1);
  ck_assert(!cache__store_absent_shared(&st, h, &absent, sizeof absent));
  /* A deletion inside the hold leaves the count odd... */
  unlink_at(n_entries - 2);
  ck_assert_uint_eq(atomic_load(&st.moves), before + 1);
  ck_assert(!cache__store_absent_shared(&st, h, &absent, sizeof absent));
  /* ...and the release ends the one change. */
  cache__store_release(&st);
  ck_assert_uint_eq(atomic_load(&st.moves), before + 2);
  ck_assert(cache__store_absent_shared(&st, h, &absent, sizeof absent));
  check_all();
}
END_TEST

static Suite *store_suite(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("table");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, long_cluster_removed_in_every_order, 0, 3);
  tcase_add_loop_test(tc, a_cluster_longer_than_the_distance_field, 0, 3);
  tcase_add_test(tc, interleaved_homes_wrap_around);
  tcase_add_test(tc, growth_keeps_long_clusters);
  tcase_add_test(tc, table_shrinks_and_keeps_what_is_left);
  tcase_add_test(tc, drain_visits_every_entry_while_the_table_shrinks);
  tcase_add_test(tc, table_grows_to_fit_its_capacity);
  tcase_add_test(tc, homes_do_not_depend_on_the_tag);
  tcase_add_test(tc, a_miss_is_confirmed_only_when_no_entry_moved);
  tcase_add_test(tc, a_hold_covers_the_deletions_inside_it);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(store_suite()); }
