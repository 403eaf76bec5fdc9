/* See epoch.h. */
#include "epoch.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Starts at 2, so that "two epochs back" never wraps below zero. */
_Atomic uint64_t cache__epoch_global = 2;
#ifdef CACHE__TSAN
_Atomic uint64_t cache__tsan_fence;
#endif

/* Records are made under `records_lock` and never freed: a record whose
 * thread has ended is taken over by the next new thread, so there are
 * never more records than threads that ran at once. */
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(cache__epoch_rec_t *) records;
static uint32_t next_index;

/* Records owned by live threads: when the only one is the caller's (or
 * there is none), nothing can be read behind its back. Changes only when a
 * thread takes or gives back a record, so the line stays in every core's
 * cache. */
static _Atomic uint32_t live_records;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static bool key_made;
_Thread_local cache__epoch_rec_t *cache__epoch_tls;
static _Atomic uint64_t forks;

static void (*_Atomic exit_hook)(uint32_t index);

void cache__epoch_on_exit(void (*hook)(uint32_t index)) {
  atomic_store(&exit_hook, hook);
}

/* At thread exit: the record goes back for another thread to take. */
static void release(void *arg) {
  cache__epoch_rec_t *r = arg;
  void (*hook)(uint32_t) = atomic_load(&exit_hook);
  if (hook != NULL)
    hook(r->index);
  /* A later call in this thread's exit takes a record anew. */
  cache__epoch_tls = NULL;
  atomic_store_explicit(&r->word, 0, memory_order_release);
  atomic_store_explicit(&r->in_use, false, memory_order_release);
  atomic_fetch_sub(&live_records, 1);
}

static void before_fork(void) { pthread_mutex_lock(&records_lock); }

static void after_fork_parent(void) { pthread_mutex_unlock(&records_lock); }

static void after_fork_child(void) {
  /* Only the forking thread lives on; a record another thread was reading
   * with would hold the epoch back for ever. */
  for (cache__epoch_rec_t *r = atomic_load(&records); r != NULL; r = r->next) {
    if (r == cache__epoch_tls)
      continue;
    if (atomic_load(&r->in_use)) {
      atomic_store(&r->word, 0);
      atomic_store(&r->in_use, false);
      atomic_fetch_sub(&live_records, 1);
    }
  }
  atomic_fetch_add(&forks, 1);
  pthread_mutex_unlock(&records_lock);
}

static void make_key(void) {
  key_made =
      pthread_key_create(&key, release) == 0 &&
      pthread_atfork(before_fork, after_fork_parent, after_fork_child) == 0;
}

cache__epoch_rec_t *cache__epoch_adopt(void) {
  pthread_once(&key_once, make_key);
  if (!key_made)
    return NULL;
  pthread_mutex_lock(&records_lock);
  cache__epoch_rec_t *r = atomic_load_explicit(&records, memory_order_relaxed);
  while (r != NULL && atomic_load(&r->in_use))
    r = r->next;
  if (r == NULL && (r = aligned_alloc(64, sizeof *r)) != NULL) {
    memset(r, 0, sizeof *r);
    r->index = next_index++;
    r->next = atomic_load_explicit(&records, memory_order_relaxed);
    atomic_store_explicit(&records, r, memory_order_release);
  }
  if (r != NULL) {
    atomic_store(&r->in_use, true);
    atomic_fetch_add(&live_records, 1);
  }
  pthread_mutex_unlock(&records_lock);
  if (r != NULL && pthread_setspecific(key, r) != 0) {
    release(r);
    return NULL;
  }
  cache__epoch_tls = r;
  return r;
}

uint64_t cache__epoch_forks(void) {
  return atomic_load_explicit(&forks, memory_order_relaxed);
}

uint64_t cache__epoch_stamp(void) {
  /* The unlinking stores must be visible before the epoch is read: a
   * reader that announces a later epoch must not find what was unlinked. */
  cache__fence(memory_order_seq_cst);
  return atomic_load_explicit(&cache__epoch_global, memory_order_relaxed);
}

bool cache__epoch_alone(void) {
  /* The fence pairs with the fetch_add of a thread taking its first
   * record, which comes before its first read: if that add is not seen
   * here, the read will see what the caller unlinked. The acquire pairs
   * with the fetch_sub of a thread that has ended: its last reads come
   * before whatever the caller frees next. */
  cache__fence(memory_order_seq_cst);
  uint32_t n = atomic_load_explicit(&live_records, memory_order_acquire);
  return n == 0 || (n == 1 && cache__epoch_tls != NULL);
}

/* Moves the epoch on from g if every thread reading has seen g. */
static void try_advance(uint64_t g) {
  cache__fence(memory_order_seq_cst);
  for (cache__epoch_rec_t *r =
           atomic_load_explicit(&records, memory_order_acquire);
       r != NULL; r = r->next) {
    uint64_t w = atomic_load_explicit(&r->word, memory_order_acquire);
    if ((w & 1) != 0 && (w >> 1) != g)
      return;
  }
  /* A failure means another thread moved it on: as good. */
  atomic_compare_exchange_strong(&cache__epoch_global, &g, g + 1);
}

uint64_t cache__epoch_reclaimable(void) {
  try_advance(atomic_load(&cache__epoch_global));
  return atomic_load(&cache__epoch_global) - 2;
}

void cache__epoch_synchronize(void) {
  if (cache__epoch_alone())
    return;
  uint64_t target = cache__epoch_stamp() + 2;
  for (;;) {
    uint64_t g = atomic_load(&cache__epoch_global);
    if (g >= target)
      return;
    try_advance(g);
    if (atomic_load(&cache__epoch_global) == g)
      sched_yield(); /* a reader is in the middle of a lookup */
  }
}
