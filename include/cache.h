/*
 * libcache: an in-process key/value cache with bounded memory, correct
 * expiry and real visibility.
 *
 * This header is the whole public interface. Everything it declares is
 * stable within a major version: functions keep their signatures, status
 * codes keep their values, and structs only grow at the end.
 *
 * Conventions
 *  - Functions return an int status: CACHE_OK (0), CACHE_NOT_FOUND (1, a
 *    normal outcome, not an error) or a negative CACHE_E* error code. Turn
 *    any of them into text with cache_strerror() or cache_err_name().
 *  - A call that fails with an error changes nothing.
 *  - Keys and values are byte strings. The library copies them in and out and
 *    never keeps a pointer the caller gave it.
 *  - Every function may be called from any thread, at the same time, on the
 *    same handle.
 *  - Structs that cross the boundary start with `struct_size`. The library
 *    reads and writes only the bytes that struct_size covers, so a program
 *    built against an older, shorter struct keeps working when the library
 *    grows it.
 */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export macro ------------------------------------------------------ */
#if defined(CACHE_STATIC)
#define CACHE_EXTERN
#elif defined(_WIN32)
#if defined(CACHE_BUILDING)
#define CACHE_EXTERN __declspec(dllexport)
#else
#define CACHE_EXTERN __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define CACHE_EXTERN __attribute__((visibility("default")))
#else
#define CACHE_EXTERN
#endif

/* ---- version ----------------------------------------------------------- */
#define CACHE_VERSION_MAJOR 1
#define CACHE_VERSION_MINOR 0
#define CACHE_VERSION_PATCH 0
#define CACHE_VERSION_NUMBER                                                   \
  (CACHE_VERSION_MAJOR * 10000 + CACHE_VERSION_MINOR * 100 +                   \
   CACHE_VERSION_PATCH)
#define CACHE__STR2(x) #x
#define CACHE__STR(x) CACHE__STR2(x)
#define CACHE_VERSION_STRING                                                   \
  CACHE__STR(CACHE_VERSION_MAJOR)                                              \
  "." CACHE__STR(CACHE_VERSION_MINOR) "." CACHE__STR(CACHE_VERSION_PATCH)

/* The version of the library that is loaded, as "1.0.0" (compare with
 * CACHE_VERSION_STRING, the one the program was compiled against). */
CACHE_EXTERN const char *cache_version(void);
/* The same as a number: major * 10000 + minor * 100 + patch. */
CACHE_EXTERN unsigned cache_version_number(void);

/* ---- status codes ------------------------------------------------------ */
/* XX(name, value, message). One list, expanded into the enum, into
 * cache_strerror() and into cache_err_name(), so they cannot drift. */
#define CACHE_STATUS_MAP(XX)                                                   \
  XX(OK, 0, "success")                                                         \
  XX(NOT_FOUND, 1, "key not found")                                            \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(ECLOSED, -3, "cache is closed")                                           \
  XX(ETOOSMALL, -4, "buffer too small for the value")                          \
  XX(ETOOBIG, -5, "entry can never fit in this cache")                         \
  XX(EBUSY, -6, "operation already in progress")

typedef enum cache_status {
#define CACHE__STATUS_ENUM(name, value, msg) CACHE_##name = (value),
  CACHE_STATUS_MAP(CACHE__STATUS_ENUM)
#undef CACHE__STATUS_ENUM
} cache_status_t;

/* A human-readable message for a status ("invalid argument"). Never NULL:
 * an unknown code gives "unknown status". The string is static. */
CACHE_EXTERN const char *cache_strerror(int status);
/* The symbolic name of a status ("CACHE_EINVAL"), or "CACHE_UNKNOWN". */
CACHE_EXTERN const char *cache_err_name(int status);

/* ---- limits ------------------------------------------------------------ */
#define CACHE_KEY_MAX 65535u          /* a key is 1 to 65,535 bytes */
#define CACHE_VALUE_MAX 0xffffffffu   /* a value is 0 to 4 GiB - 1 bytes */
#define CACHE_TTL_NEVER UINT64_MAX    /* a ttl_ms that never expires */

/* ---- eviction policies ------------------------------------------------- */
/* XX(name, value, text) */
#define CACHE_POLICY_MAP(XX)                                                   \
  XX(FIFO, 0, "fifo") /* evict the oldest insertion (the seed's rule) */      \
  XX(LRU, 1, "lru")   /* evict the least recently read or written */

typedef enum cache_policy {
#define CACHE__POLICY_ENUM(name, value, text) CACHE_POLICY_##name = (value),
  CACHE_POLICY_MAP(CACHE__POLICY_ENUM)
#undef CACHE__POLICY_ENUM
} cache_policy_t;

