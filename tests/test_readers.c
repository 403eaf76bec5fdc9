/* Lookups without the lock: the epoch scheme that keeps what they read
 * alive (white box), and hits that stay right and counted while other
 * threads delete, evict, replace and clear the same keys.
 * Linked against the static test build of the library (internal symbols). */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "cache_int.h"
#include "epoch.h"
#include "fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- epoch (white box) ---------------------------------------------------
 */

/* A thread that takes its epoch record, then stays inside a read (or,
 * if not `reading`, idles outside any) until told to end. */
typedef struct holder {
  pthread_t thread;
  bool reading;
  atomic_int state; /* 0 starting, 1 holding, 2 told to end */
} holder_t;

static void *holder_main(void *arg) {
  holder_t *h = arg;
  cache__epoch_rec_t *rec = cache__epoch_self();
  if (rec == NULL)
    return NULL;
  if (h->reading)
    cache__epoch_enter(rec);
  atomic_store(&h->state, 1);
  while (atomic_load(&h->state) != 2)
    sleep_ms(1);
  if (h->reading)
    cache__epoch_leave(rec);
  return NULL;
}

static void holder_start(holder_t *h, bool reading) {
  h->reading = reading;
  atomic_init(&h->state, 0);
  ck_assert_int_eq(pthread_create(&h->thread, NULL, holder_main, h), 0);
  while (atomic_load(&h->state) != 1)
    sleep_ms(1);
}

static void holder_stop(holder_t *h) {
  atomic_store(&h->state, 2);
  ck_assert_int_eq(pthread_join(h->thread, NULL), 0);
}

START_TEST(a_lone_thread_frees_at_once) {
  /* No other thread has a record: nobody can be reading. */
  ck_assert(cache__epoch_alone());
  ck_assert_ptr_nonnull(cache__epoch_self());
  ck_assert(cache__epoch_alone());
  holder_t t;
  holder_start(&t, false);
  ck_assert(!cache__epoch_alone());
  holder_stop(&t);
  /* Its record was given back when it ended. */
  ck_assert(cache__epoch_alone());
}
END_TEST

START_TEST(a_reader_holds_back_reclamation) {
  holder_t r;
  holder_start(&r, true);
  uint64_t stamp = cache__epoch_stamp();
  for (int i = 0; i < 10; i++)
    ck_assert_uint_lt(cache__epoch_reclaimable(), stamp);
  holder_stop(&r);
  /* Two moves of the epoch, each possible now. */
  cache__epoch_reclaimable();
  cache__epoch_reclaimable();
  ck_assert_uint_ge(cache__epoch_reclaimable(), stamp);
}
END_TEST

static atomic_bool synchronized;

static void *synchronize_main(void *arg) {
  (void)arg;
  cache__epoch_synchronize();
  atomic_store(&synchronized, true);
  return NULL;
}

START_TEST(synchronize_waits_for_the_readers_under_way) {
  holder_t r;
  holder_start(&r, true);
  atomic_store(&synchronized, false);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, synchronize_main, NULL), 0);
  sleep_ms(50);
  ck_assert(!atomic_load(&synchronized));
  holder_stop(&r);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert(atomic_load(&synchronized));
  /* With no reader at all it returns at once. */
  cache__epoch_synchronize();
}
END_TEST

static void *record_of_thread(void *arg) {
  *(cache__epoch_rec_t **)arg = cache__epoch_self();
  return NULL;
}

START_TEST(an_ended_threads_record_is_taken_over) {
  cache__epoch_rec_t *first = NULL;
  for (int i = 0; i < 20; i++) {
    cache__epoch_rec_t *rec = NULL;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, record_of_thread, &rec), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_ptr_nonnull(rec);
    if (first == NULL)
      first = rec;
    /* One thread at a time: the records do not grow with the threads. */
    ck_assert_ptr_eq(rec, first);
  }
}
END_TEST

