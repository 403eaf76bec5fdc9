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
  XX(EBUSY, -6, "operation already in progress")                               \
  XX(EIO, -7, "a system source could not be read or parsed")

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
#define CACHE_KEY_MAX 65535u        /* a key is 1 to 65,535 bytes */
#define CACHE_VALUE_MAX 0xffffffffu /* a value is 0 to 4 GiB - 1 bytes */
#define CACHE_TTL_NEVER UINT64_MAX  /* a ttl_ms that never expires */

/* ---- eviction policies ------------------------------------------------- */
/* XX(name, value, text) */
#define CACHE_POLICY_MAP(XX)                                                   \
  XX(FIFO, 0, "fifo") /* evict the oldest insertion first */                  \
  XX(LRU, 1, "lru")   /* evict the least recently read or written */           \
  /* W-TinyLFU (the default): a window of recent entries, then admission by  \
   * estimated frequency into a segmented LRU; the window adapts to the      \
   * workload, from 1% of the cache to nearly all of it */                   \
  XX(TINYLFU, 2, "tinylfu")

typedef enum cache_policy {
#define CACHE__POLICY_ENUM(name, value, text) CACHE_POLICY_##name = (value),
  CACHE_POLICY_MAP(CACHE__POLICY_ENUM)
#undef CACHE__POLICY_ENUM
} cache_policy_t;

/* "fifo", "lru", ...; NULL for an unknown policy. */
CACHE_EXTERN const char *cache_policy_name(int policy);

/* ---- removal reasons --------------------------------------------------- */
/* Why an entry left the cache, as given to the on_remove listener.
 * XX(name, value, text) */
#define CACHE_REMOVAL_MAP(XX)                                                  \
  XX(EXPIRED, 1, "expired")   /* its time to live ran out */                   \
  XX(EVICTED, 2, "evicted")   /* made room under max_entries/max_bytes */      \
  XX(MEMORY, 3, "memory")     /* evicted to bring memory under a threshold */  \
  XX(DELETED, 4, "deleted")   /* cache_delete() */                             \
  XX(REPLACED, 5, "replaced") /* cache_set() stored a new value */             \
  XX(CLEARED, 6, "cleared")   /* cache_clear(), cache_close(), shutdown */

typedef enum cache_removal {
#define CACHE__REMOVAL_ENUM(name, value, text) CACHE_REMOVED_##name = (value),
  CACHE_REMOVAL_MAP(CACHE__REMOVAL_ENUM)
#undef CACHE__REMOVAL_ENUM
} cache_removal_t;

/* "expired", "evicted", ...; NULL for an unknown reason. */
CACHE_EXTERN const char *cache_removal_name(int reason);

/* Called for each entry that leaves a cache, after it has left and outside
 * every lock of the library, so it may call back into the same cache (even
 * cache_set) or others. key and value are valid only during the call. It
 * runs on the thread whose call removed the entry, or on the background
 * cleanup thread for expiry passes; it must not cache_destroy() the cache it
 * is called for. A runtime that can run callbacks on one thread only (as
 * Node.js FFI does) should not install a listener or a clock_ms for a cache
 * with a cleanup interval: the background thread would wait for that
 * thread. */
typedef void (*cache_remove_cb)(const void *key, size_t key_len,
                                const void *value, size_t value_len, int reason,
                                void *ctx);

/* ---- alerts ------------------------------------------------------------ */
/* XX(name, value, text) */
#define CACHE_ALERT_LEVEL_MAP(XX)                                              \
  XX(WARNING, 1, "warning")                                                    \
  XX(CRITICAL, 2, "critical")

typedef enum cache_alert_level {
#define CACHE__ALERT_ENUM(name, value, text) CACHE_ALERT_##name = (value),
  CACHE_ALERT_LEVEL_MAP(CACHE__ALERT_ENUM)
#undef CACHE__ALERT_ENUM
} cache_alert_level_t;

/* "warning", "critical"; NULL for an unknown level. */
CACHE_EXTERN const char *cache_alert_level_name(int level);

