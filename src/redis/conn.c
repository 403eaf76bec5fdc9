/* Connections to Redis. Every wait is bounded: the connect by
 * redisConnectWithTimeout(), each read and write by the socket timeouts
 * of redisSetTimeout(), and the wait for the command connection by a
 * timed lock. A connection that failed once is never reused: hiredis
 * leaves a context unusable after an I/O error or a timeout, and a reply
 * that arrives late would be taken for the next command's. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "near.h"

static struct timeval near_timeval(uint32_t ms) {
  struct timeval tv;
  tv.tv_sec = (time_t)(ms / 1000u);
  tv.tv_usec = (suseconds_t)((ms % 1000u) * 1000u);
  return tv;
}

redisContext *near_connect(const cache_redis_t *nc) {
  struct timeval tv = near_timeval(nc->timeout_ms);
  redisContext *c = redisConnectWithTimeout(nc->host, nc->port, tv);
  if (c == NULL)
    return NULL;
  if (c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK) {
    redisFree(c);
    return NULL;
  }
  return c;
}

/* Waits for the command connection at most timeout_ms: a thread queued
 * behind a slow command must not wait for its whole timeout and then
 * its own. */
static int near_lock_command(cache_redis_t *nc) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  uint64_t ns =
      (uint64_t)deadline.tv_nsec + (uint64_t)nc->timeout_ms * 1000000u;
  deadline.tv_sec += (time_t)(ns / 1000000000u);
  deadline.tv_nsec = (long)(ns % 1000000000u);
  return pthread_mutex_timedlock(&nc->cmd_lock, &deadline) == 0
             ? CACHE_OK
             : CACHE_REDIS_EUNAVAILABLE;
}

/* Under cmd_lock: makes sure there is a command connection. */
static int near_ensure_command(cache_redis_t *nc) {
  if (nc->cmd != NULL)
    return CACHE_OK;
  nc->cmd = near_connect(nc);
  if (nc->cmd == NULL)
    return CACHE_REDIS_EUNAVAILABLE;
  if (nc->cmd_was_connected)
    atomic_fetch_add(&nc->counters.reconnects, 1);
  nc->cmd_was_connected = true;
  return CACHE_OK;
}

/* Under cmd_lock: drops a connection that failed. */
static void near_drop_command(cache_redis_t *nc) {
  redisFree(nc->cmd);
  nc->cmd = NULL;
}

static void near_free_replies(int n, redisReply **replies) {
  for (int i = 0; i < n; i++) {
    if (replies[i] != NULL)
      freeReplyObject(replies[i]);
    replies[i] = NULL;
  }
}

/* Under cmd_lock, with a connection: sends the n commands at once and
 * reads their n replies. */
static int near_exchange(cache_redis_t *nc, int n, const int *argc,
                         const char **argv[], const size_t *argv_len[],
                         redisReply **replies) {
  for (int i = 0; i < n; i++) {
    if (redisAppendCommandArgv(nc->cmd, argc[i], argv[i], argv_len[i]) !=
        REDIS_OK)
      return CACHE_REDIS_EUNAVAILABLE;
  }
  for (int i = 0; i < n; i++) {
    void *reply = NULL;
    if (redisGetReply(nc->cmd, &reply) != REDIS_OK || reply == NULL) {
      near_free_replies(i, replies);
      return CACHE_REDIS_EUNAVAILABLE;
    }
    replies[i] = reply;
  }
  return CACHE_OK;
}

int near_pipeline(cache_redis_t *nc, int n, const int *argc,
                  const char **argv[], const size_t *argv_len[],
                  redisReply **replies) {
  for (int i = 0; i < n; i++)
    replies[i] = NULL;
  int rc = near_lock_command(nc);
  if (rc != CACHE_OK)
    return rc;
  rc = near_ensure_command(nc);
  if (rc == CACHE_OK) {
    rc = near_exchange(nc, n, argc, argv, argv_len, replies);
    if (rc != CACHE_OK)
      near_drop_command(nc);
  }
  pthread_mutex_unlock(&nc->cmd_lock);
  return rc;
}

int near_command(cache_redis_t *nc, int argc, const char **argv,
                 const size_t *argv_len, redisReply **reply) {
  const char **argvs[1] = {argv};
  const size_t *lens[1] = {argv_len};
  return near_pipeline(nc, 1, &argc, argvs, lens, reply);
}

void near_close_command(cache_redis_t *nc) {
  pthread_mutex_lock(&nc->cmd_lock);
  if (nc->cmd != NULL)
    near_drop_command(nc);
  pthread_mutex_unlock(&nc->cmd_lock);
}
