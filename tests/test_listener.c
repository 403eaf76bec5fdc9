/* The removal listener (options.on_remove): which reason each path reports,
 * what the listener is given, and that it runs after the entry has left
 * and outside every lock, so it may call back into the same cache.
 *
 * Caches of at most 127 entries have a single shard, so their eviction
 * order is exact; the tests that depend on that order use such caches. */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

/* ---- a listener that records what it is given --------------------------- */

#define MAX_EVENTS 64
#define EVENT_TEXT 32

typedef struct event {
  char key[EVENT_TEXT];
  size_t key_len;
  char value[EVENT_TEXT];
  size_t value_len;
  int reason;
} event_t;

typedef struct recorder {
  event_t events[MAX_EVENTS];
  int n;
  int overflow;
  void *ctx_seen; /* the ctx of the last call */
  /* Optional hook, called after the event is recorded (not under any
   * lock of the test's). */
  void (*hook)(struct recorder *r, const event_t *ev);
  cache_t *cache; /* the cache the hook works on */
  int hook_status[8];
  int hook_calls;
} recorder_t;

static recorder_t rec;
static test_clock_t clk;

static void copy_text(char *dst, const void *src, size_t len) {
  if (len >= EVENT_TEXT)
    len = EVENT_TEXT - 1;
  if (len > 0)
    memcpy(dst, src, len);
  dst[len] = '\0';
}

static void on_remove(const void *key, size_t key_len, const void *value,
                      size_t value_len, int reason, void *ctx) {
  recorder_t *r = ctx;
  r->ctx_seen = ctx;
  if (r->n >= MAX_EVENTS) {
    r->overflow++;
    return;
  }
  event_t *ev = &r->events[r->n++];
  copy_text(ev->key, key, key_len);
  ev->key_len = key_len;
  copy_text(ev->value, value, value_len);
  ev->value_len = value_len;
  ev->reason = reason;
  if (r->hook != NULL)
    r->hook(r, ev);
}

static void setup(void) {
  memset(&rec, 0, sizeof rec);
  clk.now_ms = 1000;
}

/* A cache with the test clock and the recording listener; max_entries 0 =
 * unbounded (16 shards), otherwise at most 127 for one shard. */
static cache_t *make(int policy, uint64_t max_entries, uint64_t max_bytes) {
  cache_options_t o;
  cache_options_init(&o);
  o.policy = policy;
  o.max_entries = max_entries;
  o.max_bytes = max_bytes;
  o.clock_ms = test_clock_now;
  o.clock_ctx = &clk;
  o.on_remove = on_remove;
  o.on_remove_ctx = &rec;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  rec.cache = c;
  return c;
}

static int count_reason(int reason) {
  int n = 0;
  for (int i = 0; i < rec.n; i++)
    n += rec.events[i].reason == reason;
  return n;
}

/* The recorded event for key, or NULL; fails the test if there are two. */
static const event_t *event_of(const char *key) {
  const event_t *found = NULL;
  for (int i = 0; i < rec.n; i++) {
    if (strcmp(rec.events[i].key, key) == 0) {
      ck_assert_msg(found == NULL, "listener called twice for %s", key);
      found = &rec.events[i];
    }
  }
  return found;
}

#define ASSERT_EVENT(key, reason_, value_)                                     \
  do {                                                                         \
    const event_t *ev_ = event_of(key);                                        \
    ck_assert_msg(ev_ != NULL, "listener not called for %s", (key));           \
    ck_assert_msg(ev_->reason == (reason_), "%s: reason %s, expected %s",      \
                  (key), cache_removal_name(ev_->reason),                      \
                  cache_removal_name(reason_));                                \
    ck_assert_str_eq(ev_->value, (value_));                                    \
    ck_assert_uint_eq(ev_->value_len, strlen(value_));                         \
  } while (0)

/* ---- names -------------------------------------------------------------- */

