/* See reaper.h.
 *
 * The registered caches form a list guarded by the reaper's own lock; a
 * pass runs with that lock released, so registering and unregistering
 * never wait behind a pass on another cache. A cache being unregistered
 * waits only for a pass on itself. Due times are kept on the monotonic
 * clock, not the cache's own (possibly simulated) clock: the interval is
 * real time, while what counts as expired is the cache's business. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "reaper.h"

#include "cache_int.h"

#include <time.h>

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake; /* the list or the generation changed */
  pthread_cond_t idle; /* a pass finished */
  cache_t *caches;
  bool running;
  /* Bumped to tell the running thread to leave; a thread started later
   * has a new value, so a stop never catches the wrong thread. */
  uint64_t generation;
  pthread_t thread;
} R = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_conds(void) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&R.wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_cond_init(&R.idle, NULL);
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t due_after(uint64_t now, uint64_t interval) {
  return interval >= UINT64_MAX - now ? UINT64_MAX : now + interval;
}

/* Sleeps until `until` (monotonic ms; UINT64_MAX = until woken). */
static void sleep_until(uint64_t until) {
  if (until == UINT64_MAX) {
    pthread_cond_wait(&R.wake, &R.lock);
    return;
  }
  struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                        .tv_nsec = (long)(until % 1000) * 1000000L};
  pthread_cond_timedwait(&R.wake, &R.lock, &ts);
}

/* The first cache whose pass is due, or NULL; *next receives the earliest
 * due time among the others. Reaper lock held. */
static cache_t *find_due(uint64_t now, uint64_t *next) {
  *next = UINT64_MAX;
  for (cache_t *c = R.caches; c != NULL; c = c->reaper_next) {
    if (c->reaper_due <= now)
      return c;
    if (c->reaper_due < *next)
      *next = c->reaper_due;
  }
  return NULL;
}

static void run_pass(cache_t *c) {
  c->reaper_busy = true;
  pthread_mutex_unlock(&R.lock);
  cache__expire_pass(c, NULL);
  pthread_mutex_lock(&R.lock);
  c->reaper_busy = false;
  c->reaper_due = due_after(mono_ms(), c->options.cleanup_interval_ms);
  pthread_cond_broadcast(&R.idle);
}

static void *reaper_main(void *arg) {
  uint64_t generation = (uint64_t)(uintptr_t)arg;
  pthread_mutex_lock(&R.lock);
  while (R.generation == generation) {
    uint64_t next;
    cache_t *due = find_due(mono_ms(), &next);
    if (due != NULL)
      run_pass(due);
    else
      sleep_until(next);
  }
  pthread_mutex_unlock(&R.lock);
  return NULL;
}

int cache__reaper_add(cache_t *c) {
  pthread_once(&once, init_conds);
  pthread_mutex_lock(&R.lock);
  if (!R.running) {
    uint64_t gen = ++R.generation;
    if (pthread_create(&R.thread, NULL, reaper_main, (void *)(uintptr_t)gen) !=
        0) {
      pthread_mutex_unlock(&R.lock);
      return CACHE_ENOMEM;
    }
    R.running = true;
  }
  c->reaper_due = due_after(mono_ms(), c->options.cleanup_interval_ms);
  c->reaper_next = R.caches;
  R.caches = c;
  c->reaper_listed = true;
  pthread_cond_signal(&R.wake);
  pthread_mutex_unlock(&R.lock);
  return CACHE_OK;
}

static void unlink_cache(cache_t *c) {
  cache_t **pp = &R.caches;
  while (*pp != c)
    pp = &(*pp)->reaper_next;
  *pp = c->reaper_next;
  c->reaper_next = NULL;
  c->reaper_listed = false;
}

void cache__reaper_remove(cache_t *c) {
  pthread_once(&once, init_conds);
  pthread_mutex_lock(&R.lock);
  if (!c->reaper_listed) {
    pthread_mutex_unlock(&R.lock);
    return;
  }
  unlink_cache(c);
  while (c->reaper_busy)
    pthread_cond_wait(&R.idle, &R.lock);
  bool stop = R.caches == NULL && R.running;
  pthread_t thread = R.thread;
  if (stop) {
    R.generation++;
    R.running = false;
    pthread_cond_signal(&R.wake);
  }
  pthread_mutex_unlock(&R.lock);
  if (stop)
    pthread_join(thread, NULL);
}
