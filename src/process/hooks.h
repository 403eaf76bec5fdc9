/* What the cache core (core/) asks of the services that serve every cache
 * of the process (process/): to list a new cache and give it to the
 * cleanup thread, to let it go again, to check the memory thresholds
 * after an insert, and a cache's health for its stats. It is the one
 * header of process/ that core/ includes: process/ uses core/ through
 * cache_int.h (the expiry pass, shedding, the figures it reports), and
 * core/ uses process/ through these calls only, so that the two do not
 * depend on each other's insides both ways. */
#ifndef CACHE_HOOKS_H
#define CACHE_HOOKS_H

#include "cache.h"

/* registry.c: lists c among the live caches (cache_shutdown_all(), the
 * fork handlers, the health report). */
void cache__registry_add(cache_t *c);
/* Unlists c, waiting while cache_shutdown_all() is closing it. */
void cache__registry_remove(cache_t *c);

/* reaper.c: registers c (its options.cleanup_interval_ms > 0) with the
 * cleanup thread, starting the thread if it is not running. CACHE_OK or
 * CACHE_ENOMEM. */
int cache__reaper_add(cache_t *c);
/* Unregisters c if it is registered, waiting for a pass on it that is
 * under way (never for a backoff); stops the thread when no cache is
 * left. Idempotent. */
void cache__reaper_remove(cache_t *c);

/* pressure.c: compares c's footprint with memory_threshold_mb after an
 * insert: alerts when it rises above it, and above twice it sheds down to
 * half. */
void cache__memory_check(cache_t *c);

/* report.c: CACHE_HEALTH_* of an open cache. */
int cache__health_of(cache_t *c);

#endif