#define CACHE_ALERT_MESSAGE_MAX 112 /* bytes, NUL included */
#define CACHE_ALERTS_KEPT 64        /* the ring keeps the newest this many */

typedef struct cache_alert {
  size_t struct_size; /* see cache_alerts() */
  int32_t level;      /* CACHE_ALERT_* */
  int32_t reserved0;
  uint64_t time_ms; /* the cache's clock when it was raised */
  char message[CACHE_ALERT_MESSAGE_MAX]; /* NUL-terminated */
} cache_alert_t;

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
  /* Period of the background expiry pass in milliseconds, on the cache's
   * clock; 0 = none (expired entries are still never returned, and
   * cache_cleanup() removes them). One thread serves every cache of the
   * process, and exists only while some cache has an interval. */
  uint64_t cleanup_interval_ms;
  /* A failed background pass is retried up to max_retries times, the n-th
   * retry (n = 1, 2, ...) after retry_base_ms * 2^n ms; after the last
   * failure the cache raises a critical alert and waits for its next
   * interval. A success resets the count of consecutive failures. */
  uint32_t max_retries;
  uint32_t retry_base_ms;
  /* Footprint (cache_stats_t bytes + table_bytes) in MiB above which the
   * cache raises a warning alert; above twice it, a critical alert and an
   * aggressive cleanup (expired entries, then evictions with reason
   * CACHE_REMOVED_MEMORY) down to half of it. Checked after inserts and by
   * the background thread. 0 = off. */
  uint64_t memory_threshold_mb;
  /* One of CACHE_POLICY_*. */
  int32_t policy;
  int32_t reserved0; /* must be 0 */
  /* Time source in milliseconds, for tests and simulations; NULL = the
   * system's monotonic clock, read at the resolution of the scheduler tick
   * (1 to 4 ms) because it is read on every call. It must never go backwards,
   * may be called from any thread at any time, and must not call into the
   * cache. The background thread cannot know when such a clock moves, so it
   * looks at a cache with a clock of its own every few milliseconds of real
   * time. */
  uint64_t (*clock_ms)(void *clock_ctx);
  void *clock_ctx;
  /* Listener for removed entries (see cache_remove_cb); NULL = none. */
  cache_remove_cb on_remove;
  void *on_remove_ctx;
} cache_options_t;

/* Fills *options with the defaults and sets struct_size to
 * sizeof(cache_options_t) as this header declares it: no name, no expiry,
 * unbounded, no background cleanup, 3 retries from 1000 ms, no memory
 * threshold, policy TINYLFU, monotonic clock, no listener. NULL is ignored.
 * It writes the whole struct of the header it was built with: a caller
 * whose struct has another layout (an FFI mirror, an older header) uses
 * cache_options_init_sized(). When the struct grows, this function gets a
 * new symbol version and programs built before keep the old one. */
CACHE_EXTERN void cache_options_init(cache_options_t *options);

/* cache_options_init() for a struct of struct_size bytes: writes exactly
 * that many (the defaults for the fields it covers, zero past the fields
 * this library knows) and sets struct_size. CACHE_OK, or CACHE_EINVAL for
 * NULL or a struct_size smaller than the first layout's. */
CACHE_EXTERN int cache_options_init_sized(cache_options_t *options,
                                          size_t struct_size);

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
/* The same for a struct of struct_size bytes (see
 * cache_options_init_sized()). */
CACHE_EXTERN int cache_preset_options_sized(int preset,
                                            cache_options_t *options,
                                            size_t struct_size);

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

/* ---- load-through -------------------------------------------------------- */

/* Handed to a loader for the duration of its call: the loader stores the
 * value it produced with cache_load_put(). */
typedef struct cache_load cache_load_t;