/* "fifo", "lru", ...; NULL for an unknown policy. */
CACHE_EXTERN const char *cache_policy_name(int policy);

/* ---- options ----------------------------------------------------------- */
typedef struct cache_options {
  /* sizeof(cache_options_t) as the caller knows it; set by
   * cache_options_init() and cache_preset_options(). */
  size_t struct_size;
  /* Name for reports; copied by cache_create(). NULL means "". */
  const char *name;
  /* Default time to live of an entry in milliseconds; 0 = no expiry. */
  uint64_t ttl_ms;
  /* Bound on the number of entries; 0 = unbounded. */
  uint64_t max_entries;
  /* Bound on the bytes the entries occupy (see cache_stats_t.bytes);
   * 0 = unbounded. */
  uint64_t max_bytes;
  /* Period of the background expiry pass in milliseconds; 0 = none (expired
   * entries are still never returned, and cache_cleanup() removes them). */
  uint64_t cleanup_interval_ms;
  /* Retries of a failed cleanup pass, and the base of their exponential
   * backoff (retry_base_ms * 2^attempt). */
  uint32_t max_retries;
  uint32_t retry_base_ms;
  /* Footprint in MiB above which the cache raises memory alerts; 0 = off. */
  uint64_t memory_threshold_mb;
  /* One of CACHE_POLICY_*. */
  int32_t policy;
  int32_t reserved0; /* must be 0 */
  /* Time source in milliseconds, for tests and simulations; NULL = the
   * monotonic clock. It must never go backwards, may be called from any
   * thread at any time, and must not call into the cache. */
  uint64_t (*clock_ms)(void *clock_ctx);
  void *clock_ctx;
} cache_options_t;

/* Fills *options with the defaults and sets struct_size: no name, no
 * expiry, unbounded, no background cleanup, 3 retries from 1000 ms, no
 * memory threshold, policy LRU, monotonic clock. NULL is ignored. */
CACHE_EXTERN void cache_options_init(cache_options_t *options);

/* ---- presets (the four named caches of the original application) ------- */
/* XX(name, value, cache name, ttl ms, max entries, cleanup ms, retries, MiB) */
#define CACHE_PRESET_MAP(XX)                                                   \
  XX(PROPOSAL, 0, "proposalCache", 600000, 500, 60000, 3, 50)                  \
  XX(USER, 1, "userCache", 1800000, 200, 60000, 3, 30)                         \
  XX(MARKET_DATA, 2, "marketDataCache", 3600000, 100, 60000, 3, 20)            \
  XX(CALCULATION, 3, "calculationCache", 300000, 1000, 60000, 3, 100)

typedef enum cache_preset {
#define CACHE__PRESET_ENUM(name, value, ...) CACHE_PRESET_##name = (value),
  CACHE_PRESET_MAP(CACHE__PRESET_ENUM)
#undef CACHE__PRESET_ENUM
} cache_preset_t;

/* Fills *options as cache_options_init() does, then applies a preset.
 * Returns CACHE_OK, or CACHE_EINVAL for NULL or an unknown preset (then
 * *options is untouched). */
CACHE_EXTERN int cache_preset_options(int preset, cache_options_t *options);

/* ---- life cycle -------------------------------------------------------- */
typedef struct cache cache_t; /* opaque */

/* Creates a cache. On success *out holds a handle the caller releases with
 * cache_destroy(). Errors: CACHE_EINVAL (NULL argument, struct_size smaller
 * than the first version's or larger with non-zero bytes past what this
 * library knows, unknown policy, non-zero reserved field), CACHE_ENOMEM.
 * On error *out is left untouched. */
CACHE_EXTERN int cache_create(const cache_options_t *options, cache_t **out);

/* Preset constructors: cache_create() with cache_preset_options(). */
CACHE_EXTERN int cache_create_proposal(cache_t **out);
CACHE_EXTERN int cache_create_user(cache_t **out);
CACHE_EXTERN int cache_create_market_data(cache_t **out);
CACHE_EXTERN int cache_create_calculation(cache_t **out);

/* Frees every entry; afterwards every call on the handle except
 * cache_destroy() returns CACHE_ECLOSED (cache_count() returns 0). Returns
 * CACHE_OK, CACHE_ECLOSED if already closed, CACHE_EINVAL for NULL. */
CACHE_EXTERN int cache_close(cache_t *cache);

/* Closes the cache if it is open and releases the handle. NULL-safe. No
 * other thread may use the handle during or after this call. */
CACHE_EXTERN void cache_destroy(cache_t *cache);

/* The name given at creation ("" if none). Valid until cache_destroy(). */
CACHE_EXTERN const char *cache_name(const cache_t *cache);

