/* The allocator's thread caches (white box): each thread with an epoch
 * record gets a jemalloc thread cache of its own in each cache's arena;
 * destroying the cache flushes and gives them back before the arena goes;
 * a fork child does not use the ones its parent's threads had.
 * With the C library's allocator (sanitizer and valgrind builds) there are
 * no thread caches: the same calls run, and only the white-box checks are
 * skipped. Linked against the static test build of the library. */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "cache_int.h"
#include "epoch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static bool has_thread_caches(void) {
  cache__mem_totals_t t;
  return cache__mem_totals(&t) == 1; /* jemalloc keeps figures */
}

/* A cache of the default policy, whose lookups take epoch records. */
static cache_t *make_cache(uint64_t max_entries) {
  tu_config_t cfg = {NULL, CACHE_POLICY_TINYLFU, 0, max_entries, 0, NULL};
  return tu_make_cache_cfg(&cfg);
}

/* Sets, reads and deletes keys "<tag>-<i>": entries are allocated, and
 * freed both at once and through evictions. Takes an epoch record.
 * Returns how many calls answered what they should not have. No Check
 * call here: it runs in other threads and in fork children, where Check's
 * bookkeeping of the last assertion would be lost. */
static int churn(cache_t *c, int tag, int n) {
  char key[32], buf[32];
  size_t len;
  int wrong = 0;
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof key, "%d-%d", tag, i % 600);
    wrong += cache_set(c, key, strlen(key), key, strlen(key), 0) != CACHE_OK;
    int rc = cache_get(c, key, strlen(key), buf, sizeof buf, &len);
    wrong += rc != CACHE_OK && rc != CACHE_NOT_FOUND;
    if (i % 3 == 0) {
      rc = cache_delete(c, key, strlen(key));
      wrong += rc != CACHE_OK && rc != CACHE_NOT_FOUND;
    }
  }
  return wrong;
}

/* The calling thread's slot in c's table of thread caches. */
static uint64_t slot_of(cache_t *c) {
  cache__epoch_rec_t *r = cache__epoch_current();
  ck_assert_ptr_nonnull(r);
  ck_assert_uint_lt(r->index, CACHE__MEM_TCACHES);
  return atomic_load(&c->mem.tcaches[r->index]);
}

/* A jemalloc thread cache id in a slot (the slot must hold one). */
static unsigned id_in(uint64_t slot) {
  uint32_t low = (uint32_t)slot;
  ck_assert_msg(low != 0 && low != UINT32_MAX, "no thread cache: %#llx",
                (unsigned long long)slot);
  return low - 1;
}

/* Footprints come from a table of the small size classes: it must say
 * what the allocator says, for every size, at the edges of the table too. */
START_TEST(footprints_are_the_allocators_size_classes) {
  cache__mem_t mem;
  ck_assert_int_eq(cache__mem_init(&mem), 0);
  size_t previous = 0;
  for (size_t size = 1; size <= 5000; size++) {
    size_t usable = cache__mem_usable(&mem, NULL, size);
    if (has_thread_caches())
      ck_assert_uint_eq(usable, cache__mem_class(size));
    ck_assert_uint_ge(usable, size);
    ck_assert_uint_ge(usable, previous);
    previous = usable;
  }
  if (has_thread_caches()) /* W1's entries: 112 bytes asked, a class of 112 */
    ck_assert_uint_eq(cache__mem_usable(&mem, NULL, 100), 112);
  cache__mem_destroy(&mem);
}
END_TEST

START_TEST(a_thread_has_a_cache_of_its_own_per_arena) {
  cache_t *a = make_cache(300);
  cache_t *b = make_cache(300);
  ck_assert_int_eq(churn(a, 1, 2000), 0);
  ck_assert_int_eq(churn(b, 2, 2000), 0);
  if (has_thread_caches()) {
    unsigned ia = id_in(slot_of(a)), ib = id_in(slot_of(b));
    ck_assert_uint_ne(ia, ib);
    ck_assert_uint_eq(slot_of(a) >> 32, cache__epoch_forks());
  }
  cache_destroy(a);
  cache_destroy(b);
}
END_TEST

START_TEST(destroying_a_cache_gives_its_thread_caches_back) {
  /* More caches, one after another, than jemalloc has thread cache ids
   * (4093): each must get one, and in fact the same one again. Without
   * thread caches (the C library's malloc, under valgrind or a sanitizer)
   * a few rounds show that nothing leaks. */
  int caches = has_thread_caches() ? 4200 : 50;
  unsigned first = 0;
  for (int i = 0; i < caches; i++) {
    cache_t *c = make_cache(100);
    ck_assert_int_eq(churn(c, i, 50), 0);
    if (has_thread_caches()) {
      unsigned id = id_in(slot_of(c));
      if (i == 0)
        first = id;
      ck_assert_uint_eq(id, first);
    }
    cache_destroy(c);
  }
}
END_TEST