START_TEST(removal_names_are_the_documented_words) {
  ck_assert_str_eq(cache_removal_name(CACHE_REMOVED_EXPIRED), "expired");
  ck_assert_str_eq(cache_removal_name(CACHE_REMOVED_EVICTED), "evicted");
  ck_assert_str_eq(cache_removal_name(CACHE_REMOVED_MEMORY), "memory");
  ck_assert_str_eq(cache_removal_name(CACHE_REMOVED_DELETED), "deleted");
  ck_assert_str_eq(cache_removal_name(CACHE_REMOVED_REPLACED), "replaced");
  ck_assert_str_eq(cache_removal_name(CACHE_REMOVED_CLEARED), "cleared");
}
END_TEST

START_TEST(unknown_removal_reason_has_no_name) {
  ck_assert_ptr_null(cache_removal_name(0));
  ck_assert_ptr_null(cache_removal_name(7));
  ck_assert_ptr_null(cache_removal_name(-1));
}
END_TEST

/* ---- delete and replace ------------------------------------------------- */

START_TEST(delete_reports_deleted_with_key_and_value) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "k", "value", 0));
  ck_assert_int_eq(rec.n, 0);
  ASSERT_OK(tu_delete(c, "k"));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("k", CACHE_REMOVED_DELETED, "value");
  ck_assert_ptr_eq(rec.ctx_seen, &rec);
  cache_destroy(c);
}
END_TEST

/* A key over 64 bytes or a value over 65,535 keeps its lengths in a block
 * of its own (entry.h): the listener gets them whole, deadline or not. */
START_TEST(long_keys_and_values_are_reported_whole) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  char key[100];
  size_t big = 70000;
  char *value = malloc(big);
  ck_assert_ptr_nonnull(value);
  memset(value, 'v', big);
  memset(key, 'k', sizeof key);
  key[0] = 'a';
  ASSERT_OK(cache_set(c, key, 65, value, 3, 0));
  key[0] = 'b';
  ASSERT_OK(cache_set(c, key, 10, value, big, 5000));
  key[0] = 'c';
  ASSERT_OK(cache_set(c, key, 100, value, big, 0));
  clk.now_ms += 5000; /* "b..." expires */
  key[0] = 'a';
  ASSERT_OK(cache_delete(c, key, 65));
  key[0] = 'b';
  ASSERT_STATUS(cache_contains(c, key, 10), CACHE_NOT_FOUND);
  cache_destroy(c);
  ck_assert_int_eq(rec.n, 3);
  static const size_t key_lens[] = {65, 10, 100};
  static const int reasons[] = {CACHE_REMOVED_DELETED, CACHE_REMOVED_EXPIRED,
                                CACHE_REMOVED_CLEARED};
  for (int i = 0; i < 3; i++) {
    ck_assert_uint_eq(rec.events[i].key_len, key_lens[i]);
    ck_assert_uint_eq(rec.events[i].value_len, i == 0 ? 3 : big);
    ck_assert_int_eq(rec.events[i].reason, reasons[i]);
    ck_assert_int_eq(rec.events[i].key[0], "abc"[i]);
  }
  free(value);
}
END_TEST

START_TEST(delete_of_a_missing_key_calls_nothing) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_STATUS(tu_delete(c, "b"), CACHE_NOT_FOUND);
  ck_assert_int_eq(rec.n, 0);
  cache_destroy(c);
  ck_assert_int_eq(rec.n, 1); /* "a", cleared by the destroy */
}
END_TEST

START_TEST(set_of_a_new_key_calls_nothing) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ck_assert_int_eq(rec.n, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(set_of_a_live_key_reports_replaced_with_the_old_value) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "k", "old", 0));
  ASSERT_OK(tu_set(c, "k", "new", 0));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("k", CACHE_REMOVED_REPLACED, "old");
  ASSERT_VALUE(c, "k", "new");
  cache_destroy(c);
}
END_TEST