START_TEST(a_fork_child_is_not_held_back_by_a_reader_of_the_parent) {
  holder_t r;
  holder_start(&r, true);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    alarm(10); /* a hang shows as SIGALRM */
    cache__epoch_synchronize();
    _exit(0);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  holder_stop(&r);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "child status %d", status);
}
END_TEST

/* ---- hits under churn ------------------------------------------------------
 */

#define KEYS 512
#define VALUE_LEN 64
#define READERS 2
#define READS 150000
#define WRITES 60000

/* Every value of key k, whatever its version, starts with k and is a
 * pattern of k and the version after: a hit on memory freed and reused for
 * another entry shows up as a value of another key. */
static void value_of(uint32_t k, uint32_t version, unsigned char *v) {
  memcpy(v, &k, sizeof k);
  memcpy(v + 4, &version, sizeof version);
  for (int i = 8; i < VALUE_LEN; i++)
    v[i] = (unsigned char)(k * 31u + version + (unsigned)i);
}

static bool value_ok(uint32_t k, const unsigned char *v) {
  uint32_t got, version;
  memcpy(&got, v, sizeof got);
  memcpy(&version, v + 4, sizeof version);
  unsigned char want[VALUE_LEN];
  value_of(k, version, want);
  return got == k && memcmp(v, want, VALUE_LEN) == 0;
}

static void key_of(uint32_t k, char *key) { snprintf(key, 16, "key-%u", k); }

typedef struct churn {
  cache_t *cache;
  atomic_int bad; /* wrong values or unexpected statuses */
  atomic_bool writing;
  uint64_t gets[READERS];
} churn_t;

/* What each of the READERS threads of a test is given: the test's state
 * and the thread's number. */
typedef struct reader_arg {
  void *ctx;
  int id;
} reader_arg_t;

static void start_readers(pthread_t *r, reader_arg_t *args, void *ctx,
                          void *(*fn)(void *)) {
  for (int i = 0; i < READERS; i++) {
    args[i] = (reader_arg_t){ctx, i};
    ck_assert_int_eq(pthread_create(&r[i], NULL, fn, &args[i]), 0);
  }
}

static void join_readers(pthread_t *r) {
  for (int i = 0; i < READERS; i++)
    ck_assert_int_eq(pthread_join(r[i], NULL), 0);
}

static void *churn_reader(void *arg) {
  reader_arg_t *a = arg;
  churn_t *churn = a->ctx;
  char key[16];
  unsigned char v[VALUE_LEN];
  uint32_t seed = 7u + (uint32_t)a->id;
  for (int i = 0; i < READS; i++) {
    uint32_t r = tu_rand(&seed);
    /* Mostly a hot handful, so that entries turn protected and are read
     * without the lock; the rest spread over every key. */
    uint32_t k = r % 4 == 0 ? (r >> 4) % KEYS : (r >> 4) % 8;
    key_of(k, key);
    size_t len = 0;
    int rc = cache_get(churn->cache, key, strlen(key), v, sizeof v, &len);
    churn->gets[a->id]++;
    if (rc == CACHE_OK ? len != VALUE_LEN || !value_ok(k, v)
                       : rc != CACHE_NOT_FOUND)
      atomic_fetch_add(&churn->bad, 1);
  }
  return NULL;
}

static void *churn_writer(void *arg) {
  churn_t *c = arg;
  char key[16];
  unsigned char v[VALUE_LEN];
  uint32_t seed = 99;
  for (uint32_t i = 0; i < WRITES; i++) {
    uint32_t r = tu_rand(&seed);
    uint32_t k = r % 4 == 0 ? (r >> 4) % KEYS : (r >> 4) % 8;
    key_of(k, key);
    int rc;
    switch ((seed >> 4) % 16) {
    case 0:
      rc = cache_delete(c->cache, key, strlen(key));
      if (rc == CACHE_NOT_FOUND)
        rc = CACHE_OK;
      break;
    case 1:
      /* Empties every table, which then shrink, and fill up again. */
      rc = i % 64 == 1 ? cache_clear(c->cache) : CACHE_OK;
      break;
    default:
      value_of(k, i, v);
      rc = cache_set(c->cache, key, strlen(key), v, sizeof v, 0);
    }
    if (rc != CACHE_OK)
      atomic_fetch_add(&c->bad, 1);
  }
  atomic_store(&c->writing, false);
  return NULL;
}

