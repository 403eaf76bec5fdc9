/* See reaper.h.
 *
 * The registered caches form a list guarded by the reaper's own lock; a
 * pass runs with that lock released, so registering and unregistering
 * never wait behind a pass on another cache, and a cache being
 * unregistered waits only for a pass on itself. Due times are on each
 * cache's own clock. For the monotonic clock the thread sleeps until the
 * earliest one; a cache with a clock of its own (a test or a simulation)
 * may be moved at any moment, so the thread looks at it every
 * SIMULATED_POLL_MS of real time instead. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "reaper.h"

#include "cache_int.h"
#include "process.h"

#include <time.h>

#define SIMULATED_POLL_MS 2
#define PROCESS_CHECK_MS 1000

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
  uint64_t limit_due; /* monotonic ms of the next process limit check */
  /* Callers of cache__reaper_remove waiting for a pass to end. The thread
   * does not leave on its own while there are any: the last of them
   * stops it and joins it, so that no thread of the library outlives the
   * cache_destroy() or cache_close() that made it idle. */
  unsigned removers;
  /* A thread that left on its own (see reaper_main) and is not joined
   * yet: the next start joins it, or, failing that, reaper_at_exit. */
  bool unjoined;
  pthread_t left;
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

static uint64_t add_sat(uint64_t a, uint64_t b) {
  return b >= UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Real milliseconds until c is due (0 if it is). */
static uint64_t wait_for(const cache_t *c) {
  uint64_t now = cache__now(c);
  if (c->reaper_due <= now)
    return 0;
  return c->monotonic_clock ? c->reaper_due - now : SIMULATED_POLL_MS;
}

/* Sleeps for `ms` real milliseconds (UINT64_MAX = until woken). */
static void sleep_for(uint64_t ms) {
  if (ms == UINT64_MAX) {
    pthread_cond_wait(&R.wake, &R.lock);
    return;
  }
  uint64_t until = add_sat(mono_ms(), ms);
  struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                        .tv_nsec = (long)(until % 1000) * 1000000L};
  pthread_cond_timedwait(&R.wake, &R.lock, &ts);
}

/* The first cache that is due, or NULL; *sleep receives how long until the
 * next one is. Reaper lock held. */
static cache_t *find_due(uint64_t *sleep) {
  *sleep = UINT64_MAX;
  for (cache_t *c = R.caches; c != NULL; c = c->reaper_next) {
    uint64_t w = wait_for(c);
    if (w == 0)
      return c;
    if (w < *sleep)
      *sleep = w;
  }
  return NULL;
}

/* The delay before the n-th retry: retry_base_ms * 2^n, saturating. */
static uint64_t backoff_ms(const cache_t *c, uint32_t n) {
  uint64_t base = c->options.retry_base_ms;
  if (n >= 63 || base > (UINT64_MAX >> n))
    return UINT64_MAX;
  return base << n;
}

/* Schedules c's next pass after one that returned rc. Reaper lock held. */
static void schedule(cache_t *c, int rc) {
  uint64_t now = cache__now(c);
  uint64_t delay = c->options.cleanup_interval_ms;
  if (rc == CACHE_OK) {
    c->reaper_failures = 0;
  } else if (rc != CACHE_EBUSY && rc != CACHE_ECLOSED) {
    uint32_t n = ++c->reaper_failures;
    if (n <= c->options.max_retries) {
      delay = backoff_ms(c, n);
      cache__alert(c, CACHE_ALERT_WARNING,
                   "cleanup pass failed (%s), retry %u of %u in %llu ms",
                   cache_strerror(rc), n, c->options.max_retries,
                   (unsigned long long)delay);
    } else {
      cache__alert(c, CACHE_ALERT_CRITICAL,
                   "cleanup failed after %u retries (%s)",
                   c->options.max_retries, cache_strerror(rc));
      c->reaper_failures = 0;
    }
  }
  c->reaper_due = add_sat(now, delay);
}

static void run_pass(cache_t *c) {
  c->reaper_busy = true;
  pthread_mutex_unlock(&R.lock);
  int rc = cache__expire_pass(c, NULL);
  cache__memory_check(c);
  pthread_mutex_lock(&R.lock);
  c->reaper_busy = false;
  if (c->reaper_listed)
    schedule(c, rc);
  pthread_cond_broadcast(&R.idle);
}

/* True if nothing needs the thread any more. Reaper lock held. */
static bool idle(void) {
  return R.caches == NULL && !cache__process_limit_active();
}

/* Runs the process limit check if it is due; otherwise lowers *sleep to
 * the time until it is. Reaper lock held (released for the check). */
static bool check_limit(uint64_t *sleep) {
  if (!cache__process_limit_active())
    return false;
  uint64_t now = mono_ms();
  if (now < R.limit_due) {
    if (R.limit_due - now < *sleep)
      *sleep = R.limit_due - now;
    return false;
  }
  R.limit_due = now + PROCESS_CHECK_MS;
  pthread_mutex_unlock(&R.lock);
  cache__process_limit_check();
  pthread_mutex_lock(&R.lock);
  return true;
}

