/* The cache most C programs already have: uthash, an LRU list and one
 * mutex, written the way uthash's own documentation suggests. cache-bench
 * runs it beside libcache when uthash.h is installed (Debian: uthash-dev).
 * Its interface mirrors libcache's get and set, with the same status codes,
 * so that both run through the same benchmark loop. */
#ifndef BENCH_UTHASH_LRU_H
#define BENCH_UTHASH_LRU_H

#include <stddef.h>
#include <stdint.h>

typedef struct ut_cache ut_cache_t;

/* max_entries 0: unbounded; ttl_ms 0: entries never expire; clock_ms NULL:
 * CLOCK_MONOTONIC. NULL when out of memory. */
ut_cache_t *ut_create(uint64_t max_entries, uint64_t ttl_ms,
                      uint64_t (*clock_ms)(void *ctx), void *clock_ctx);
void ut_destroy(ut_cache_t *c);
/* CACHE_OK, CACHE_NOT_FOUND or CACHE_ETOOSMALL, as cache_get. */
int ut_get(ut_cache_t *c, const void *key, size_t key_len, void *buf,
           size_t buf_len, size_t *value_len);
/* CACHE_OK, CACHE_ENOMEM, or CACHE_ETOOBIG (lengths past 32 bits). */
int ut_set(ut_cache_t *c, const void *key, size_t key_len, const void *value,
           size_t value_len, uint64_t ttl_ms);
/* One scan of every entry, removing the expired ones: CACHE_OK. */
int ut_cleanup(ut_cache_t *c, uint64_t *removed);
uint64_t ut_count(ut_cache_t *c);

#endif