START_TEST(replacing_in_a_full_cache_reports_only_replaced) {
  cache_t *c = make(CACHE_POLICY_FIFO, 2, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "a", "3", 0));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("a", CACHE_REMOVED_REPLACED, "1");
  ck_assert_uint_eq(tu_stats(c).evictions, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(empty_value_is_reported_with_length_zero) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(cache_set(c, "k", 1, NULL, 0, 0));
  ASSERT_OK(tu_delete(c, "k"));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("k", CACHE_REMOVED_DELETED, "");
  cache_destroy(c);
}
END_TEST

START_TEST(failed_set_calls_nothing) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 256);
  ASSERT_OK(tu_set(c, "k", "small", 0));
  char big[512];
  memset(big, 'x', sizeof big);
  ASSERT_STATUS(cache_set(c, "k", 1, big, sizeof big, 0), CACHE_ETOOBIG);
  ASSERT_STATUS(cache_set(c, "", 0, "v", 1, 0), CACHE_EINVAL);
  ck_assert_int_eq(rec.n, 0);
  ASSERT_VALUE(c, "k", "small");
  cache_destroy(c);
}
END_TEST

/* ---- expiry ------------------------------------------------------------- */

START_TEST(get_of_an_expired_entry_reports_expired) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "k", "v", 10));
  clk.now_ms += 10;
  ASSERT_MISSING(c, "k");
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("k", CACHE_REMOVED_EXPIRED, "v");
  ck_assert_uint_eq(tu_stats(c).expirations, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(contains_of_an_expired_entry_reports_expired) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "k", "v", 10));
  clk.now_ms += 11;
  ASSERT_STATUS(tu_contains(c, "k"), CACHE_NOT_FOUND);
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("k", CACHE_REMOVED_EXPIRED, "v");
  cache_destroy(c);
}
END_TEST

START_TEST(delete_of_an_expired_entry_reports_expired_not_deleted) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "k", "v", 10));
  clk.now_ms += 10;
  ASSERT_STATUS(tu_delete(c, "k"), CACHE_NOT_FOUND);
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("k", CACHE_REMOVED_EXPIRED, "v");
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.deletes, 0);
  ck_assert_uint_eq(st.expirations, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(set_over_an_expired_entry_reports_expired_not_replaced) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "k", "old", 10));
  clk.now_ms += 10;
  ASSERT_OK(tu_set(c, "k", "new", 0));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("k", CACHE_REMOVED_EXPIRED, "old");
  ASSERT_VALUE(c, "k", "new");
  ck_assert_uint_eq(tu_stats(c).expirations, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(live_entry_is_not_reported_before_its_deadline) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "k", "v", 10));
  clk.now_ms += 9;
  ASSERT_VALUE(c, "k", "v");
  ASSERT_OK(cache_cleanup(c, NULL));
  ck_assert_int_eq(rec.n, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(cleanup_reports_each_expired_entry) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 10));
  ASSERT_OK(tu_set(c, "b", "2", 20));
  ASSERT_OK(tu_set(c, "c", "3", 30));
  ASSERT_OK(tu_set(c, "keep", "4", CACHE_TTL_NEVER));
  clk.now_ms += 20;
  uint64_t removed = 0;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 2);
  ck_assert_int_eq(rec.n, 2);
  ASSERT_EVENT("a", CACHE_REMOVED_EXPIRED, "1");
  ASSERT_EVENT("b", CACHE_REMOVED_EXPIRED, "2");
  ck_assert_ptr_null(event_of("c"));
  ck_assert_uint_eq(cache_count(c), 2);
  cache_destroy(c);
}
END_TEST

/* ---- eviction ----------------------------------------------------------- */

