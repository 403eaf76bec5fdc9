/*
 * libcache_redis: a near cache. A local libcache cache in front of a shared
 * Redis, kept coherent with every other process that uses the same Redis
 * and namespace through Redis's client-side caching (CLIENT TRACKING in
 * broadcast mode, invalidations read from __redis__:invalidate).
 *
 * It is a separate library, libcache_redis.so.1 (pkg-config
 * libcache-redis), built on the public interface of cache.h only. The
 * conventions are those of cache.h: int statuses (CACHE_OK,
 * CACHE_NOT_FOUND, negative errors), opaque handles, structs that start
 * with struct_size, every call thread-safe, a call that fails changes
 * nothing locally.
 *
 * Consistency
 *  - Redis is the truth. set() and delete() write Redis first, then drop
 *    the local copy; every other near cache on the namespace drops its
 *    copy when Redis's invalidation reaches it.
 *  - A fill (a get that missed locally and read Redis) never installs a
 *    value older than an invalidation this near cache has already
 *    received for that key.
 *  - While the invalidation connection is down, or its heartbeat has gone
 *    unanswered for longer than heartbeat_ms, the local tier is cleared
 *    and bypassed: every get reads Redis, until the subscription is back.
 *  - No transactions across keys.
 */
#ifndef CACHE_REDIS_H
#define CACHE_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export macro ------------------------------------------------------ */
#if defined(CACHE_REDIS_STATIC)
#define CACHE_REDIS_EXTERN
#elif defined(_WIN32)
#if defined(CACHE_REDIS_BUILDING)
#define CACHE_REDIS_EXTERN __declspec(dllexport)
#else
#define CACHE_REDIS_EXTERN __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define CACHE_REDIS_EXTERN __attribute__((visibility("default")))
#else
#define CACHE_REDIS_EXTERN
#endif

/* ---- status codes ------------------------------------------------------ */
/* Besides the statuses of cache.h. Their values lie far below cache.h's so
 * that cache.h can grow without meeting them. XX(name, value, message) */
#define CACHE_REDIS_STATUS_MAP(XX)                                             \
  XX(EUNAVAILABLE, -100,                                                       \
     "the shared tier is unavailable (connection failed or timed out)")        \
  XX(EREPLY, -101, "the shared tier refused the command")

typedef enum cache_redis_status {
#define CACHE_REDIS__STATUS_ENUM(name, value, msg) CACHE_REDIS_##name = (value),
  CACHE_REDIS_STATUS_MAP(CACHE_REDIS__STATUS_ENUM)
#undef CACHE_REDIS__STATUS_ENUM
} cache_redis_status_t;

/* A message for any status, of this header or of cache.h (for which it is
 * cache_strerror()'s). Never NULL; the string is static. */
CACHE_REDIS_EXTERN const char *cache_redis_strerror(int status);

/* ---- options ----------------------------------------------------------- */
typedef struct cache_redis_options {
  /* sizeof(cache_redis_options_t); set by cache_redis_options_init(). */
  size_t struct_size;
  /* Redis's address; copied by cache_redis_create(). Default
   * "127.0.0.1", 6379. */
  const char *host;
  int32_t port;
  /* Bound in milliseconds on every connect and every command (reply
   * included); a call that waits longer returns
   * CACHE_REDIS_EUNAVAILABLE. Must be > 0. Default 1000. */
  uint32_t timeout_ms;
  /* Namespace: prepended to every key in Redis, and the prefix whose
   * changes this near cache is told about. Near caches that share data use
   * the same one. Copied; NULL = "" (every key of the database). */
  const char *prefix;
  /* Options of the local tier, as for cache_create(); NULL = the
   * defaults of cache_options_init(). Its ttl_ms also bounds the local
   * lifetime of every value filled from Redis. */
  const cache_options_t *local;
  /* Period of the PING on the invalidation connection; an answer missing
   * for longer than this clears and bypasses the local tier until the
   * connection is back. Must be > 0. Default 1000. */
  uint32_t heartbeat_ms;
  /* Upper bound in milliseconds on the local lifetime of any filled value,
   * whatever Redis and the local options say: a last guard against an
   * invalidation lost without the connection noticing. 0 = none (the
   * default). */
  uint64_t stale_bound_ms;
} cache_redis_options_t;

/* Fills *options with the defaults above and sets struct_size. NULL is
 * ignored. */
CACHE_REDIS_EXTERN void
cache_redis_options_init(cache_redis_options_t *options);

/* ---- life cycle -------------------------------------------------------- */
typedef struct cache_redis cache_redis_t; /* opaque */

