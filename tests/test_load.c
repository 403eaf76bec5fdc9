/* cache_get_or_load: one loader per key while concurrent callers wait for
 * its result (single flight), errors reach every waiter and cache nothing,
 * and a loader can neither deadlock the cache nor load its own key. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test_util.h"

#define THREADS 8

typedef struct loader_state {
  atomic_int calls;
  atomic_int arrived; /* racers about to call cache_get_or_load */
  int fail_with;      /* a status to return instead of a value; 0 = none */
  int sleep_ms;       /* hold the load open so that callers pile up */
  cache_t *cache;     /* for loaders that call back into the cache */
} loader_state_t;

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Loads "v:<key>". */
static int value_loader(const void *key, size_t key_len, cache_load_t *load,
                        void *ctx) {
  loader_state_t *st = ctx;
  atomic_fetch_add(&st->calls, 1);
  /* Hold the load open until every racer has set off (bounded), then a
   * little longer so that they are all waiting on it. */
  for (int i = 0;
       i < 5000 && st->sleep_ms && atomic_load(&st->arrived) < THREADS; i++)
    sleep_ms(1);
  if (st->sleep_ms)
    sleep_ms(st->sleep_ms);
  if (st->fail_with)
    return st->fail_with;
  char value[80];
  int n =
      snprintf(value, sizeof value, "v:%.*s", (int)key_len, (const char *)key);
  return cache_load_put(load, value, (size_t)n, 0);
}

static int get_or_load(cache_t *c, const char *key, loader_state_t *st,
                       char *buf, size_t buf_len, size_t *len) {
  return cache_get_or_load(c, key, strlen(key), value_loader, st, buf, buf_len,
                           len);
}

START_TEST(a_miss_runs_the_loader_and_caches_the_value) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  loader_state_t st = {0};
  char buf[64];
  size_t len = 0;
  ASSERT_OK(get_or_load(c, "k", &st, buf, sizeof buf, &len));
  ck_assert_uint_eq(len, 3);
  ck_assert_mem_eq(buf, "v:k", 3);
  ASSERT_VALUE(c, "k", "v:k");
  ASSERT_OK(get_or_load(c, "k", &st, buf, sizeof buf, &len)); /* a hit */
  ck_assert_int_eq(atomic_load(&st.calls), 1);
  cache_destroy(c);
}
END_TEST

typedef struct racer {
  cache_t *cache;
  loader_state_t *state;
  pthread_barrier_t *start;
  const char *key;
  int rc;
  char value[64];
  size_t len;
} racer_t;

static void *race(void *arg) {
  racer_t *r = arg;
  pthread_barrier_wait(r->start);
  atomic_fetch_add(&r->state->arrived, 1);
  r->rc = get_or_load(r->cache, r->key, r->state, r->value, sizeof r->value,
                      &r->len);
  return NULL;
}

/* THREADS callers ask for `key` at once; returns the loader's call count. */
static int race_on_one_key(cache_t *c, loader_state_t *st, racer_t *r) {
  pthread_t t[THREADS];
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) {
    r[i] = (racer_t){.cache = c, .state = st, .start = &start, .key = "hot"};
    pthread_create(&t[i], NULL, race, &r[i]);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&start);
  return atomic_load(&st->calls);
}

START_TEST(concurrent_callers_of_one_key_share_one_load) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  loader_state_t st = {.sleep_ms = 100};
  racer_t r[THREADS];
  ck_assert_int_eq(race_on_one_key(c, &st, r), 1);
  for (int i = 0; i < THREADS; i++) {
    ASSERT_OK(r[i].rc);
    ck_assert_uint_eq(r[i].len, 5);
    ck_assert_mem_eq(r[i].value, "v:hot", 5);
  }
  cache_destroy(c);
}
END_TEST

START_TEST(a_loader_error_reaches_every_waiter_and_caches_nothing) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  loader_state_t st = {.sleep_ms = 100, .fail_with = -1000};
  racer_t r[THREADS];
  ck_assert_int_eq(race_on_one_key(c, &st, r), 1);
  for (int i = 0; i < THREADS; i++)
    ck_assert_int_eq(r[i].rc, -1000);
  ck_assert_uint_eq(cache_count(c), 0);
  ASSERT_MISSING(c, "hot");
  /* The failure is not remembered: the next call loads again. */
  st.fail_with = 0;
  st.sleep_ms = 0;
  char buf[16];
  size_t len;
  ASSERT_OK(get_or_load(c, "hot", &st, buf, sizeof buf, &len));
  ck_assert_int_eq(atomic_load(&st.calls), 2);
  cache_destroy(c);
}
END_TEST

typedef struct many {
  cache_t *cache;
  loader_state_t *state;
  int id;
  int failures;
} many_t;

static void *load_many(void *arg) {
  many_t *m = arg;
  char key[32], buf[64], expect[64];
  for (int round = 0; round < 3; round++)
    for (int k = 0; k < 100; k++) {
      snprintf(key, sizeof key, "key%d", (k + m->id * 7) % 100);
      size_t len = 0;
      int n = snprintf(expect, sizeof expect, "v:%s", key);
      if (get_or_load(m->cache, key, m->state, buf, sizeof buf, &len) !=
              CACHE_OK ||
          len != (size_t)n || memcmp(buf, expect, len) != 0)
        m->failures++;
    }
  return NULL;
}

