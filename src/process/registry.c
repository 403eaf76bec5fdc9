/* See registry.h.
 *
 * Shutdown closes one cache at a time without holding the registry lock
 * (closing calls listeners, which may create or use caches): it pins a
 * cache, closes it, unpins it, and looks for the next open one.
 * cache_destroy() waits for a pin on its cache to go away.
 *
 * fork(): the child gets a copy of every lock as it was in the parent at
 * that instant, held perhaps by a thread that does not exist in the child.
 * So before fork the parent takes every lock of the library in its fixed
 * order (registry, reaper, then each cache's shards and alerts), and both
 * sides release them afterwards; the child then starts its own reaper. */
#include "registry.h"

#include "cache_int.h"
#include "epoch.h"
#include "reaper.h"

#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t unpinned = PTHREAD_COND_INITIALIZER;
static cache_t *caches; /* newest first */
static uint64_t next_id;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void lock_cache(cache_t *c) {
  pthread_mutex_lock(&c->loads_lock);
  for (uint32_t i = 0; i <= c->shard_mask; i++)
    pthread_mutex_lock(&c->shards[i].lock);
  pthread_mutex_lock(&c->alerts.lock);
}

static void unlock_cache(cache_t *c) {
  pthread_mutex_unlock(&c->alerts.lock);
  for (uint32_t i = c->shard_mask + 1; i-- > 0;)
    pthread_mutex_unlock(&c->shards[i].lock);
  pthread_mutex_unlock(&c->loads_lock);
}

static void before_fork(void) {
  pthread_mutex_lock(&lock);
  cache__reaper_lock();
  for (cache_t *c = caches; c != NULL; c = c->registry_next)
    lock_cache(c);
}

static void after_fork_parent(void) {
  for (cache_t *c = caches; c != NULL; c = c->registry_next)
    unlock_cache(c);
  cache__reaper_unlock();
  pthread_mutex_unlock(&lock);
}

static void after_fork_child(void) {
  for (cache_t *c = caches; c != NULL; c = c->registry_next) {
    unlock_cache(c);
    /* A pass the parent's reaper was running does not exist here, nor do
     * the loads of the parent's other threads. */
    atomic_store(&c->cleaning, false);
    cache__loads_after_fork_child(c);
  }
  cache__reaper_after_fork_child();
  pthread_mutex_unlock(&lock);
}

/* A thread that had an epoch record ends: what its thread caches hold in
 * the caches' arenas goes back, so that it can be purged. A cache being
 * destroyed is either still listed (and its arena still there) or gone
 * from the list. */
static void thread_exit(uint32_t index) {
  pthread_mutex_lock(&lock);
  for (cache_t *c = caches; c != NULL; c = c->registry_next)
    cache__mem_thread_flush(&c->mem, index);
  pthread_mutex_unlock(&lock);
}

static void install_atfork(void) {
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
  cache__epoch_on_exit(thread_exit);
}

void cache__registry_add(cache_t *c) {
  pthread_once(&atfork_once, install_atfork);
  pthread_mutex_lock(&lock);
  c->registry_next = caches;
  c->registry_pins = 0;
  c->shutdown_claimed = false;
  c->registry_id = ++next_id;
  caches = c;
  pthread_mutex_unlock(&lock);
}

void cache__registry_remove(cache_t *c) {
  pthread_mutex_lock(&lock);
  while (c->registry_pins > 0)
    pthread_cond_wait(&unpinned, &lock);
  cache_t **pp = &caches;
  while (*pp != NULL && *pp != c)
    pp = &(*pp)->registry_next;
  if (*pp == c)
    *pp = c->registry_next;
  c->registry_next = NULL;
  pthread_mutex_unlock(&lock);
}

static void unpin_locked(cache_t *c) {
  c->registry_pins--;
  pthread_cond_broadcast(&unpinned);
}

cache_t **cache__registry_pin_all(size_t *n) {
  pthread_mutex_lock(&lock);
  size_t count = 0;
  for (cache_t *c = caches; c != NULL; c = c->registry_next)
    count += !atomic_load(&c->closed);
  cache_t **list = count ? malloc(count * sizeof *list) : NULL;
  *n = 0;
  if (list != NULL) {
    /* The list is newest first; hand it out oldest first. */
    size_t i = count;
    for (cache_t *c = caches; c != NULL && i > 0; c = c->registry_next)
      if (!atomic_load(&c->closed)) {
        c->registry_pins++;
        list[--i] = c;
      }
    memmove(list, list + i, (count - i) * sizeof *list);
    *n = count - i;
  }
  pthread_mutex_unlock(&lock);
  return list;
}

void cache__registry_unpin_all(cache_t **list, size_t n) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < n; i++)
    unpin_locked(list[i]);
  pthread_mutex_unlock(&lock);
  free(list);
}

/* The first open cache no shutdown is closing, claimed and pinned; NULL
 * if none. */
static cache_t *claim_next_open(void) {
  pthread_mutex_lock(&lock);
  cache_t *c = caches;
  while (c != NULL && (c->shutdown_claimed || atomic_load(&c->closed)))
    c = c->registry_next;
  if (c != NULL) {
    c->shutdown_claimed = true;
    c->registry_pins++;
  }
  pthread_mutex_unlock(&lock);
  return c;
}

static bool any_claimed(void) {
  for (cache_t *c = caches; c != NULL; c = c->registry_next)
    if (c->shutdown_claimed)
      return true;
  return false;
}

void cache_shutdown_all(void) {
  cache_t *c;
  while ((c = claim_next_open()) != NULL) {
    cache_close(c);
    pthread_mutex_lock(&lock);
    c->shutdown_claimed = false;
    unpin_locked(c);
    pthread_mutex_unlock(&lock);
  }
  /* A concurrent call may still be closing one: return only when done. */
  pthread_mutex_lock(&lock);
  while (any_claimed())
    pthread_cond_wait(&unpinned, &lock);
  pthread_mutex_unlock(&lock);
}