/* A thread that churns a cache: `n` requests, or with n = 0 until it is
 * told to stop. */
typedef struct worker {
  pthread_t thread;
  cache_t *cache;
  int tag, n;
  atomic_bool stop;
  int wrong; /* churn's count */
} worker_t;

static void *worker_main(void *arg) {
  worker_t *w = arg;
  if (w->n > 0)
    w->wrong += churn(w->cache, w->tag, w->n);
  while (w->n == 0 && !atomic_load(&w->stop))
    w->wrong += churn(w->cache, w->tag, 200);
  return NULL;
}

static void worker_start(worker_t *w, cache_t *c, int tag, int n) {
  w->cache = c;
  w->tag = tag;
  w->n = n;
  w->wrong = 0;
  atomic_init(&w->stop, false);
  ck_assert_int_eq(pthread_create(&w->thread, NULL, worker_main, w), 0);
}

static void worker_stop(worker_t *w) {
  atomic_store(&w->stop, true);
  ck_assert_int_eq(pthread_join(w->thread, NULL), 0);
  ck_assert_int_eq(w->wrong, 0);
}

START_TEST(blocks_freed_by_other_threads_are_returned_before_destroy) {
  /* Both threads evict and delete each other's entries, so each thread
   * cache ends up holding blocks the other thread allocated. Destroying
   * the arena before flushing them, or flushing them into another arena,
   * corrupts the allocator: the next rounds would crash. */
  int rounds = has_thread_caches() ? 20 : 1;
  for (int round = 0; round < rounds; round++) {
    cache_t *c = make_cache(256);
    worker_t w[2];
    for (int i = 0; i < 2; i++)
      worker_start(&w[i], c, 7, 20000);
    for (int i = 0; i < 2; i++)
      worker_stop(&w[i]);
    cache_stats_t st = tu_stats(c);
    ck_assert_uint_le(st.entries, 256);
    cache_destroy(c);
  }
}
END_TEST

START_TEST(ended_threads_and_clears_give_cached_blocks_back) {
  /* Blocks that wait in a thread cache are still handed out as far as the
   * arena can tell, and no purge can return their pages. The thread
   * caches of a thread that ends, and the caller's own on a clear, give
   * them back: then the arena holds nothing but the tables. */
  cache_t *c = make_cache(1000);
  ck_assert_int_eq(churn(c, 1, 3000), 0); /* this thread's cache fills */
  worker_t w;
  worker_start(&w, c, 2, 3000);
  worker_stop(&w);
  ASSERT_OK(cache_clear(c));
  uint64_t allocated = 0;
  if (cache__mem_arena_allocated(&c->mem, &allocated) == 1) {
    cache_stats_t st = tu_stats(c);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_le(allocated, st.table_bytes);
  }
  cache_destroy(c);
}
END_TEST

START_TEST(a_fork_child_makes_its_thread_caches_anew) {
  /* Another thread is allocating when the process forks: its thread
   * cache may be half way through an operation in the child's copy.
   * Without thread caches it is stopped first: an entry it was building
   * at that instant would be lost in the child, which valgrind reports. */
  const bool live = has_thread_caches();
  cache_t *c = make_cache(300);
  ck_assert_int_eq(churn(c, 1, 500), 0);
  worker_t spinner;
  worker_start(&spinner, c, 9, 0);
  ck_assert_int_eq(churn(c, 1, 2000), 0);
  uint64_t before = live ? slot_of(c) : 0;
  if (!live)
    worker_stop(&spinner);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    alarm(20);
    int bad = 0;
    bad |= churn(c, 2, 5000) != 0;
    if (live) {
      uint64_t now = slot_of(c);
      bad |= (now >> 32) != cache__epoch_forks();
      bad |= (now >> 32) == (before >> 32);
      bad |= (uint32_t)now == 0 || (uint32_t)now == UINT32_MAX;
    }
    cache_destroy(c);
    _exit(bad);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  if (live)
    worker_stop(&spinner);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "child status %d", status);
  if (live)
    ck_assert_uint_eq(slot_of(c), before); /* the parent keeps its own */
  cache_destroy(c);
}
END_TEST

static Suite *alloc_suite(void) {
  Suite *s = suite_create("alloc");
  TCase *t = tcase_create("thread caches");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, footprints_are_the_allocators_size_classes);
  tcase_add_test(t, a_thread_has_a_cache_of_its_own_per_arena);
  tcase_add_test(t, destroying_a_cache_gives_its_thread_caches_back);
  tcase_add_test(t, blocks_freed_by_other_threads_are_returned_before_destroy);
  tcase_add_test(t, ended_threads_and_clears_give_cached_blocks_back);
  tcase_add_test(t, a_fork_child_makes_its_thread_caches_anew);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(alloc_suite()); }