/* Produces the value for key on a miss of cache_get_or_load(). It returns
 * CACHE_OK after calling cache_load_put() once, or any other status (an
 * error of its own choosing, negative or positive) to report a failure:
 * that status goes to every caller waiting for this key and nothing is
 * cached. It runs outside every lock of the library and may use the cache,
 * except to load the very key it is loading (that returns CACHE_EBUSY). */
typedef int (*cache_loader_cb)(const void *key, size_t key_len,
                               cache_load_t *load, void *ctx);

/* Gives the loaded value (copied) and its ttl (as cache_set()) to the
 * library. CACHE_OK, CACHE_EINVAL (NULL load, NULL value with a length,
 * called twice), CACHE_ETOOBIG (value_len over CACHE_VALUE_MAX). */
CACHE_EXTERN int cache_load_put(cache_load_t *load, const void *value,
                                size_t value_len, uint64_t ttl_ms);

/* cache_get() that fills a miss: exactly one caller per key runs `loader`
 * (single flight); callers that ask for the same key meanwhile wait for its
 * result instead of loading again. The loaded value is stored with
 * cache_set() and copied out as by cache_get() (CACHE_ETOOSMALL and the
 * size query work the same). Returns CACHE_OK; the loader's failure status
 * (nothing cached); CACHE_EBUSY if called from the loader of the same key;
 * the errors of cache_get() and cache_set(); CACHE_EINVAL for a NULL
 * loader. */
CACHE_EXTERN int cache_get_or_load(cache_t *cache, const void *key,
                                   size_t key_len, cache_loader_cb loader,
                                   void *loader_ctx, void *buf, size_t buf_len,
                                   size_t *value_len);

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

/* Runs one expiry pass now. The pass costs in proportion to the expired
 * entries, not the live ones, and holds no lock for more than a small
 * batch of them. *removed (may be NULL) receives the number of expired
 * entries removed. CACHE_OK, CACHE_EINVAL, CACHE_ECLOSED, CACHE_EBUSY (a
 * pass is already running on this cache, perhaps the background one). */
CACHE_EXTERN int cache_cleanup(cache_t *cache, uint64_t *removed);

/* ---- statistics -------------------------------------------------------- */
typedef struct cache_stats {
  size_t struct_size; /* set by the caller: sizeof(cache_stats_t) */
  uint64_t entries;   /* entries held now */
  /* Bytes the entries occupy: for each entry its key, value and the
   * library's per-entry header, as the allocator really sized the block. */
  uint64_t bytes;
  uint64_t hits;            /* gets that found a live entry */
  uint64_t misses;          /* gets that did not; hits + misses = gets */
  uint64_t sets;            /* successful cache_set calls */
  uint64_t deletes;         /* entries removed by cache_delete */
  uint64_t evictions;       /* entries removed to respect the bounds */
  uint64_t expirations;     /* expired entries removed (by any path) */
  uint64_t cleanup_runs;    /* expiry passes completed */
  uint64_t cleanup_errors;  /* expiry passes that failed */
  uint64_t max_entries;     /* the bound in force; 0 = unbounded */
  uint64_t max_bytes;       /* the bound in force; 0 = unbounded */
  uint64_t alerts_warning;  /* warning alerts raised, ever (saturating) */
  uint64_t alerts_critical; /* critical alerts raised, ever (saturating) */
  /* Bytes of the cache's own tables (hash buckets, expiry heaps); the
   * cache's footprint, compared with memory_threshold_mb, is bytes +
   * table_bytes. */
  uint64_t table_bytes;
  /* Resident bytes of the cache's own allocator arena (0 when the library
   * is built on the C library's malloc, which has no arenas). */
  uint64_t arena_resident_bytes;
  uint64_t memory_evictions; /* evictions to bring memory down (in evictions) */
  int32_t health;            /* CACHE_HEALTH_* now, see cache_health() */
  int32_t reserved0;
} cache_stats_t;