START_TEST(eviction_reports_evicted_for_the_victim) {
  cache_t *c = make(CACHE_POLICY_FIFO, 2, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("a", CACHE_REMOVED_EVICTED, "1");
  ck_assert_uint_eq(tu_stats(c).evictions, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(lru_eviction_reports_the_least_recently_used) {
  cache_t *c = make(CACHE_POLICY_LRU, 3, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  ASSERT_VALUE(c, "a", "1");
  ASSERT_OK(tu_set(c, "d", "4", 0));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("b", CACHE_REMOVED_EVICTED, "2");
  cache_destroy(c);
}
END_TEST

START_TEST(expired_victim_is_reported_as_expired) {
  cache_t *c = make(CACHE_POLICY_FIFO, 2, 0);
  ASSERT_OK(tu_set(c, "a", "1", 10));
  ASSERT_OK(tu_set(c, "b", "2", CACHE_TTL_NEVER));
  clk.now_ms += 10;
  ASSERT_OK(tu_set(c, "c", "3", 0));
  ck_assert_int_eq(rec.n, 1);
  ASSERT_EVENT("a", CACHE_REMOVED_EXPIRED, "1");
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_uint_eq(st.expirations, 1);
  ASSERT_VALUE(c, "b", "2");
  ASSERT_VALUE(c, "c", "3");
  cache_destroy(c);
}
END_TEST

START_TEST(eviction_for_max_bytes_reports_evicted) {
  /* Measure one entry, then allow two and a half of them (the allocator
   * may size a block a little differently from one entry to the next). */
  cache_t *probe = make(CACHE_POLICY_FIFO, 0, 0);
  ASSERT_OK(tu_set(probe, "a", "0123456789", 0));
  uint64_t one = tu_stats(probe).bytes;
  cache_destroy(probe);
  memset(&rec, 0, sizeof rec);

  cache_t *c = make(CACHE_POLICY_FIFO, 0, one * 5 / 2);
  ASSERT_OK(tu_set(c, "a", "0123456789", 0));
  ASSERT_OK(tu_set(c, "b", "0123456789", 0));
  ck_assert_int_eq(rec.n, 0);
  ASSERT_OK(tu_set(c, "c", "0123456789", 0));
  ck_assert_int_ge(rec.n, 1);
  ASSERT_EVENT("a", CACHE_REMOVED_EVICTED, "0123456789");
  for (int i = 0; i < rec.n; i++)
    ck_assert_int_eq(rec.events[i].reason, CACHE_REMOVED_EVICTED);
  ck_assert_uint_eq(tu_stats(c).evictions, (uint64_t)rec.n);
  ck_assert_uint_le(tu_stats(c).bytes, one * 5 / 2);
  ASSERT_VALUE(c, "c", "0123456789");
  cache_destroy(c);
}
END_TEST

/* ---- clear, close, destroy ---------------------------------------------- */

START_TEST(clear_reports_cleared_for_every_entry) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  ASSERT_OK(cache_clear(c));
  ck_assert_int_eq(rec.n, 3);
  ASSERT_EVENT("a", CACHE_REMOVED_CLEARED, "1");
  ASSERT_EVENT("b", CACHE_REMOVED_CLEARED, "2");
  ASSERT_EVENT("c", CACHE_REMOVED_CLEARED, "3");
  ASSERT_OK(cache_clear(c));
  ck_assert_int_eq(rec.n, 3);
  cache_destroy(c);
  ck_assert_int_eq(rec.n, 3);
}
END_TEST

START_TEST(close_reports_cleared_once) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(cache_close(c));
  ck_assert_int_eq(rec.n, 2);
  ASSERT_EVENT("a", CACHE_REMOVED_CLEARED, "1");
  ASSERT_EVENT("b", CACHE_REMOVED_CLEARED, "2");
  ASSERT_STATUS(cache_close(c), CACHE_ECLOSED);
  cache_destroy(c);
  ck_assert_int_eq(rec.n, 2);
}
END_TEST

START_TEST(destroy_of_an_open_cache_reports_cleared) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  cache_destroy(c);
  ck_assert_int_eq(rec.n, 2);
  ASSERT_EVENT("a", CACHE_REMOVED_CLEARED, "1");
  ASSERT_EVENT("b", CACHE_REMOVED_CLEARED, "2");
}
END_TEST

START_TEST(destroy_of_an_empty_cache_calls_nothing) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  cache_destroy(c);
  ck_assert_int_eq(rec.n, 0);
}
END_TEST

