/* The reaper: one background thread, shared by every cache in the process
 * that has a cleanup interval, that runs each such cache's expiry pass when
 * it falls due. The thread exists only while at least one cache is
 * registered, and sleeps on a condition variable until the earliest due
 * time, so an idle process pays no wake-ups between passes. */
#ifndef CACHE_REAPER_H
#define CACHE_REAPER_H

#include "cache.h"

/* Registers c (its options.cleanup_interval_ms > 0), starting the thread
 * if it is not running. CACHE_OK or CACHE_ENOMEM. */
int cache__reaper_add(cache_t *c);

/* Unregisters c if it is registered, waiting for a pass on it that is
 * under way; stops the thread when no cache is left. Idempotent. */
void cache__reaper_remove(cache_t *c);

#endif