/* Fills *stats in constant time (no scan). The caller sets
 * stats->struct_size, normally to sizeof(cache_stats_t); the library writes
 * only the fields it knows that lie within struct_size, and zeroes any bytes
 * past them up to struct_size (fields of a newer header it does not have).
 * struct_size itself is left as it was. Returns CACHE_OK; CACHE_EINVAL
 * (NULL, or struct_size smaller than the first version's, in which case
 * nothing is written); CACHE_ECLOSED. */
CACHE_EXTERN int cache_stats(cache_t *cache, cache_stats_t *stats);

/* Copies up to max of the cache's most recent alerts into out, newest
 * first, and returns how many it copied. The caller sets out[0].struct_size
 * (normally sizeof(cache_alert_t)); it is the stride of the array, and each
 * copied element gets the same struct_size. Returns 0 for NULL, max 0, a
 * struct_size below the first version's, or a closed cache. The cache keeps
 * only the newest CACHE_ALERTS_KEPT alerts; the counters in cache_stats_t
 * count them all. */
CACHE_EXTERN size_t cache_alerts(cache_t *cache, cache_alert_t *out,
                                 size_t max);

/* ---- process memory ---------------------------------------------------- */

/* Bits of cache_memory_usage_t.sources: which groups of fields were read. */
#define CACHE_MEMORY_PROC 0x1u      /* rss, rss_peak, vm_size, data */
#define CACHE_MEMORY_CGROUP 0x2u    /* cgroup_usage, cgroup_limit */
#define CACHE_MEMORY_ALLOCATOR 0x4u /* je_* (absent with the libc build) */

typedef struct cache_memory_usage {
  size_t struct_size; /* set by the caller: sizeof(cache_memory_usage_t) */
  uint32_t sources; /* CACHE_MEMORY_* bits; fields of a missing source are 0 */
  uint32_t reserved0;
  /* From /proc/self/status: VmRSS, VmHWM, VmSize, VmData. */
  uint64_t rss_bytes;
  uint64_t rss_peak_bytes;
  uint64_t vm_size_bytes;
  uint64_t data_bytes;
  /* The process's memory cgroup (v2 memory.current / memory.max, or v1
   * memory.usage_in_bytes / memory.limit_in_bytes); a limit of UINT64_MAX
   * means none. */
  uint64_t cgroup_usage_bytes;
  uint64_t cgroup_limit_bytes;
  /* The library's jemalloc (all its arenas), after refreshing its
   * statistics: stats.allocated, active, resident, mapped, retained. */
  uint64_t je_allocated;
  uint64_t je_active;
  uint64_t je_resident;
  uint64_t je_mapped;
  uint64_t je_retained;
  /* Resident bytes the last cache_memory_purge() gave back. */
  uint64_t purge_released_bytes;
} cache_memory_usage_t;

/* Fills *out with the process's memory figures. A source that does not
 * exist (no cgroup, no jemalloc) leaves its bit out of `sources` and its
 * fields 0, and the call still succeeds; a source that exists but cannot
 * be parsed fails the call. CACHE_OK; CACHE_EINVAL (NULL, or struct_size
 * smaller than the first version's); CACHE_EIO. */
CACHE_EXTERN int cache_memory_usage(cache_memory_usage_t *out);

/* 1 if the process's resident memory is above threshold_mb MiB, 0 if not,
 * or a negative error of cache_memory_usage(). */
CACHE_EXTERN int cache_memory_is_high(uint64_t threshold_mb);

/* Returns the unused dirty pages of the library's allocator arenas to the
 * operating system (jemalloc's arena purge; malloc_trim with the libc
 * build), and records in cache_memory_usage_t.purge_released_bytes how much
 * resident memory that released. CACHE_OK or CACHE_EIO. */
CACHE_EXTERN int cache_memory_purge(void);

/* Above this, the process's memory (its resident set, or its cgroup usage
 * where /proc cannot tell) counts as too high: every cache then removes its
 * expired entries and evicts by its policy, largest cache first, until
 * enough is freed, and the library's arenas are purged. The background
 * cleanup thread checks it every second while a limit is set. 0 = no
 * limit (the default). Returns CACHE_OK. */