static atomic_ulong removed_seen;

static void count_removed(const void *key, size_t key_len, const void *value,
                          size_t value_len, int reason, void *ctx) {
  (void)key;
  (void)key_len;
  (void)reason;
  (void)ctx;
  uint32_t k;
  /* The listener sees the entry whole, even while readers may hold it. */
  if (value_len == VALUE_LEN) {
    memcpy(&k, value, sizeof k);
    if (value_ok(k, value))
      atomic_fetch_add(&removed_seen, 1);
  }
}

/* listener: a removal listener runs. large_window: the default policy's
 * window is half the cache, so that hits in it ask to move their entries
 * (policy/tinylfu.c) and take the shard's lock when it is free, while the
 * writer inserts, deletes and clears. */
static void churn_run(bool listener, bool large_window) {
  cache_options_t o;
  cache_options_init(&o); /* the default policy reads hits without the lock */
  o.max_entries = 128;
  if (listener)
    o.on_remove = count_removed;
  churn_t c = {.cache = NULL};
  atomic_init(&c.bad, 0);
  atomic_init(&c.writing, true);
  ASSERT_OK(cache_create(&o, &c.cache));
  if (large_window)
    atomic_store(&c.cache->policy_shared.window_share, UINT64_C(1) << 47);
  atomic_store(&removed_seen, 0);

  pthread_t w, r[READERS];
  reader_arg_t args[READERS];
  ck_assert_int_eq(pthread_create(&w, NULL, churn_writer, &c), 0);
  start_readers(r, args, &c, churn_reader);
  join_readers(r);
  ck_assert_int_eq(pthread_join(w, NULL), 0);
  int bad = atomic_load(&c.bad);
  ck_assert_int_eq(bad, 0);

  cache_stats_t st = tu_stats(c.cache);
  ck_assert_uint_eq(st.hits + st.misses, c.gets[0] + c.gets[1]);
  ck_assert_uint_gt(st.hits, 0);
  ck_assert_uint_le(st.entries, 128);
  cache_destroy(c.cache);
  /* Every entry set was removed once, whole, for one reason or another
   * (the last ones by the destroy). */
  if (listener)
    ck_assert_uint_eq(atomic_load(&removed_seen), st.sets);
}

START_TEST(hits_read_the_right_value_while_writers_churn) {
  churn_run(false, false);
}
END_TEST

START_TEST(hits_read_the_right_value_while_a_listener_runs) {
  churn_run(true, false);
}
END_TEST

START_TEST(hits_read_the_right_value_while_window_hits_move_entries) {
  churn_run(false, true);
}
END_TEST

/* ---- misses answered without the lock ---- */

#define STABLE 60          /* keys never deleted */
#define STABLE_READS 20000 /* each reader's: slowed down, see below */
#define CHURN 120          /* keys set and deleted, half of them present */

typedef struct moving {
  cache_t *cache;
  atomic_bool reading;
  atomic_int false_misses;
  uint64_t gets[READERS];
} moving_t;

static void *moving_writer(void *arg) {
  moving_t *m = arg;
  char key[16];
  /* Other keys come and go in the same table: each deletion moves the
   * entries after it back, the stable ones among them. A key that stays
   * put soon stands before every key inserted after it, where no deletion
   * moves it: so the stable keys are set again now and then, with the same
   * value, which puts each at the end of its run of slots again. */
  for (uint32_t i = 0; atomic_load(&m->reading); i++) {
    snprintf(key, sizeof key, "churn-%u", i % CHURN);
    ASSERT_OK(cache_set(m->cache, key, strlen(key), "c", 1, 0));
    snprintf(key, sizeof key, "churn-%u", (i + CHURN / 2) % CHURN);
    int rc = cache_delete(m->cache, key, strlen(key));
    ck_assert(rc == CACHE_OK || rc == CACHE_NOT_FOUND);
    if (i % 4 == 0) {
      snprintf(key, sizeof key, "stable-%u", i / 4 % STABLE);
      ASSERT_OK(cache_set(m->cache, key, strlen(key), key, strlen(key), 0));
    }
  }
  return NULL;
}