/* Creates a near cache: its local cache, a command connection and a
 * background thread that holds the invalidation connection. Redis need
 * not be reachable: until it is, calls return CACHE_REDIS_EUNAVAILABLE
 * and the near cache keeps trying. On success *out holds a handle the
 * caller releases with cache_redis_destroy(). Errors: CACHE_EINVAL (NULL
 * argument, struct_size smaller than this layout or larger with non-zero
 * bytes past it, NULL host, port outside 1..65535, timeout_ms or
 * heartbeat_ms 0, invalid local options), CACHE_ENOMEM. On error *out is
 * untouched. */
CACHE_REDIS_EXTERN int cache_redis_create(const cache_redis_options_t *options,
                                          cache_redis_t **out);

/* Stops the background thread, closes both connections and destroys the
 * local cache. NULL-safe. No other thread may use the handle during or
 * after this call. */
CACHE_REDIS_EXTERN void cache_redis_destroy(cache_redis_t *nc);

/* ---- entries ----------------------------------------------------------- */
/* Copies the value of key into buf: from the local tier if it holds it,
 * else from Redis (GET of prefix + key), and then keeps it locally for at
 * most the key's remaining time to live in Redis, the local ttl_ms and
 * stale_bound_ms. *value_len receives the length on CACHE_OK and on
 * CACHE_ETOOSMALL (buf may be NULL when buf_len is 0).
 * Returns CACHE_OK, CACHE_NOT_FOUND, CACHE_ETOOSMALL, CACHE_EINVAL (NULL
 * nc, key or value_len, key_len 0 or over CACHE_KEY_MAX, NULL buf with
 * buf_len > 0), CACHE_REDIS_EUNAVAILABLE, CACHE_REDIS_EREPLY (the key
 * holds no string, ...). */
CACHE_REDIS_EXTERN int cache_redis_get(cache_redis_t *nc, const void *key,
                                       size_t key_len, void *buf,
                                       size_t buf_len, size_t *value_len);

/* Stores value under prefix + key in Redis (SET, with PX ttl_ms when
 * ttl_ms > 0; 0 = no expiry), then drops the local copy; every other near
 * cache on the namespace drops its own on the invalidation. Returns
 * CACHE_OK, CACHE_EINVAL (bad key as cache_redis_get(), NULL value with
 * value_len > 0), CACHE_ETOOBIG (value_len over CACHE_VALUE_MAX),
 * CACHE_REDIS_EUNAVAILABLE (then Redis may or may not hold the value, and
 * the local copy is dropped all the same), CACHE_REDIS_EREPLY. */
CACHE_REDIS_EXTERN int cache_redis_set(cache_redis_t *nc, const void *key,
                                       size_t key_len, const void *value,
                                       size_t value_len, uint64_t ttl_ms);

/* Deletes prefix + key in Redis (DEL), then drops the local copy.
 * CACHE_OK if Redis held the key, CACHE_NOT_FOUND if not; errors as
 * cache_redis_set(). */
CACHE_REDIS_EXTERN int cache_redis_delete(cache_redis_t *nc, const void *key,
                                          size_t key_len);

/* ---- statistics -------------------------------------------------------- */
typedef struct cache_redis_stats {
  size_t struct_size;       /* set by the caller */
  uint64_t local_hits;      /* gets served by the local tier */
  uint64_t redis_hits;      /* gets served by Redis */
  uint64_t misses;          /* gets that found the key nowhere */
  uint64_t invalidations;   /* keys named by invalidations received */
  uint64_t fills_discarded; /* fills not installed: invalidated meanwhile */
  uint64_t reconnects;      /* connections re-established after a loss */
  uint64_t degraded_ms;     /* time the local tier was bypassed, so far */
  uint64_t flushes;         /* times the whole local tier was cleared */
  /* 1 while the local tier is in use (the invalidation connection is
   * subscribed and answering), 0 while it is bypassed. */
  int32_t local_active;
  int32_t reserved0;
} cache_redis_stats_t;

/* Fills *stats. The caller sets struct_size (normally
 * sizeof(cache_redis_stats_t)); the library writes the fields within it
 * and zeroes bytes past the ones it knows. CACHE_OK, or CACHE_EINVAL (NULL,
 * or struct_size smaller than this first layout; nothing is written). */
CACHE_REDIS_EXTERN int cache_redis_stats(cache_redis_t *nc,
                                         cache_redis_stats_t *stats);

#ifdef __cplusplus
}
#endif

#endif /* CACHE_REDIS_H */