START_TEST(many_keys_from_many_threads_are_each_loaded_once) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  loader_state_t st = {0};
  pthread_t t[4];
  many_t m[4];
  for (int i = 0; i < 4; i++) {
    m[i] = (many_t){c, &st, i, 0};
    pthread_create(&t[i], NULL, load_many, &m[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(m[i].failures, 0);
  }
  ck_assert_int_eq(atomic_load(&st.calls), 100);
  ck_assert_uint_eq(cache_count(c), 100);
  cache_destroy(c);
}
END_TEST

/* A loader that asks the cache for its own key, and loads another one. */
static int reentrant_loader(const void *key, size_t key_len, cache_load_t *load,
                            void *ctx) {
  loader_state_t *st = ctx;
  atomic_fetch_add(&st->calls, 1);
  char buf[16];
  size_t len;
  int own = cache_get_or_load(st->cache, key, key_len, reentrant_loader, st,
                              buf, sizeof buf, &len);
  if (own != CACHE_EBUSY)
    return -2000;
  int other = cache_get_or_load(st->cache, "other", 5, value_loader, st, buf,
                                sizeof buf, &len);
  if (other != CACHE_OK)
    return -3000;
  ASSERT_OK(cache_set(st->cache, "side", 4, "s", 1, 0)); /* no deadlock */
  return cache_load_put(load, "mine", 4, 0);
}

START_TEST(a_loader_may_use_the_cache_but_not_load_its_own_key) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  loader_state_t st = {.cache = c};
  char buf[16];
  size_t len;
  ASSERT_OK(cache_get_or_load(c, "k", 1, reentrant_loader, &st, buf, sizeof buf,
                              &len));
  ck_assert_mem_eq(buf, "mine", 4);
  ASSERT_VALUE(c, "other", "v:other");
  ASSERT_VALUE(c, "side", "s");
  cache_destroy(c);
}
END_TEST

static int silent_loader(const void *key, size_t key_len, cache_load_t *load,
                         void *ctx) {
  (void)key, (void)key_len, (void)load, (void)ctx;
  return CACHE_OK; /* says OK but gives nothing */
}

static int double_put_loader(const void *key, size_t key_len,
                             cache_load_t *load, void *ctx) {
  (void)key, (void)key_len;
  int *second = ctx;
  ASSERT_OK(cache_load_put(load, "a", 1, 0));
  *second = cache_load_put(load, "b", 1, 0);
  return CACHE_OK;
}

START_TEST(loader_contract_errors) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  char buf[16];
  size_t len;
  ASSERT_STATUS(cache_get_or_load(c, "k", 1, NULL, NULL, buf, sizeof buf, &len),
                CACHE_EINVAL);
  ASSERT_STATUS(
      cache_get_or_load(c, "k", 1, silent_loader, NULL, buf, sizeof buf, &len),
      CACHE_EINVAL);
  ck_assert_uint_eq(cache_count(c), 0);
  int second = CACHE_OK;
  ASSERT_OK(cache_get_or_load(c, "k", 1, double_put_loader, &second, buf,
                              sizeof buf, &len));
  ASSERT_STATUS(second, CACHE_EINVAL);
  ck_assert_mem_eq(buf, "a", 1);
  ASSERT_STATUS(cache_load_put(NULL, "x", 1, 0), CACHE_EINVAL);
  ASSERT_STATUS(cache_get_or_load(NULL, "k", 1, silent_loader, NULL, buf,
                                  sizeof buf, &len),
                CACHE_EINVAL);
  ASSERT_STATUS(
      cache_get_or_load(c, "", 0, silent_loader, NULL, buf, sizeof buf, &len),
      CACHE_EINVAL);
  cache_destroy(c);
}
END_TEST

START_TEST(a_small_buffer_gets_the_size_and_the_value_is_still_cached) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  loader_state_t st = {0};
  size_t len = 0;
  ASSERT_STATUS(get_or_load(c, "key", &st, NULL, 0, &len), CACHE_ETOOSMALL);
  ck_assert_uint_eq(len, 5);
  ASSERT_VALUE(c, "key", "v:key");
  ck_assert_int_eq(atomic_load(&st.calls), 1);
  cache_destroy(c);
}
END_TEST

START_TEST(a_value_that_cannot_fit_is_an_error_for_everyone) {
  tu_config_t cfg = {NULL, CACHE_POLICY_LRU, 0, 0, 64, NULL};
  cache_t *c = tu_make_cache_cfg(&cfg);
  loader_state_t st = {0};
  char buf[16];
  size_t len;
  /* "v:" + 70 bytes of key is over max_bytes once stored. */
  char key[71];
  memset(key, 'x', 70);
  key[70] = '\0';
  ASSERT_STATUS(get_or_load(c, key, &st, buf, sizeof buf, &len), CACHE_ETOOBIG);
  ck_assert_uint_eq(cache_count(c), 0);
  cache_destroy(c);
}
END_TEST

static Suite *load_suite(void) {
  Suite *s = suite_create("load");
  TCase *t = tcase_create("load");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, a_miss_runs_the_loader_and_caches_the_value);
  tcase_add_test(t, concurrent_callers_of_one_key_share_one_load);
  tcase_add_test(t, a_loader_error_reaches_every_waiter_and_caches_nothing);
  tcase_add_test(t, many_keys_from_many_threads_are_each_loaded_once);
  tcase_add_test(t, a_loader_may_use_the_cache_but_not_load_its_own_key);
  tcase_add_test(t, loader_contract_errors);
  tcase_add_test(t, a_small_buffer_gets_the_size_and_the_value_is_still_cached);
  tcase_add_test(t, a_value_that_cannot_fit_is_an_error_for_everyone);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(load_suite()); }
