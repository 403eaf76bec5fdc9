/* get, set and delete, and the race between a fill and an invalidation.
 *
 * A fill reads the key's invalidation slot and the flush sequence before
 * its Redis GET, and installs the value only if neither moved by the time
 * it is stored: an invalidation received meanwhile may concern a write
 * newer than the value read. The check is made again after the store,
 * because an invalidation can land between the check and the store; the
 * invalidation moves its slot before it deletes the local entry, so one of
 * the two always sees the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "near.h"

/* ---- keys ---------------------------------------------------------------- */

static bool near_key_valid(const void *key, size_t key_len) {
  return key != NULL && key_len > 0 && key_len <= CACHE_KEY_MAX;
}

static size_t near_slot(const void *key, size_t key_len) {
  const unsigned char *p = key;
  uint64_t h = 14695981039346656037u; /* FNV-1a */
  for (size_t i = 0; i < key_len; i++) {
    h ^= p[i];
    h *= 1099511628211u;
  }
  return (size_t)(h % NEAR_SLOTS);
}

/* prefix + key, the key's name in Redis. */
typedef struct near_name {
  char *data;
  size_t len;
  char small[256];
} near_name_t;

static int near_name_make(const cache_redis_t *nc, const void *key,
                          size_t key_len, near_name_t *name) {
  name->len = nc->prefix_len + key_len;
  name->data =
      name->len <= sizeof name->small ? name->small : malloc(name->len);
  if (name->data == NULL)
    return CACHE_ENOMEM;
  memcpy(name->data, nc->prefix, nc->prefix_len);
  memcpy(name->data + nc->prefix_len, key, key_len);
  return CACHE_OK;
}

static void near_name_free(near_name_t *name) {
  if (name->data != name->small)
    free(name->data);
}

/* ---- invalidation and fills --------------------------------------------- */

void near_invalidate(cache_redis_t *nc, const void *key, size_t key_len) {
  uint64_t seq = atomic_fetch_add(&nc->seq, 1) + 1;
  atomic_store(&nc->slots[near_slot(key, key_len)], seq);
  cache_delete(nc->local, key, key_len);
}

typedef struct near_fill {
  bool active; /* the local tier was in use when the fill began */
  size_t slot;
  uint64_t slot_seq;
  uint64_t flush_seq;
} near_fill_t;

static void near_fill_begin(cache_redis_t *nc, const void *key, size_t key_len,
                            near_fill_t *fill) {
  fill->active = atomic_load(&nc->local_active);
  fill->slot = near_slot(key, key_len);
  fill->slot_seq = atomic_load(&nc->slots[fill->slot]);
  fill->flush_seq = atomic_load(&nc->flush_seq);
}

static bool near_fill_current(cache_redis_t *nc, const near_fill_t *fill) {
  return atomic_load(&nc->local_active) &&
         atomic_load(&nc->slots[fill->slot]) == fill->slot_seq &&
         atomic_load(&nc->flush_seq) == fill->flush_seq;
}

/* The local lifetime of a value whose Redis PTTL is pttl; 0 = do not
 * keep it (it is about to expire, or is already gone). */
static uint64_t near_fill_ttl(const cache_redis_t *nc, const redisReply *pttl) {
  uint64_t ttl = CACHE_TTL_NEVER;
  if (pttl == NULL || pttl->type != REDIS_REPLY_INTEGER || pttl->integer == 0 ||
      pttl->integer == -2)
    return 0;
  if (pttl->integer > 0)
    ttl = (uint64_t)pttl->integer;
  if (nc->local_ttl_ms != 0 && nc->local_ttl_ms < ttl)
    ttl = nc->local_ttl_ms;
  if (nc->stale_bound_ms != 0 && nc->stale_bound_ms < ttl)
    ttl = nc->stale_bound_ms;
  return ttl;
}

static void near_fill_install(cache_redis_t *nc, const near_fill_t *fill,
                              const void *key, size_t key_len,
                              const redisReply *value, uint64_t ttl) {
  if (!fill->active || ttl == 0)
    return;
  if (!near_fill_current(nc, fill)) {
    atomic_fetch_add(&nc->counters.fills_discarded, 1);
    return;
  }
  if (cache_set(nc->local, key, key_len, value->str, (size_t)value->len, ttl) !=
      CACHE_OK)
    return;
  if (!near_fill_current(nc, fill)) {
    cache_delete(nc->local, key, key_len);
    atomic_fetch_add(&nc->counters.fills_discarded, 1);
  }
}

/* ---- get ----------------------------------------------------------------- */

static int near_copy_out(const redisReply *value, void *buf, size_t buf_len,
                         size_t *value_len) {
  size_t len = (size_t)value->len;
  *value_len = len;
  if (len > buf_len)
    return CACHE_ETOOSMALL;
  if (len > 0)
    memcpy(buf, value->str, len);
  return CACHE_OK;
}

