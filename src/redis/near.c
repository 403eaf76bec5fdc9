/* Life cycle, options, statistics and statuses of a near cache, and the
 * switch that takes the local tier out of use and back. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "near.h"

uint64_t near_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *cache_redis_strerror(int status) {
  switch (status) {
#define CACHE_REDIS__STATUS_CASE(name, value, msg)                             \
  case CACHE_REDIS_##name:                                                     \
    return msg;
    CACHE_REDIS_STATUS_MAP(CACHE_REDIS__STATUS_CASE)
#undef CACHE_REDIS__STATUS_CASE
  default:
    return cache_strerror(status);
  }
}

void cache_redis_options_init(cache_redis_options_t *options) {
  if (options == NULL)
    return;
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->host = "127.0.0.1";
  options->port = 6379;
  options->timeout_ms = 1000;
  options->prefix = NULL;
  options->local = NULL;
  options->heartbeat_ms = 1000;
  options->stale_bound_ms = 0;
}

/* Copies the caller's options into *out, checking the struct_size rules
 * of cache.h: at least this layout, and zeros past what this library
 * knows. */
static int near_read_options(const cache_redis_options_t *in,
                             cache_redis_options_t *out) {
  if (in == NULL || in->struct_size < sizeof *out)
    return CACHE_EINVAL;
  const unsigned char *extra = (const unsigned char *)in + sizeof *out;
  for (size_t i = 0; i < in->struct_size - sizeof *out; i++) {
    if (extra[i] != 0)
      return CACHE_EINVAL;
  }
  memcpy(out, in, sizeof *out);
  if (out->host == NULL || out->port < 1 || out->port > 65535 ||
      out->timeout_ms == 0 || out->heartbeat_ms == 0)
    return CACHE_EINVAL;
  return CACHE_OK;
}

static char *near_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = malloc(n);
  if (copy != NULL)
    memcpy(copy, s, n);
  return copy;
}

static void near_free(cache_redis_t *nc) {
  cache_destroy(nc->local);
  pthread_mutex_destroy(&nc->cmd_lock);
  free(nc->host);
  free(nc->prefix);
  free(nc);
}

/* Everything but the thread and the connections. */
static int near_init(cache_redis_t *nc, const cache_redis_options_t *o) {
  cache_options_t defaults;
  const cache_options_t *local = o->local;
  if (local == NULL) {
    cache_options_init(&defaults);
    local = &defaults;
  }
  nc->host = near_strdup(o->host);
  nc->prefix = near_strdup(o->prefix != NULL ? o->prefix : "");
  if (nc->host == NULL || nc->prefix == NULL)
    return CACHE_ENOMEM;
  nc->prefix_len = strlen(nc->prefix);
  nc->port = o->port;
  nc->timeout_ms = o->timeout_ms;
  nc->heartbeat_ms = o->heartbeat_ms;
  nc->stale_bound_ms = o->stale_bound_ms;
  nc->local_ttl_ms = local->ttl_ms;
  atomic_store(&nc->counters.degraded_since_ms, near_now_ms());
  return cache_create(local, &nc->local);
}

int cache_redis_create(const cache_redis_options_t *options,
                       cache_redis_t **out) {
  cache_redis_options_t o;
  if (out == NULL || near_read_options(options, &o) != CACHE_OK)
    return CACHE_EINVAL;
  cache_redis_t *nc = calloc(1, sizeof *nc);
  if (nc == NULL)
    return CACHE_ENOMEM;
  if (pthread_mutex_init(&nc->cmd_lock, NULL) != 0) {
    free(nc);
    return CACHE_ENOMEM;
  }
  int rc = near_init(nc, &o);
  if (rc == CACHE_OK)
    rc = near_sub_start(nc);
  if (rc != CACHE_OK) {
    near_free(nc);
    return rc;
  }
  *out = nc;
  return CACHE_OK;
}

void cache_redis_destroy(cache_redis_t *nc) {
  if (nc == NULL)
    return;
  near_sub_stop(nc);
  near_close_command(nc);
  near_free(nc);
}

void near_flush(cache_redis_t *nc) {
  /* The sequence moves first, so that a fill that installs after the
   * clear sees it and takes its value back out. */
  uint64_t seq = atomic_fetch_add(&nc->seq, 1) + 1;
  atomic_store(&nc->flush_seq, seq);
  cache_clear(nc->local);
  atomic_fetch_add(&nc->counters.flushes, 1);
}

void near_set_active(cache_redis_t *nc, bool active) {
  near_counters_t *k = &nc->counters;
  uint64_t now = near_now_ms();
  if (active) {
    uint64_t since = atomic_exchange(&k->degraded_since_ms, 0);
    if (since != 0)
      atomic_fetch_add(&k->degraded_total_ms, now - since);
    atomic_store(&nc->local_active, true);
    return;
  }
  if (!atomic_exchange(&nc->local_active, false))
    return;
  near_flush(nc);
  atomic_store(&k->degraded_since_ms, now > 0 ? now : 1);
}

static uint64_t near_degraded_ms(near_counters_t *k) {
  uint64_t total = atomic_load(&k->degraded_total_ms);
  uint64_t since = atomic_load(&k->degraded_since_ms);
  uint64_t now = near_now_ms();
  return since != 0 && now > since ? total + (now - since) : total;
}

int cache_redis_stats(cache_redis_t *nc, cache_redis_stats_t *stats) {
  if (nc == NULL || stats == NULL || stats->struct_size < sizeof *stats)
    return CACHE_EINVAL;
  near_counters_t *k = &nc->counters;
  size_t size = stats->struct_size;
  memset((unsigned char *)stats + sizeof(size_t), 0, size - sizeof(size_t));
  stats->local_hits = atomic_load(&k->local_hits);
  stats->redis_hits = atomic_load(&k->redis_hits);
  stats->misses = atomic_load(&k->misses);
  stats->invalidations = atomic_load(&k->invalidations);
  stats->fills_discarded = atomic_load(&k->fills_discarded);
  stats->reconnects = atomic_load(&k->reconnects);
  stats->degraded_ms = near_degraded_ms(k);
  stats->flushes = atomic_load(&k->flushes);
  stats->local_active = atomic_load(&nc->local_active) ? 1 : 0;
  return CACHE_OK;
}
