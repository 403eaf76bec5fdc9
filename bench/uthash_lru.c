/* See uthash_lru.h. Nothing here is tuned: uthash's default hash (Jenkins)
 * and table growth, its handle in every entry, one malloc per entry with
 * the key and the value in it, and a doubly linked list with the most
 * recently used entry at the head. */
#define _POSIX_C_SOURCE 200809L

#include "uthash_lru.h"

#include <cache.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

typedef struct ut_entry {
  UT_hash_handle hh;
  struct ut_entry *prev, *next; /* LRU list; head = most recent */
  uint64_t expires_ms;          /* UINT64_MAX: never */
  uint32_t key_len, value_len;
  unsigned char data[]; /* key, then value */
} ut_entry_t;

struct ut_cache {
  pthread_mutex_t lock;
  ut_entry_t *table; /* uthash's head */
  ut_entry_t *head, *tail;
  uint64_t count, max_entries, ttl_ms;
  uint64_t (*clock_ms)(void *ctx);
  void *clock_ctx;
};

static uint64_t now_ms(const ut_cache_t *c) {
  if (c->clock_ms != NULL)
    return c->clock_ms(c->clock_ctx);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

ut_cache_t *ut_create(uint64_t max_entries, uint64_t ttl_ms,
                      uint64_t (*clock_ms)(void *ctx), void *clock_ctx) {
  ut_cache_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  pthread_mutex_init(&c->lock, NULL);
  c->max_entries = max_entries;
  c->ttl_ms = ttl_ms;
  c->clock_ms = clock_ms;
  c->clock_ctx = clock_ctx;
  return c;
}

void ut_destroy(ut_cache_t *c) {
  ut_entry_t *e, *tmp;
  HASH_ITER(hh, c->table, e, tmp) {
    HASH_DEL(c->table, e);
    free(e);
  }
  pthread_mutex_destroy(&c->lock);
  free(c);
}

static void list_unlink(ut_cache_t *c, ut_entry_t *e) {
  if (e->prev != NULL)
    e->prev->next = e->next;
  else
    c->head = e->next;
  if (e->next != NULL)
    e->next->prev = e->prev;
  else
    c->tail = e->prev;
}

static void list_push_front(ut_cache_t *c, ut_entry_t *e) {
  e->prev = NULL;
  e->next = c->head;
  if (c->head != NULL)
    c->head->prev = e;
  else
    c->tail = e;
  c->head = e;
}

static void remove_entry(ut_cache_t *c, ut_entry_t *e) {
  HASH_DEL(c->table, e);
  list_unlink(c, e);
  c->count--;
}

int ut_get(ut_cache_t *c, const void *key, size_t key_len, void *buf,
           size_t buf_len, size_t *value_len) {
  uint64_t now = now_ms(c);
  ut_entry_t *e, *dead = NULL;
  int rc = CACHE_NOT_FOUND;
  pthread_mutex_lock(&c->lock);
  HASH_FIND(hh, c->table, key, key_len, e);
  if (e != NULL && e->expires_ms <= now) {
    remove_entry(c, e);
    dead = e;
  } else if (e != NULL) {
    list_unlink(c, e);
    list_push_front(c, e);
    *value_len = e->value_len;
    rc = CACHE_ETOOSMALL;
    if (e->value_len <= buf_len) {
      memcpy(buf, e->data + e->key_len, e->value_len);
      rc = CACHE_OK;
    }
  }
  pthread_mutex_unlock(&c->lock);
  free(dead);
  return rc;
}

int ut_set(ut_cache_t *c, const void *key, size_t key_len, const void *value,
           size_t value_len, uint64_t ttl_ms) {
  if (ttl_ms == 0)
    ttl_ms = c->ttl_ms;
  if (key_len > UINT32_MAX || value_len > UINT32_MAX - key_len)
    return CACHE_ETOOBIG;
  ut_entry_t *e = malloc(sizeof *e + key_len + value_len);
  if (e == NULL)
    return CACHE_ENOMEM;
  e->key_len = (uint32_t)key_len;
  e->value_len = (uint32_t)value_len;
  memcpy(e->data, key, key_len);
  memcpy(e->data + key_len, value, value_len);
  e->expires_ms = ttl_ms == 0 ? UINT64_MAX : now_ms(c) + ttl_ms;

  ut_entry_t *old;
  pthread_mutex_lock(&c->lock);
  HASH_FIND(hh, c->table, key, key_len, old);
  if (old != NULL)
    remove_entry(c, old);
  else if (c->max_entries > 0 && c->count >= c->max_entries)
    remove_entry(c, old = c->tail); /* the least recently used */
  HASH_ADD_KEYPTR(hh, c->table, e->data, e->key_len, e);
  list_push_front(c, e);
  c->count++;
  pthread_mutex_unlock(&c->lock);
  free(old);
  return CACHE_OK;
}

int ut_cleanup(ut_cache_t *c, uint64_t *removed) {
  uint64_t now = now_ms(c), n = 0;
  ut_entry_t *e, *tmp, *dead = NULL;
  pthread_mutex_lock(&c->lock);
  HASH_ITER(hh, c->table, e, tmp) {
    if (e->expires_ms <= now) {
      remove_entry(c, e);
      e->next = dead;
      dead = e;
      n++;
    }
  }
  pthread_mutex_unlock(&c->lock);
  while (dead != NULL) {
    ut_entry_t *next = dead->next;
    free(dead);
    dead = next;
  }
  if (removed != NULL)
    *removed = n;
  return CACHE_OK;
}

uint64_t ut_count(ut_cache_t *c) {
  pthread_mutex_lock(&c->lock);
  uint64_t n = c->count;
  pthread_mutex_unlock(&c->lock);
  return n;
}