static void *reaper_main(void *arg) {
  uint64_t generation = (uint64_t)(uintptr_t)arg;
  pthread_mutex_lock(&R.lock);
  while (R.generation == generation) {
    uint64_t sleep;
    cache_t *due = find_due(&sleep);
    if (due != NULL)
      run_pass(due);
    else if (check_limit(&sleep))
      continue;
    else if (idle() && R.removers == 0)
      break; /* a listener on this thread closed the last cache */
    else
      sleep_for(sleep);
  }
  if (R.generation == generation) {
    /* Leaving on its own, with no caller to join it: it is joined when a
     * thread is next started, or at exit, so that the library's threads
     * are all accounted for (a leak checker at exit sees none). */
    R.generation++;
    R.running = false;
    R.unjoined = true;
    R.left = pthread_self();
  }
  pthread_mutex_unlock(&R.lock);
  return NULL;
}

/* Joins a thread that left on its own. Reaper lock held: such a thread
 * takes the lock no more once it has set `unjoined`. */
static void join_left(void) {
  if (R.unjoined) {
    pthread_join(R.left, NULL);
    R.unjoined = false;
  }
}

/* Starts the thread if it is not running. Reaper lock held. */
static int start_locked(void) {
  if (R.running)
    return CACHE_OK;
  join_left();
  uint64_t gen = ++R.generation;
  if (pthread_create(&R.thread, NULL, reaper_main, (void *)(uintptr_t)gen))
    return CACHE_ENOMEM;
  R.running = true;
  return CACHE_OK;
}

int cache__reaper_add(cache_t *c) {
  pthread_once(&once, init_conds);
  pthread_mutex_lock(&R.lock);
  int rc = start_locked();
  if (rc == CACHE_OK) {
    c->reaper_due = add_sat(cache__now(c), c->options.cleanup_interval_ms);
    c->reaper_failures = 0;
    c->reaper_next = R.caches;
    R.caches = c;
    c->reaper_listed = true;
    pthread_cond_signal(&R.wake);
  }
  pthread_mutex_unlock(&R.lock);
  return rc;
}

static void unlink_cache(cache_t *c) {
  cache_t **pp = &R.caches;
  while (*pp != c)
    pp = &(*pp)->reaper_next;
  *pp = c->reaper_next;
  c->reaper_next = NULL;
  c->reaper_listed = false;
}

/* Stops the thread if nothing needs it, then releases the reaper lock and
 * waits for the thread to end. The thread never joins itself: it leaves
 * on its own (reaper_main) when it finds itself idle. */
static void stop_if_idle_and_unlock(void) {
  bool stop = idle() && R.running && !pthread_equal(pthread_self(), R.thread);
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

void cache__reaper_remove(cache_t *c) {
  pthread_once(&once, init_conds);
  pthread_mutex_lock(&R.lock);
  if (!c->reaper_listed) {
    pthread_mutex_unlock(&R.lock);
    return;
  }
  unlink_cache(c);
  /* The reaper itself may be the caller (a listener closing a cache): then
   * the pass is this very call stack and must not be waited for. */
  R.removers++;
  while (c->reaper_busy && !pthread_equal(pthread_self(), R.thread))
    pthread_cond_wait(&R.idle, &R.lock);
  R.removers--;
  stop_if_idle_and_unlock();
}

void cache__reaper_limit_changed(void) {
  pthread_once(&once, init_conds);
  pthread_mutex_lock(&R.lock);
  if (cache__process_limit_active()) {
    R.limit_due = 0; /* check at once */
    start_locked();
    pthread_cond_signal(&R.wake);
    pthread_mutex_unlock(&R.lock);
    return;
  }
  stop_if_idle_and_unlock();
}

void cache__reaper_lock(void) {
  pthread_once(&once, init_conds);
  pthread_mutex_lock(&R.lock);
}

void cache__reaper_unlock(void) { pthread_mutex_unlock(&R.lock); }

bool cache__reaper_unjoined(void) {
  pthread_mutex_lock(&R.lock);
  bool unjoined = R.unjoined;
  pthread_mutex_unlock(&R.lock);
  return unjoined;
}

/* At exit (the library is never unmapped before: -z nodelete): a thread
 * that left on its own may still be on its way out. If another thread
 * holds the lock (exit() called while it works), it is not waited for. */
__attribute__((destructor)) static void reaper_at_exit(void) {
  if (pthread_mutex_trylock(&R.lock) != 0)
    return;
  join_left();
  pthread_mutex_unlock(&R.lock);
}

void cache__reaper_after_fork_child(void) {
  /* The parent's thread was not copied; its passes are not running, no
   * other thread is waiting for one, and a thread that left is not the
   * child's to join. */
  R.running = false;
  R.removers = 0;
  R.unjoined = false;
  for (cache_t *c = R.caches; c != NULL; c = c->reaper_next)
    c->reaper_busy = false;
  if (!idle())
    start_locked();
  pthread_mutex_unlock(&R.lock);
}