CACHE_EXTERN int cache_set_process_memory_limit(uint64_t mb);

/* ---- health ------------------------------------------------------------ */

/* XX(name, value, text) */
#define CACHE_HEALTH_MAP(XX)                                                   \
  XX(HEALTHY, 0, "healthy")                                                    \
  XX(WARNING, 1, "warning")                                                    \
  XX(CRITICAL, 2, "critical")

typedef enum cache_health_level {
#define CACHE__HEALTH_ENUM(name, value, text) CACHE_HEALTH_##name = (value),
  CACHE_HEALTH_MAP(CACHE__HEALTH_ENUM)
#undef CACHE__HEALTH_ENUM
} cache_health_level_t;

/* How long, on the cache's clock, an alert keeps a cache unhealthy. */
#define CACHE_HEALTH_WINDOW_MS 300000u

/* "healthy", "warning", "critical"; NULL for an unknown level. */
CACHE_EXTERN const char *cache_health_name(int level);

/* The health of one cache. CRITICAL if its footprint is above twice its
 * memory_threshold_mb now, or it raised a critical alert within the last
 * CACHE_HEALTH_WINDOW_MS; else WARNING if its footprint is above the
 * threshold now, or it raised a warning within the window; else HEALTHY. A
 * condition that has cleared stops counting once the window has passed.
 * Returns the level, or CACHE_EINVAL / CACHE_ECLOSED. */
CACHE_EXTERN int cache_health(cache_t *cache);

typedef struct cache_health_report {
  size_t struct_size; /* set by the caller */
  int32_t overall;    /* the worst health of any open cache */
  int32_t reserved0;
  uint64_t caches;      /* open caches */
  uint64_t healthy;     /* ... of which healthy */
  uint64_t warning;     /* ... warning */
  uint64_t critical;    /* ... critical */
  uint64_t total_bytes; /* their footprints (bytes + table_bytes) added up */
  uint64_t rss_bytes;   /* the process's resident set; 0 if unknown */
} cache_health_report_t;

/* The health of every open cache of the process, summed up. CACHE_OK or
 * CACHE_EINVAL (NULL, or struct_size smaller than the first version's). */
CACHE_EXTERN int cache_health_report(cache_health_report_t *out);

/* The health report with every open cache's name, health, statistics and
 * recent alerts, as a JSON document; and the statistics in the Prometheus
 * text exposition format (counters and gauges named libcache_*, labelled
 * with cache="name" and cache_id). Each returns a NUL-terminated string the
 * caller frees with cache_free_string(), or NULL when out of memory. */
CACHE_EXTERN char *cache_health_json(void);
CACHE_EXTERN char *cache_metrics_prometheus(void);
CACHE_EXTERN void cache_free_string(char *s);

/* ---- process-wide ------------------------------------------------------ */

/* Closes every live cache of the process, as cache_close() does (listeners
 * are called for the entries), and so stops the background cleanup thread.
 * Every later call on those handles returns CACHE_ECLOSED until
 * cache_destroy() releases them. Caches created afterwards work normally.
 * Idempotent; safe from any thread, but not from a signal handler (see
 * cache_install_signal_handlers()). */
CACHE_EXTERN void cache_shutdown_all(void);

/* Opt-in shutdown on SIGTERM, SIGINT, SIGUSR1 and SIGUSR2. The library
 * installs no handler unless this is called. The handler itself only
 * writes the signal number to a pipe; a helper thread then runs
 * cache_shutdown_all(), restores the signal's previous disposition and
 * raises the signal again, so the process then ends (or not) exactly as it
 * would have without the library. Each signal is handled once this way.
 * Crashes (SIGSEGV and the like) are not caught. Returns CACHE_OK (also
 * when already installed), CACHE_ENOMEM when the pipe or thread cannot be
 * created, CACHE_EINVAL when sigaction fails. */
CACHE_EXTERN int cache_install_signal_handlers(void);

#ifdef __cplusplus
}
#endif
#endif /* CACHE_H */
