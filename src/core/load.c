/* Load-through with single flight: on a miss, one caller per key runs the
 * loader while the others wait for its result.
 *
 * Loads under way are few, so each cache keeps them on a short list under
 * a lock of their own. A caller that finds no load for its key looks the
 * cache up once more while holding that lock: a load that finished in the
 * meantime stored its value before it left the list, so the second look
 * finds it and no key is ever loaded twice by callers that overlapped. The
 * loader itself runs with no lock held. */
#include "cache_int.h"

#include <stdlib.h>
#include <string.h>

struct cache_load {
  unsigned char *value;
  size_t value_len;
  uint64_t ttl_ms;
  bool put;
};

typedef struct cache__flight {
  struct cache__flight *next;
  pthread_t owner;
  unsigned refs; /* the loading caller and its waiters */
  bool done;
  int status;
  struct cache_load result;
  size_t key_len;
  unsigned char key[];
} cache__flight_t;

int cache_load_put(cache_load_t *load, const void *value, size_t value_len,
                   uint64_t ttl_ms) {
  if (load == NULL || load->put || (value == NULL && value_len > 0))
    return CACHE_EINVAL;
  if (value_len > CACHE_VALUE_MAX)
    return CACHE_ETOOBIG;
  unsigned char *copy = malloc(value_len ? value_len : 1);
  if (copy == NULL)
    return CACHE_ENOMEM;
  if (value_len > 0)
    memcpy(copy, value, value_len);
  *load = (struct cache_load){copy, value_len, ttl_ms, true};
  return CACHE_OK;
}

static cache__flight_t *find_flight(cache_t *c, const void *key,
                                    size_t key_len) {
  for (cache__flight_t *f = c->flights; f != NULL; f = f->next)
    if (f->key_len == key_len && memcmp(f->key, key, key_len) == 0)
      return f;
  return NULL;
}

static void unlink_flight(cache_t *c, cache__flight_t *f) {
  cache__flight_t **pp = &c->flights;
  while (*pp != f)
    pp = &(*pp)->next;
  *pp = f->next;
}

/* Drops one reference; the last one frees. Loads lock held. */
static void release(cache__flight_t *f) {
  if (--f->refs == 0) {
    free(f->result.value);
    free(f);
  }
}

/* The outcome of a finished flight, copied out as cache_get() would. */
static int copy_result(const cache__flight_t *f, void *buf, size_t buf_len,
                       size_t *value_len) {
  if (f->status != CACHE_OK)
    return f->status;
  *value_len = f->result.value_len;
  if (buf_len < f->result.value_len)
    return CACHE_ETOOSMALL;
  if (f->result.value_len > 0)
    memcpy(buf, f->result.value, f->result.value_len);
  return CACHE_OK;
}

/* Runs the loader for flight f and stores what it produced. No lock held. */
static int run_loader(cache_t *c, cache__flight_t *f, cache_loader_cb loader,
                      void *ctx) {
  int rc = loader(f->key, f->key_len, &f->result, ctx);
  if (rc != CACHE_OK)
    return rc;
  if (!f->result.put)
    return CACHE_EINVAL; /* the loader said OK but gave no value */
  return cache_set(c, f->key, f->key_len, f->result.value, f->result.value_len,
                   f->result.ttl_ms);
}

/* Waits for another caller's load of the same key. Loads lock held. */
static int wait_for(cache_t *c, cache__flight_t *f, void *buf, size_t buf_len,
                    size_t *value_len) {
  f->refs++;
  while (!f->done)
    pthread_cond_wait(&c->loads_done, &c->loads_lock);
  int rc = copy_result(f, buf, buf_len, value_len);
  release(f);
  return rc;
}

static int load(cache_t *c, const void *key, size_t key_len,
                cache_loader_cb loader, void *ctx, void *buf, size_t buf_len,
                size_t *value_len) {
  cache__flight_t *f = calloc(1, sizeof *f + key_len);
  if (f == NULL) {
    pthread_mutex_unlock(&c->loads_lock);
    return CACHE_ENOMEM;
  }
  f->owner = pthread_self();
  f->refs = 1;
  f->key_len = key_len;
  memcpy(f->key, key, key_len);
  f->next = c->flights;
  c->flights = f;
  pthread_mutex_unlock(&c->loads_lock);

  int status = run_loader(c, f, loader, ctx);

  pthread_mutex_lock(&c->loads_lock);
  f->status = status;
  f->done = true;
  unlink_flight(c, f);
  pthread_cond_broadcast(&c->loads_done);
  int rc = copy_result(f, buf, buf_len, value_len);
  release(f);
  pthread_mutex_unlock(&c->loads_lock);
  return rc;
}

void cache__loads_after_fork_child(cache_t *c) {
  cache__flight_t **pp = &c->flights;
  while (*pp != NULL) {
    cache__flight_t *f = *pp;
    if (pthread_equal(f->owner, pthread_self())) {
      pp = &f->next; /* fork() was called from this load's loader */
      continue;
    }
    /* Its owner and its waiters were all other threads: no reference to
     * it is left in this process. */
    *pp = f->next;
    free(f->result.value);
    free(f);
  }
}

int cache_get_or_load(cache_t *c, const void *key, size_t key_len,
                      cache_loader_cb loader, void *loader_ctx, void *buf,
                      size_t buf_len, size_t *value_len) {
  if (loader == NULL)
    return CACHE_EINVAL;
  int rc = cache_get(c, key, key_len, buf, buf_len, value_len);
  if (rc != CACHE_NOT_FOUND)
    return rc; /* a hit, or bad arguments */

  pthread_mutex_lock(&c->loads_lock);
  cache__flight_t *f = find_flight(c, key, key_len);
  if (f != NULL) {
    rc = pthread_equal(f->owner, pthread_self())
             ? CACHE_EBUSY /* the loader asked for its own key */
             : wait_for(c, f, buf, buf_len, value_len);
    pthread_mutex_unlock(&c->loads_lock);
    return rc;
  }
  /* A load that finished since the first look has stored its value. */
  rc = cache_contains(c, key, key_len);
  if (rc == CACHE_OK) {
    pthread_mutex_unlock(&c->loads_lock);
    rc = cache_get(c, key, key_len, buf, buf_len, value_len);
    if (rc != CACHE_NOT_FOUND)
      return rc;
    pthread_mutex_lock(&c->loads_lock); /* evicted meanwhile: load it */
    if ((f = find_flight(c, key, key_len)) != NULL) {
      rc = wait_for(c, f, buf, buf_len, value_len);
      pthread_mutex_unlock(&c->loads_lock);
      return rc;
    }
  } else if (rc != CACHE_NOT_FOUND) {
    pthread_mutex_unlock(&c->loads_lock);
    return rc;
  }
  return load(c, key, key_len, loader, loader_ctx, buf, buf_len, value_len);
}