/* ---- entries ----------------------------------------------------------- */
/* Stores a copy of value under a copy of key, replacing any entry with the
 * same key (a replacement is a new insertion for the policy). ttl_ms: 0 =
 * the cache's default, CACHE_TTL_NEVER = never expires; a ttl whose
 * deadline would pass the end of the clock saturates to "never". If the
 * cache is full, entries are evicted by its policy (a victim that had
 * already expired counts as an expiration, not an eviction). A replacement
 * never evicts another entry to respect max_entries; it may to respect
 * max_bytes when the new value is larger.
 * Returns CACHE_OK; CACHE_EINVAL (NULL cache or key, key_len 0 or over
 * CACHE_KEY_MAX, NULL value with value_len > 0); CACHE_ETOOBIG (value_len
 * over CACHE_VALUE_MAX, or the entry alone exceeds max_bytes);
 * CACHE_ENOMEM; CACHE_ECLOSED. On any error the cache is unchanged. */
CACHE_EXTERN int cache_set(cache_t *cache, const void *key, size_t key_len,
                           const void *value, size_t value_len,
                           uint64_t ttl_ms);

/* Copies the value stored under key into buf. *value_len receives the
 * value's length on CACHE_OK and on CACHE_ETOOSMALL (then nothing is
 * copied: call again with a buffer that large; buf may be NULL when
 * buf_len is 0 to ask only the size). An expired entry is never returned:
 * a lookup that meets one removes it and counts an expiration.
 * Returns CACHE_OK, CACHE_NOT_FOUND, CACHE_ETOOSMALL, CACHE_EINVAL (NULL
 * cache, key or value_len; bad key_len; NULL buf with buf_len > 0),
 * CACHE_ECLOSED. Finding a live entry counts as a hit, whatever the
 * buffer. */
CACHE_EXTERN int cache_get(cache_t *cache, const void *key, size_t key_len,
                           void *buf, size_t buf_len, size_t *value_len);

/* CACHE_OK if a live entry exists for key, CACHE_NOT_FOUND if not; errors
 * as cache_get(). Counts neither a hit nor a miss and does not refresh the
 * entry's recency. */
CACHE_EXTERN int cache_contains(cache_t *cache, const void *key,
                                size_t key_len);

/* Removes the entry for key. CACHE_OK if one was removed, CACHE_NOT_FOUND
 * if there was none (or it had expired); errors as cache_get(). */
CACHE_EXTERN int cache_delete(cache_t *cache, const void *key, size_t key_len);

/* Removes every entry. CACHE_OK, CACHE_EINVAL, CACHE_ECLOSED. */
CACHE_EXTERN int cache_clear(cache_t *cache);

/* Number of entries held (expired ones not yet removed included); 0 for
 * NULL or a closed cache. */
CACHE_EXTERN uint64_t cache_count(cache_t *cache);

/* Runs one expiry pass now. *removed (may be NULL) receives the number of
 * expired entries removed. CACHE_OK, CACHE_EINVAL, CACHE_ECLOSED,
 * CACHE_EBUSY (a pass is already running on this cache). */
CACHE_EXTERN int cache_cleanup(cache_t *cache, uint64_t *removed);

/* ---- statistics -------------------------------------------------------- */
typedef struct cache_stats {
  size_t struct_size; /* set by the caller: sizeof(cache_stats_t) */
  uint64_t entries;   /* entries held now */
  /* Bytes the entries occupy: for each entry its key, value and the
   * library's per-entry header, as the allocator really sized the block. */
  uint64_t bytes;
  uint64_t hits;        /* gets that found a live entry */
  uint64_t misses;      /* gets that did not; hits + misses = gets */
  uint64_t sets;        /* successful cache_set calls */
  uint64_t deletes;     /* entries removed by cache_delete */
  uint64_t evictions;   /* entries removed to respect the bounds */
  uint64_t expirations; /* expired entries removed (by any path) */
  uint64_t cleanup_runs;   /* expiry passes completed */
  uint64_t cleanup_errors; /* expiry passes that failed */
  uint64_t max_entries;    /* the bound in force; 0 = unbounded */
  uint64_t max_bytes;      /* the bound in force; 0 = unbounded */
} cache_stats_t;

/* Fills *stats in constant time (no scan). The caller sets
 * stats->struct_size, normally to sizeof(cache_stats_t); the library writes
 * only the fields it knows that lie within struct_size, and zeroes any bytes
 * past them up to struct_size (fields of a newer header it does not have).
 * struct_size itself is left as it was. Returns CACHE_OK; CACHE_EINVAL
 * (NULL, or struct_size smaller than the first version's, in which case
 * nothing is written); CACHE_ECLOSED. */
CACHE_EXTERN int cache_stats(cache_t *cache, cache_stats_t *stats);

#ifdef __cplusplus
}
#endif
#endif /* CACHE_H */