static void *stable_reader(void *arg) {
  reader_arg_t *a = arg;
  moving_t *m = a->ctx;
  char key[16], v[16];
  uint32_t seed = 3u + (uint32_t)a->id;
  for (int i = 0; i < STABLE_READS; i++) {
    snprintf(key, sizeof key, "stable-%u", tu_rand(&seed) % STABLE);
    size_t len = 0;
    if (cache_get(m->cache, key, strlen(key), v, sizeof v, &len) != CACHE_OK ||
        len != strlen(key) || memcmp(v, key, len) != 0)
      atomic_fetch_add(&m->false_misses, 1);
    m->gets[a->id]++;
  }
  return NULL;
}

static void set_stable_keys(cache_t *cache) {
  char key[16];
  for (int i = 0; i < STABLE; i++) {
    snprintf(key, sizeof key, "stable-%d", i);
    ASSERT_OK(tu_set(cache, key, key, 0));
  }
}

/* Runs `writer` beside READERS threads of `reader`, whose lookups are
 * slowed down between the slots they read (fault.h) so that the writer
 * changes the table in the middle of them all the time. Returns the reads
 * that went wrong (m->false_misses). */
static int run_slowed(moving_t *m, void *(*writer)(void *),
                      void *(*reader)(void *)) {
  atomic_init(&m->reading, true);
  atomic_init(&m->false_misses, 0);
  pthread_t w, r[READERS];
  reader_arg_t args[READERS];
  cache__fault_set(CACHE__FAULT_PROBE, 0, UINT64_MAX);
  ck_assert_int_eq(pthread_create(&w, NULL, writer, m), 0);
  start_readers(r, args, m, reader);
  join_readers(r);
  atomic_store(&m->reading, false);
  ck_assert_int_eq(pthread_join(w, NULL), 0);
  cache__fault_set(CACHE__FAULT_PROBE, 0, 0);
  return atomic_load(&m->false_misses);
}

START_TEST(a_key_moved_by_a_deletion_is_never_missed) {
  /* One shard (127 entries), 3/4 full: the stable keys sit in long runs of
   * slots that every deletion shifts. A miss answered without the lock
   * must be one that no such move could have caused. */
  cache_options_t o;
  cache_options_init(&o);
  o.max_entries = 127;
  moving_t m = {.cache = NULL};
  ASSERT_OK(cache_create(&o, &m.cache));
  set_stable_keys(m.cache);
  ck_assert_int_eq(run_slowed(&m, moving_writer, stable_reader), 0);
  cache_stats_t st = tu_stats(m.cache);
  ck_assert_uint_eq(st.hits, m.gets[0] + m.gets[1]);
  ck_assert_uint_eq(st.evictions, 0);
  cache_destroy(m.cache);
}
END_TEST

/* ---- a key being replaced ---- */

static void *replacing_writer(void *arg) {
  moving_t *m = arg;
  char value[16];
  for (uint32_t i = 0; atomic_load(&m->reading); i++) {
    snprintf(value, sizeof value, "v%u", i);
    ASSERT_OK(cache_set(m->cache, "same", 4, value, strlen(value), 0));
  }
  return NULL;
}

static void *replaced_reader(void *arg) {
  reader_arg_t *a = arg;
  moving_t *m = a->ctx;
  char v[16];
  for (int i = 0; i < STABLE_READS; i++) {
    size_t len = 0;
    if (cache_get(m->cache, "same", 4, v, sizeof v, &len) != CACHE_OK)
      atomic_fetch_add(&m->false_misses, 1);
  }
  return NULL;
}

