/* The expiry heap, white box: entries with deadlines made by hand, added
 * and removed in orders chosen to make removals move the last entry down
 * and up; after every step the heap must be in order and every entry must
 * know its place. Linked against the static test build of the library
 * (internal symbols). */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "expiry.h"

#define MAX_ENTRIES 512

static cache__mem_t mem;
static cache__expiry_t x;
static cache__entry_t *entries[MAX_ENTRIES];
static size_t n_entries;

static void setup(void) {
  ck_assert_int_eq(cache__mem_init(&mem), 0);
  cache__expiry_init(&x);
  n_entries = 0;
}

static void teardown(void) {
  for (size_t i = 0; i < n_entries; i++) {
    cache__expiry_remove(&x, &mem, entries[i]);
    cache__mem_free(&mem, entries[i], cache__entry_size_of(entries[i]));
  }
  cache__expiry_free(&x, &mem);
  cache__mem_destroy(&mem);
}

static uint32_t place_of(const cache__entry_t *e) {
  return cache__entry_deadline((cache__entry_t *)e)->heap_index;
}

/* A new entry due at `at`, added to the heap. */
static cache__entry_t *add(uint64_t at) {
  ck_assert_uint_lt(n_entries, MAX_ENTRIES);
  uint32_t key = (uint32_t)n_entries;
  size_t size = cache__entry_size(sizeof key, 0, true);
  cache__entry_t *e = cache__mem_alloc(&mem, size);
  ck_assert_ptr_nonnull(e);
  cache__entry_init(e, sizeof key, 0, true);
  *cache__entry_deadline(e) =
      (cache__deadline_t){.at = at, .heap_index = CACHE__NO_HEAP};
  memcpy((unsigned char *)cache__entry_key(e), &key, sizeof key);
  ck_assert_int_eq(cache__expiry_reserve(&x, &mem), 0);
  cache__expiry_add(&x, e);
  entries[n_entries++] = e;
  return e;
}

/* Every slot holds its entry's deadline, every entry knows its slot, and
 * no slot is due before its parent (slot i's children are 4i + 1 to
 * 4i + 4). */
static void check_heap(void) {
  for (uint32_t i = 0; i < x.len; i++) {
    const cache__entry_t *e = x.heap[i].entry;
    ck_assert_uint_eq(place_of(e), i);
    ck_assert_uint_eq(x.heap[i].at,
                      cache__entry_deadline((cache__entry_t *)e)->at);
    if (i > 0)
      ck_assert_uint_le(x.heap[(i - 1) / CACHE__HEAP_ARITY].at, x.heap[i].at);
  }
}

static void remove_entry(cache__entry_t *e) {
  cache__expiry_remove(&x, &mem, e);
  ck_assert_uint_eq(place_of(e), CACHE__NO_HEAP);
  check_heap();
}

/* Removing an entry whose replacement, the last entry, is due before the
 * removed entry's parent: the replacement must go up, past the parent. */
START_TEST(a_last_entry_due_before_the_parent_moves_up) {
  /* Slots: 0:[0] 1:[100] 2:[10] 3:[20] 4:[30], then slot 1's children
   * 5:[101] 6:[102] 7:[103] 8:[104], then slot 2's first child 9:[11]. */
  const uint64_t at[] = {0, 100, 10, 20, 30, 101, 102, 103, 104, 11};
  cache__entry_t *e[10];
  for (int i = 0; i < 10; i++)
    e[i] = add(at[i]);
  check_heap();
  ck_assert_uint_eq(place_of(e[5]), 5);
  ck_assert_uint_eq(place_of(e[9]), 9);
  remove_entry(e[5]); /* 11 takes slot 5, then its parent's, 100's */
  ck_assert_uint_eq(place_of(e[9]), 1);
  ck_assert_uint_eq(place_of(e[1]), 5);
}
END_TEST

/* Removing an entry whose replacement is due after its children: the
 * replacement must go down. */
START_TEST(a_last_entry_due_after_the_children_moves_down) {
  /* Slots: 0:[0] 1:[10] 2:[20] 3:[30] 4:[40], then slot 1's children
   * 5:[14] 6:[13] 7:[11] 8:[12], then slot 2's first child 9:[50]. */
  const uint64_t at[] = {0, 10, 20, 30, 40, 14, 13, 11, 12, 50};
  cache__entry_t *e[10];
  for (int i = 0; i < 10; i++)
    e[i] = add(at[i]);
  check_heap();
  /* 50 takes the top, then goes down past the earliest child at each
   * level: 10 (slot 1), then 11 (slot 7), the third of slot 1's four. */
  remove_entry(e[0]);
  ck_assert_uint_eq(x.heap[0].at, 10);
  ck_assert_uint_eq(place_of(e[1]), 0);
  ck_assert_uint_eq(place_of(e[7]), 1);
  ck_assert_uint_eq(place_of(e[9]), 7);
}
END_TEST

/* Random removals, then the rest taken from the top: with deadlines in
 * insertion order (one TTL for all, _i == 0), in random order with many
 * ties (_i == 1), and in falling order (_i == 2). The top is always the
 * earliest deadline left. */
START_TEST(removals_in_any_order_keep_the_heap_in_order) {
  uint32_t state = 42 + (uint32_t)_i;
  for (uint32_t i = 0; i < 400; i++) {
    uint64_t at = _i == 0   ? 1000 + i / 3
                  : _i == 1 ? tu_rand(&state) % 200
                            : 10000 - i;
    add(at);
  }
  check_heap();
  for (int k = 0; k < 250; k++) {
    cache__entry_t *e = entries[tu_rand(&state) % n_entries];
    if (place_of(e) != CACHE__NO_HEAP)
      remove_entry(e);
  }
  uint64_t previous = 0;
  while (x.len > 0) {
    cache__entry_t *first = cache__expiry_first(&x);
    uint64_t at = cache__entry_deadline(first)->at;
    ck_assert_uint_ge(at, previous);
    previous = at;
    remove_entry(first);
  }
  ck_assert_ptr_null(cache__expiry_first(&x));
}
END_TEST

/* An entry that never expires is not in the heap; removing it, or an
 * entry already removed, changes nothing. */
START_TEST(entries_outside_the_heap_are_left_alone) {
  add(5);
  cache__entry_t *gone = add(7);
  remove_entry(gone);
  remove_entry(gone);
  size_t size = cache__entry_size(4, 0, false);
  cache__entry_t *never = cache__mem_alloc(&mem, size);
  ck_assert_ptr_nonnull(never);
  cache__entry_init(never, 4, 0, false);
  memset((unsigned char *)cache__entry_key(never), 'k', 4);
  cache__expiry_add(&x, never);
  ck_assert_uint_eq(x.len, 1);
  cache__expiry_remove(&x, &mem, never);
  ck_assert_uint_eq(x.len, 1);
  check_heap();
  cache__mem_free(&mem, never, size);
}
END_TEST

static Suite *expiry_suite(void) {
  Suite *s = suite_create("expiry");
  TCase *tc = tcase_create("heap");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, a_last_entry_due_before_the_parent_moves_up);
  tcase_add_test(tc, a_last_entry_due_after_the_children_moves_down);
  tcase_add_loop_test(tc, removals_in_any_order_keep_the_heap_in_order, 0, 3);
  tcase_add_test(tc, entries_outside_the_heap_are_left_alone);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(expiry_suite()); }