START_TEST(expired_entries_left_at_clear_are_reported_as_cleared) {
  /* Not looked at again: clear removes what is held, whatever its state. */
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 10));
  clk.now_ms += 100;
  ASSERT_OK(cache_clear(c));
  ck_assert_int_eq(rec.n, 1);
  ck_assert_int_eq(rec.events[0].reason, CACHE_REMOVED_CLEARED);
  cache_destroy(c);
}
END_TEST

/* ---- the listener runs after the entry left, outside every lock --------- */

static void hook_check_gone(recorder_t *r, const event_t *ev) {
  if (r->hook_calls < 8) {
    r->hook_status[r->hook_calls] =
        cache_contains(r->cache, ev->key, strlen(ev->key));
  }
  r->hook_calls++;
}

START_TEST(listener_runs_after_the_entry_left) {
  cache_t *c = make(CACHE_POLICY_LRU, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  rec.hook = hook_check_gone;
  ASSERT_OK(tu_delete(c, "a"));
  ck_assert_int_eq(rec.hook_calls, 1);
  ASSERT_STATUS(rec.hook_status[0], CACHE_NOT_FOUND);
  ASSERT_OK(tu_set(c, "b", "3", 0)); /* replaced: the old one is gone... */
  ck_assert_int_eq(rec.hook_calls, 2);
  ASSERT_OK(rec.hook_status[1]); /* ...and the new one is already there */
  cache_destroy(c);
}
END_TEST

static void hook_move(recorder_t *r, const event_t *ev) {
  if (ev->reason != CACHE_REMOVED_DELETED)
    return;
  char key[EVENT_TEXT + 8];
  snprintf(key, sizeof key, "moved-%s", ev->key);
  r->hook_status[0] = tu_set(r->cache, key, ev->value, 0);
  r->hook_calls++;
}

START_TEST(listener_may_set_in_the_same_cache) {
  cache_t *c = make(CACHE_POLICY_LRU, 10, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  rec.hook = hook_move;
  ASSERT_OK(tu_delete(c, "a"));
  ck_assert_int_eq(rec.hook_calls, 1);
  ASSERT_OK(rec.hook_status[0]);
  ASSERT_MISSING(c, "a");
  ASSERT_VALUE(c, "moved-a", "1");
  ck_assert_uint_eq(cache_count(c), 1);
  cache_destroy(c);
}
END_TEST

static void hook_cascade(recorder_t *r, const event_t *ev) {
  if (strcmp(ev->key, "parent") != 0)
    return;
  char buf[16];
  size_t len = 0;
  r->hook_status[0] = tu_get(r->cache, "child", buf, sizeof buf, &len);
  r->hook_status[1] = tu_delete(r->cache, "child"); /* calls us again */
  r->hook_calls++;
}

START_TEST(listener_may_get_and_delete_in_the_same_cache) {
  cache_t *c = make(CACHE_POLICY_LRU, 10, 0);
  ASSERT_OK(tu_set(c, "parent", "p", 0));
  ASSERT_OK(tu_set(c, "child", "c", 0));
  ASSERT_OK(tu_set(c, "other", "o", 0));
  rec.hook = hook_cascade;
  ASSERT_OK(tu_delete(c, "parent"));
  ck_assert_int_eq(rec.hook_calls, 1);
  ASSERT_OK(rec.hook_status[0]);
  ASSERT_OK(rec.hook_status[1]);
  ck_assert_int_eq(rec.n, 2);
  ASSERT_EVENT("parent", CACHE_REMOVED_DELETED, "p");
  ASSERT_EVENT("child", CACHE_REMOVED_DELETED, "c");
  ck_assert_uint_eq(cache_count(c), 1);
  ck_assert_uint_eq(tu_stats(c).deletes, 2);
  cache_destroy(c);
}
END_TEST

static void hook_reinsert_evicted(recorder_t *r, const event_t *ev) {
  if (ev->reason != CACHE_REMOVED_EVICTED || strcmp(ev->key, "a") != 0)
    return;
  /* The cache is full again: this set evicts the next victim. */
  r->hook_status[0] = tu_set(r->cache, "a", ev->value, 0);
  r->hook_calls++;
}

START_TEST(listener_may_set_during_an_eviction) {
  cache_t *c = make(CACHE_POLICY_FIFO, 3, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  rec.hook = hook_reinsert_evicted;
  ASSERT_OK(tu_set(c, "d", "4", 0)); /* evicts a, which evicts b */
  ck_assert_int_eq(rec.hook_calls, 1);
  ASSERT_OK(rec.hook_status[0]);
  ck_assert_int_eq(rec.n, 2);
  ASSERT_EVENT("a", CACHE_REMOVED_EVICTED, "1");
  ASSERT_EVENT("b", CACHE_REMOVED_EVICTED, "2");
  ck_assert_uint_eq(cache_count(c), 3);
  ASSERT_VALUE(c, "c", "3");
  ASSERT_VALUE(c, "d", "4");
  ASSERT_VALUE(c, "a", "1");
  cache_destroy(c);
}
END_TEST

static void hook_survivor(recorder_t *r, const event_t *ev) {
  if (ev->reason != CACHE_REMOVED_CLEARED)
    return;
  r->hook_status[0] = tu_set(r->cache, "survivor", ev->key, 0);
  r->hook_calls++;
}

START_TEST(listener_may_set_during_a_clear) {
  /* One shard: the entry set from the listener lands behind the sweep. */
  cache_t *c = make(CACHE_POLICY_LRU, 10, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  rec.hook = hook_survivor;
  ASSERT_OK(cache_clear(c));
  ck_assert_int_eq(rec.hook_calls, 2);
  ASSERT_OK(rec.hook_status[0]);
  ck_assert_uint_eq(cache_count(c), 1);
  ASSERT_OK(tu_contains(c, "survivor"));
  /* The second call replaced the first survivor. */
  ck_assert_int_eq(count_reason(CACHE_REMOVED_REPLACED), 1);
  rec.hook = NULL;
  cache_destroy(c);
}
END_TEST

static void hook_use_closed(recorder_t *r, const event_t *ev) {
  char buf[16];
  size_t len = 0;
  (void)ev;
  r->hook_status[0] = tu_get(r->cache, "b", buf, sizeof buf, &len);
  r->hook_status[1] = tu_set(r->cache, "new", "x", 0);
  r->hook_calls++;
}

START_TEST(listener_called_by_close_sees_a_closed_cache) {
  cache_t *c = make(CACHE_POLICY_LRU, 10, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  rec.hook = hook_use_closed;
  ASSERT_OK(cache_close(c));
  ck_assert_int_eq(rec.hook_calls, 1);
  ASSERT_STATUS(rec.hook_status[0], CACHE_ECLOSED);
  ASSERT_STATUS(rec.hook_status[1], CACHE_ECLOSED);
  cache_destroy(c);
  ck_assert_int_eq(rec.n, 1);
}
END_TEST

/* ---- the listener and the counters agree -------------------------------- */

START_TEST(listener_calls_match_the_counters) {
  cache_t *c = make(CACHE_POLICY_FIFO, 4, 0);
  for (int i = 0; i < 10; i++) {
    char key[8];
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(tu_set(c, key, "v", i % 2 ? 5 : 0));
  }
  ASSERT_OK(tu_set(c, "k9", "w", 0));
  ASSERT_OK(tu_delete(c, "k8"));
  clk.now_ms += 5;
  ASSERT_OK(cache_cleanup(c, NULL));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.evictions,
                    (uint64_t)count_reason(CACHE_REMOVED_EVICTED));
  ck_assert_uint_eq(st.expirations,
                    (uint64_t)count_reason(CACHE_REMOVED_EXPIRED));
  ck_assert_uint_eq(st.deletes, (uint64_t)count_reason(CACHE_REMOVED_DELETED));
  ck_assert_int_eq(count_reason(CACHE_REMOVED_REPLACED), 1);
  /* Every set added an entry and every call removed one. */
  ck_assert_uint_eq(st.entries, st.sets - (uint64_t)rec.n);
  cache_destroy(c);
  ck_assert_uint_eq((uint64_t)rec.n, st.sets);
  ck_assert_int_eq(rec.overflow, 0);
}
END_TEST

static Suite *listener_suite(void) {
  Suite *s = suite_create("listener");

  TCase *n = tcase_create("names");
  tcase_add_test(n, removal_names_are_the_documented_words);
  tcase_add_test(n, unknown_removal_reason_has_no_name);
  suite_add_tcase(s, n);

  TCase *r = tcase_create("reasons");
  tcase_add_checked_fixture(r, setup, NULL);
  tcase_add_test(r, delete_reports_deleted_with_key_and_value);
  tcase_add_test(r, long_keys_and_values_are_reported_whole);
  tcase_add_test(r, delete_of_a_missing_key_calls_nothing);
  tcase_add_test(r, set_of_a_new_key_calls_nothing);
  tcase_add_test(r, set_of_a_live_key_reports_replaced_with_the_old_value);
  tcase_add_test(r, replacing_in_a_full_cache_reports_only_replaced);
  tcase_add_test(r, empty_value_is_reported_with_length_zero);
  tcase_add_test(r, failed_set_calls_nothing);
  tcase_add_test(r, get_of_an_expired_entry_reports_expired);
  tcase_add_test(r, contains_of_an_expired_entry_reports_expired);
  tcase_add_test(r, delete_of_an_expired_entry_reports_expired_not_deleted);
  tcase_add_test(r, set_over_an_expired_entry_reports_expired_not_replaced);
  tcase_add_test(r, live_entry_is_not_reported_before_its_deadline);
  tcase_add_test(r, cleanup_reports_each_expired_entry);
  tcase_add_test(r, eviction_reports_evicted_for_the_victim);
  tcase_add_test(r, lru_eviction_reports_the_least_recently_used);
  tcase_add_test(r, expired_victim_is_reported_as_expired);
  tcase_add_test(r, eviction_for_max_bytes_reports_evicted);
  tcase_add_test(r, clear_reports_cleared_for_every_entry);
  tcase_add_test(r, close_reports_cleared_once);
  tcase_add_test(r, destroy_of_an_open_cache_reports_cleared);
  tcase_add_test(r, destroy_of_an_empty_cache_calls_nothing);
  tcase_add_test(r, expired_entries_left_at_clear_are_reported_as_cleared);
  tcase_add_test(r, listener_calls_match_the_counters);
  suite_add_tcase(s, r);

  TCase *re = tcase_create("reentry");
  tcase_add_checked_fixture(re, setup, NULL);
  tcase_add_test(re, listener_runs_after_the_entry_left);
  tcase_add_test(re, listener_may_set_in_the_same_cache);
  tcase_add_test(re, listener_may_get_and_delete_in_the_same_cache);
  tcase_add_test(re, listener_may_set_during_an_eviction);
  tcase_add_test(re, listener_may_set_during_a_clear);
  tcase_add_test(re, listener_called_by_close_sees_a_closed_cache);
  suite_add_tcase(s, re);
  return s;
}

int main(void) { return tu_run(listener_suite()); }