START_TEST(a_key_being_replaced_is_never_missed) {
  /* A set of a key that is there replaces it in one step: a lookup at the
   * same time gets the old value or the new one, never a miss. */
  cache_options_t o;
  cache_options_init(&o);
  moving_t m = {.cache = NULL};
  ASSERT_OK(cache_create(&o, &m.cache));
  ASSERT_OK(cache_set(m.cache, "same", 4, "v", 1, 0));
  /* The writer is slowed down too, where a lookup could see the key in
   * neither entry. */
  cache__fault_set(CACHE__FAULT_SWAP, 0, UINT64_MAX);
  ck_assert_int_eq(run_slowed(&m, replacing_writer, replaced_reader), 0);
  cache__fault_set(CACHE__FAULT_SWAP, 0, 0);
  cache_destroy(m.cache);
}
END_TEST

/* ---- tables replaced under a lookup ---- */

#define WAVE 4000 /* keys a wave adds, then deletes */

static void *wave_writer(void *arg) {
  moving_t *m = arg;
  char key[16];
  /* Each wave grows every shard's table several times over, then lets it
   * shrink back: a lookup slowed down in an old table sees it replaced,
   * and the old one must stay until the lookup is done. */
  while (atomic_load(&m->reading)) {
    for (int i = 0; i < WAVE; i++) {
      snprintf(key, sizeof key, "wave-%d", i);
      ASSERT_OK(cache_set(m->cache, key, strlen(key), "w", 1, 0));
    }
    for (int i = 0; i < WAVE; i++) {
      snprintf(key, sizeof key, "wave-%d", i);
      ASSERT_OK(cache_delete(m->cache, key, strlen(key)));
    }
  }
  return NULL;
}

START_TEST(a_lookup_outlives_the_table_it_started_in) {
  cache_options_t o;
  cache_options_init(&o); /* no bound: every shard grows and shrinks */
  moving_t m = {.cache = NULL};
  ASSERT_OK(cache_create(&o, &m.cache));
  set_stable_keys(m.cache);
  ck_assert_int_eq(run_slowed(&m, wave_writer, stable_reader), 0);
  ck_assert_uint_eq(cache_count(m.cache), STABLE);
  cache_destroy(m.cache);
}
END_TEST

static void *hot_reader(void *arg) {
  cache_t *cache = arg;
  char buf[8];
  size_t len;
  for (int i = 0; i < 5000; i++)
    if (cache_get(cache, "hot", 3, buf, sizeof buf, &len) != CACHE_OK ||
        len != 5 || memcmp(buf, "value", 5) != 0)
      return (void *)1;
  return NULL;
}

/* A cache of the default policy, whose hits are read without the lock. */
static cache_t *make_default_cache(void) {
  tu_config_t cfg = {.policy = CACHE_POLICY_TINYLFU, .max_entries = 1000};
  return tu_make_cache_cfg(&cfg);
}

START_TEST(every_hit_is_counted_once) {
  cache_t *cache = make_default_cache();
  ASSERT_OK(tu_set(cache, "hot", "value", 0));
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, hot_reader, cache), 0);
  for (int i = 0; i < 2; i++) {
    void *rc;
    ck_assert_int_eq(pthread_join(t[i], &rc), 0);
    ck_assert_ptr_null(rc);
  }
  /* A buffer too small is a hit too, and says how much room it needs. */
  char small[2];
  size_t len = 0;
  ASSERT_STATUS(cache_get(cache, "hot", 3, small, sizeof small, &len),
                CACHE_ETOOSMALL);
  ck_assert_uint_eq(len, 5);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.hits, 10001);
  ck_assert_uint_eq(st.misses, 0);
  cache_destroy(cache);
}
END_TEST

START_TEST(misses_without_the_lock_are_counted) {
  cache_t *cache = make_default_cache();
  char buf[8];
  size_t len;
  for (int i = 0; i < 100; i++)
    ASSERT_STATUS(cache_get(cache, "absent", 6, buf, sizeof buf, &len),
                  CACHE_NOT_FOUND);
  ASSERT_OK(tu_set(cache, "present", "v", 0));
  ASSERT_OK(cache_get(cache, "present", 7, buf, sizeof buf, &len));
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.misses, 100);
  ck_assert_uint_eq(st.hits, 1);
  cache_destroy(cache);
}
END_TEST

