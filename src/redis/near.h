/*
 * The near cache's private parts, shared by its source files:
 *   near.c  life cycle, options, statistics, statuses
 *   ops.c   get, set, delete: the local tier, the fill and its race
 *   conn.c  connections to Redis with bounded waits
 *   sub.c   the background thread that holds the invalidation connection
 *
 * Only cache.h and cache_redis.h are used: the near cache is a client of
 * libcache like any other.
 */
#ifndef CACHE_REDIS_NEAR_H
#define CACHE_REDIS_NEAR_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache_redis.h"

/* Invalidation counters: a key hashes to one of these. A slot shared by
 * two keys only makes a fill of one discarded for a write of the other,
 * which is safe. */
#define NEAR_SLOTS 4096u

typedef struct near_counters {
  atomic_uint_fast64_t local_hits;
  atomic_uint_fast64_t redis_hits;
  atomic_uint_fast64_t misses;
  atomic_uint_fast64_t invalidations;
  atomic_uint_fast64_t fills_discarded;
  atomic_uint_fast64_t reconnects;
  atomic_uint_fast64_t flushes;
  /* Degraded time: the total of closed periods, and the start of the open
   * one (0 when the local tier is in use). */
  atomic_uint_fast64_t degraded_total_ms;
  atomic_uint_fast64_t degraded_since_ms;
} near_counters_t;

struct cache_redis {
  cache_t *local;
  char *host;
  int port;
  uint32_t timeout_ms;
  uint32_t heartbeat_ms;
  uint64_t stale_bound_ms;
  uint64_t local_ttl_ms; /* the local tier's ttl_ms; 0 = none */
  char *prefix;
  size_t prefix_len;

  /* The command connection: one at a time uses it; NULL until connected
   * or after a failure, reconnected by the next call. */
  pthread_mutex_t cmd_lock;
  redisContext *cmd;
  bool cmd_was_connected; /* under cmd_lock: a later connect is a reconnect */

  /* Whether gets may use the local tier; written by the subscriber thread
   * only. */
  atomic_bool local_active;
  /* Bumped by every invalidation and every flush; a slot holds the value
   * of the last invalidation of a key that hashes to it. */
  atomic_uint_fast64_t seq;
  atomic_uint_fast64_t flush_seq;
  atomic_uint_fast64_t slots[NEAR_SLOTS];

  near_counters_t counters;

  /* The subscriber thread, woken for shutdown through a pipe. */
  pthread_t thread;
  bool thread_started;
  atomic_bool stopping;
  int wake_fd[2];
};

/* ---- near.c ------------------------------------------------------------- */
uint64_t near_now_ms(void);
/* Clears the local tier and marks every fill in flight stale. */
void near_flush(cache_redis_t *nc);
/* The local tier goes out of use (flushed) or back into use. */
void near_set_active(cache_redis_t *nc, bool active);

/* ---- ops.c -------------------------------------------------------------- */
/* Records an invalidation of key (without the prefix) and drops it
 * locally. */
void near_invalidate(cache_redis_t *nc, const void *key, size_t key_len);

/* ---- conn.c ------------------------------------------------------------- */
/* A connection to nc's Redis, with connect and command waits bounded by
 * timeout_ms; NULL if it cannot be made. */
redisContext *near_connect(const cache_redis_t *nc);
/* Runs one command on the command connection, connecting first if
 * needed. *reply receives the reply (freed by the caller) on CACHE_OK;
 * CACHE_REDIS_EUNAVAILABLE when the connection failed or timed out (then
 * it is closed, for the next call to make anew). */
int near_command(cache_redis_t *nc, int argc, const char **argv,
                 const size_t *argv_len, redisReply **reply);
/* The same for a pipeline of n commands of argc[i] arguments each;
 * replies[i] receives each reply. */
int near_pipeline(cache_redis_t *nc, int n, const int *argc,
                  const char **argv[], const size_t *argv_len[],
                  redisReply **replies);
/* Frees the command connection. */
void near_close_command(cache_redis_t *nc);

/* ---- sub.c -------------------------------------------------------------- */
/* Starts and stops the subscriber thread. */
int near_sub_start(cache_redis_t *nc);
void near_sub_stop(cache_redis_t *nc);

#endif /* CACHE_REDIS_NEAR_H */
