/* A yardstick for W1 at one thread, not a cache anyone should use: close
 * to the least work per request that a cache bounded at W1's 100,000
 * entries can do. The entries live inside the table, 8 to a set
 * (a set is picked by the key's hash, like a CPU cache's), so there are no
 * pointers to follow; a set's 8 tag bytes and 8 use stamps share one
 * cache line, so a miss reads that line only, and a hit that line and the
 * entry; eviction is the least recently used entry of the set, found in
 * that same line, with no list, no heap and no frequency sketch; deadlines
 * are checked on reads only. It takes no lock and must only ever be used
 * by one thread, and it holds keys of exactly 16 bytes and values of at
 * most 64 (W1's), nothing else; its code is written for those sizes.
 * A real cache pays for what this leaves out: thread safety, a policy
 * that sees past one set, an expiry pass that does not scan, any sizes.
 * cache-bench reports libcache's 1-thread W1 rate as a share of this one's.
 * Interface and status codes as libcache's get and set. */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct fl_cache fl_cache_t;

#define FL_KEY_LEN 16 /* keys of exactly this length */
#define FL_VALUE_MAX 64

/* max_entries: rounded down to a multiple of 8, at least 8; ttl_ms 0:
 * entries never expire; clock_ms NULL: CLOCK_MONOTONIC. NULL when out of
 * memory. */
fl_cache_t *fl_create(uint64_t max_entries, uint64_t ttl_ms,
                      uint64_t (*clock_ms)(void *ctx), void *clock_ctx);
void fl_destroy(fl_cache_t *c);
/* CACHE_OK, CACHE_NOT_FOUND or CACHE_ETOOSMALL, as cache_get; a key of
 * another length is not found. */
int fl_get(fl_cache_t *c, const void *key, size_t key_len, void *buf,
           size_t buf_len, size_t *value_len);
/* CACHE_OK, or CACHE_ETOOBIG for a key or value it does not hold. */
int fl_set(fl_cache_t *c, const void *key, size_t key_len, const void *value,
           size_t value_len, uint64_t ttl_ms);

#endif