typedef struct lookups {
  cache_t *cache;
  atomic_bool done;
  int hit, miss;
} lookups_t;

static void *hit_and_miss(void *arg) {
  lookups_t *l = arg;
  char buf[8];
  size_t len;
  l->hit = cache_get(l->cache, "present", 7, buf, sizeof buf, &len);
  l->miss = cache_get(l->cache, "absent", 6, buf, sizeof buf, &len);
  atomic_store(&l->done, true);
  return NULL;
}

START_TEST(a_hit_and_a_miss_take_no_lock) {
  /* Every shard lock is held here while another thread looks up a key that
   * is there and one that is not: both answers must come without them. */
  cache_t *cache = make_default_cache();
  ASSERT_OK(tu_set(cache, "present", "v", 0));
  lookups_t l = {.cache = cache, .hit = -100, .miss = -100};
  atomic_init(&l.done, false);
  for (uint32_t i = 0; i <= cache->shard_mask; i++)
    pthread_mutex_lock(&cache->shards[i].lock);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, hit_and_miss, &l), 0);
  for (int i = 0; i < 5000 && !atomic_load(&l.done); i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  bool done = atomic_load(&l.done);
  for (uint32_t i = 0; i <= cache->shard_mask; i++)
    pthread_mutex_unlock(&cache->shards[i].lock);
  ck_assert_int_eq(pthread_join(t, NULL), 0);
  ck_assert_msg(done, "a lookup waited for a shard lock");
  ASSERT_STATUS(l.hit, CACHE_OK);
  ASSERT_STATUS(l.miss, CACHE_NOT_FOUND);
  cache_destroy(cache);
}
END_TEST

START_TEST(no_hit_after_delete_or_close) {
  cache_t *cache = make_default_cache();
  char buf[8];
  size_t len;
  ASSERT_OK(tu_set(cache, "k", "v1", 0));
  for (int i = 0; i < 50; i++) /* hot: read without the lock from now */
    ASSERT_OK(cache_get(cache, "k", 1, buf, sizeof buf, &len));
  ASSERT_OK(tu_set(cache, "k", "v2", 0));
  ASSERT_VALUE(cache, "k", "v2");
  ASSERT_OK(tu_delete(cache, "k"));
  ASSERT_MISSING(cache, "k");
  ASSERT_OK(tu_set(cache, "k", "v3", 0));
  ASSERT_OK(cache_close(cache));
  ASSERT_STATUS(cache_get(cache, "k", 1, buf, sizeof buf, &len), CACHE_ECLOSED);
  cache_destroy(cache);
}
END_TEST

/* Removed entries wait in their shard's limbo for the lookups that may
 * read them; a cache that falls quiet has them freed by its next expiry
 * pass (the reaper's, or cache_cleanup), not only by later removals. */
START_TEST(a_quiet_cache_frees_its_limbo_on_a_cleanup_pass) {
  /* Another thread that has read once: removals go through the limbo. */
  holder_t t;
  holder_start(&t, false);
  cache_t *cache = make_default_cache();
  char key[16];
  for (uint32_t k = 0; k < 200; k++) {
    key_of(k, key);
    ASSERT_OK(cache_set(cache, key, strlen(key), "v", 1, 0));
  }
  for (uint32_t k = 0; k < 200; k++) {
    key_of(k, key);
    ASSERT_OK(cache_delete(cache, key, strlen(key)));
  }
  uint64_t waiting = 0;
  for (uint32_t i = 0; i <= cache->shard_mask; i++)
    waiting += cache->shards[i].limbo_len;
  ck_assert_uint_gt(waiting, 0);
  /* Two epochs must pass after the last removal: two passes at most. */
  ASSERT_OK(cache_cleanup(cache, NULL));
  ASSERT_OK(cache_cleanup(cache, NULL));
  for (uint32_t i = 0; i <= cache->shard_mask; i++)
    ck_assert_uint_eq(cache->shards[i].limbo_len, 0);
  cache_destroy(cache);
  holder_stop(&t);
}
END_TEST