/* GET and PTTL of the key, in one round trip. */
static int near_read_remote(cache_redis_t *nc, const near_name_t *name,
                            redisReply **replies) {
  const char *get_argv[] = {"GET", name->data};
  const size_t get_len[] = {3, name->len};
  const char *pttl_argv[] = {"PTTL", name->data};
  const size_t pttl_len[] = {4, name->len};
  const int argc[] = {2, 2};
  const char **argv[] = {get_argv, pttl_argv};
  const size_t *lens[] = {get_len, pttl_len};
  return near_pipeline(nc, 2, argc, argv, lens, replies);
}

static int near_get_remote(cache_redis_t *nc, const void *key, size_t key_len,
                           void *buf, size_t buf_len, size_t *value_len) {
  near_fill_t fill;
  near_fill_begin(nc, key, key_len, &fill);
  near_name_t name;
  int rc = near_name_make(nc, key, key_len, &name);
  if (rc != CACHE_OK)
    return rc;
  redisReply *replies[2];
  rc = near_read_remote(nc, &name, replies);
  near_name_free(&name);
  if (rc != CACHE_OK)
    return rc;
  const redisReply *value = replies[0];
  if (value->type == REDIS_REPLY_NIL) {
    atomic_fetch_add(&nc->counters.misses, 1);
    rc = CACHE_NOT_FOUND;
  } else if (value->type == REDIS_REPLY_STRING) {
    atomic_fetch_add(&nc->counters.redis_hits, 1);
    rc = near_copy_out(value, buf, buf_len, value_len);
    near_fill_install(nc, &fill, key, key_len, value,
                      near_fill_ttl(nc, replies[1]));
  } else {
    rc = CACHE_REDIS_EREPLY;
  }
  freeReplyObject(replies[0]);
  freeReplyObject(replies[1]);
  return rc;
}

int cache_redis_get(cache_redis_t *nc, const void *key, size_t key_len,
                    void *buf, size_t buf_len, size_t *value_len) {
  if (nc == NULL || !near_key_valid(key, key_len) || value_len == NULL ||
      (buf == NULL && buf_len > 0))
    return CACHE_EINVAL;
  if (atomic_load(&nc->local_active)) {
    int rc = cache_get(nc->local, key, key_len, buf, buf_len, value_len);
    if (rc == CACHE_OK || rc == CACHE_ETOOSMALL) {
      atomic_fetch_add(&nc->counters.local_hits, 1);
      return rc;
    }
  }
  return near_get_remote(nc, key, key_len, buf, buf_len, value_len);
}

/* ---- set and delete ------------------------------------------------------ */

/* Runs a write on prefix + key: argv[1] is filled in with the name. Then
 * drops the local copy, whatever the outcome, since Redis may have
 * applied the write even when its reply was lost. */
static int near_write(cache_redis_t *nc, const void *key, size_t key_len,
                      int argc, const char **argv, size_t *argv_len,
                      redisReply **reply) {
  near_name_t name;
  int rc = near_name_make(nc, key, key_len, &name);
  if (rc != CACHE_OK)
    return rc;
  argv[1] = name.data;
  argv_len[1] = name.len;
  rc = near_command(nc, argc, argv, argv_len, reply);
  near_name_free(&name);
  near_invalidate(nc, key, key_len);
  return rc;
}

int cache_redis_set(cache_redis_t *nc, const void *key, size_t key_len,
                    const void *value, size_t value_len, uint64_t ttl_ms) {
  if (nc == NULL || !near_key_valid(key, key_len) ||
      (value == NULL && value_len > 0))
    return CACHE_EINVAL;
  if (value_len > CACHE_VALUE_MAX)
    return CACHE_ETOOBIG;
  char ttl_text[24];
  snprintf(ttl_text, sizeof ttl_text, "%llu", (unsigned long long)ttl_ms);
  const char *argv[] = {"SET", NULL, value != NULL ? value : "", "PX",
                        ttl_text};
  size_t len[] = {3, 0, value_len, 2, strlen(ttl_text)};
  bool expires = ttl_ms != 0 && ttl_ms != CACHE_TTL_NEVER;
  redisReply *reply = NULL;
  int rc = near_write(nc, key, key_len, expires ? 5 : 3, argv, len, &reply);
  if (rc != CACHE_OK)
    return rc;
  rc = reply->type == REDIS_REPLY_STATUS ? CACHE_OK : CACHE_REDIS_EREPLY;
  freeReplyObject(reply);
  return rc;
}

int cache_redis_delete(cache_redis_t *nc, const void *key, size_t key_len) {
  if (nc == NULL || !near_key_valid(key, key_len))
    return CACHE_EINVAL;
  const char *argv[] = {"DEL", NULL};
  size_t len[] = {3, 0};
  redisReply *reply = NULL;
  int rc = near_write(nc, key, key_len, 2, argv, len, &reply);
  if (rc != CACHE_OK)
    return rc;
  if (reply->type != REDIS_REPLY_INTEGER)
    rc = CACHE_REDIS_EREPLY;
  else
    rc = reply->integer > 0 ? CACHE_OK : CACHE_NOT_FOUND;
  freeReplyObject(reply);
  return rc;
}
