/* The reaper: one background thread, shared by every cache in the process
 * that has a cleanup interval, that runs each such cache's expiry pass when
 * it falls due and retries a failed one with exponential backoff. The
 * thread exists only while at least one cache is registered, and sleeps on
 * a condition variable until the earliest due time, so an idle process pays
 * no wake-ups between passes. */
#ifndef CACHE_REAPER_H
#define CACHE_REAPER_H

#include "cache.h"
#include "hooks.h" /* cache__reaper_add, cache__reaper_remove */

#include <stdbool.h>

/* cache_set_process_memory_limit() changed the limit: start the thread
 * for its checks, or stop it if nothing else needs it. */
void cache__reaper_limit_changed(void);

/* True if a thread left on its own (a listener on it closed the last
 * cache) and is not joined yet; the next start, or exit, joins it. For
 * tests. */
bool cache__reaper_unjoined(void);

/* For the fork handlers (registry.c): hold the reaper's lock across fork,
 * and in the child, where the thread does not exist, start a new one if a
 * cache needs it. */
void cache__reaper_lock(void);
void cache__reaper_unlock(void);
void cache__reaper_after_fork_child(void);

#endif