static void *stop_later(void *arg) {
  sleep_ms(100);
  holder_stop(arg);
  return NULL;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A reader stuck in the middle of a lookup (descheduled, say) holds the
 * epoch back. Removals then wait in the limbo, but not without bound: the
 * thread that removes waits for the reader once its shard's limbo passes
 * 256 KiB. */
START_TEST(a_stuck_reader_bounds_the_limbo_and_makes_writers_wait) {
  tu_config_t cfg = {.policy = CACHE_POLICY_TINYLFU, .max_entries = 64};
  cache_t *cache = tu_make_cache_cfg(&cfg);
  static char value[4096];
  char key[16];
  /* Full first: the table has its final size, so that no resize waits. */
  for (uint32_t k = 0; k < 64; k++) {
    key_of(k, key);
    ASSERT_OK(cache_set(cache, key, strlen(key), value, sizeof value, 0));
  }
  holder_t h;
  holder_start(&h, true);
  pthread_t stopper;
  ck_assert_int_eq(pthread_create(&stopper, NULL, stop_later, &h), 0);
  double start = now_ms();
  uint64_t most = 0;
  for (uint32_t k = 64; k < 464; k++) { /* 1.6 MB of evictions */
    key_of(k, key);
    ASSERT_OK(cache_set(cache, key, strlen(key), value, sizeof value, 0));
    uint64_t waiting = 0;
    for (uint32_t i = 0; i <= cache->shard_mask; i++)
      waiting += cache->shards[i].limbo_bytes;
    most = waiting > most ? waiting : most;
  }
  double took = now_ms() - start;
  ck_assert_int_eq(pthread_join(stopper, NULL), 0);
  ck_assert_msg(took >= 50, "writes took %.1f ms", took);
  ck_assert_uint_le(most, 256 * 1024 + sizeof value + 64);
  cache_destroy(cache);
}
END_TEST

static Suite *readers_suite(void) {
  Suite *s = suite_create("readers");
  TCase *epoch = tcase_create("epoch");
  tcase_add_test(epoch, a_lone_thread_frees_at_once);
  tcase_add_test(epoch, a_reader_holds_back_reclamation);
  tcase_add_test(epoch, synchronize_waits_for_the_readers_under_way);
  tcase_add_test(epoch, an_ended_threads_record_is_taken_over);
  tcase_add_test(epoch,
                 a_fork_child_is_not_held_back_by_a_reader_of_the_parent);
  suite_add_tcase(s, epoch);
  TCase *hits = tcase_create("hits");
  tcase_set_timeout(hits, 120);
  tcase_add_test(hits, hits_read_the_right_value_while_writers_churn);
  tcase_add_test(hits, hits_read_the_right_value_while_a_listener_runs);
  tcase_add_test(hits,
                 hits_read_the_right_value_while_window_hits_move_entries);
  tcase_add_test(hits, every_hit_is_counted_once);
  tcase_add_test(hits, no_hit_after_delete_or_close);
  tcase_add_test(hits, a_key_moved_by_a_deletion_is_never_missed);
  tcase_add_test(hits, a_key_being_replaced_is_never_missed);
  tcase_add_test(hits, a_lookup_outlives_the_table_it_started_in);
  tcase_add_test(hits, misses_without_the_lock_are_counted);
  tcase_add_test(hits, a_hit_and_a_miss_take_no_lock);
  tcase_add_test(hits, a_quiet_cache_frees_its_limbo_on_a_cleanup_pass);
  tcase_add_test(hits, a_stuck_reader_bounds_the_limbo_and_makes_writers_wait);
  suite_add_tcase(s, hits);
  return s;
}

int main(void) { return tu_run(readers_suite()); }
