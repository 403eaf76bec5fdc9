/* FIFO: evict in insertion order. A hit changes nothing, so reads cost no
 * bookkeeping at all; this is the original application's "evict oldest". */
#include "cache.h"
#include "policy.h"

typedef struct fifo {
  cache__list_t queue;
} fifo_t;

static int fifo_init(void *state, uint64_t capacity,
                     cache__policy_shared_t *shared) {
  (void)shared;
  (void)capacity;
  fifo_t *f = state;
  cache__list_init(&f->queue);
  return 0;
}

static void fifo_inserted(void *state, cache__entry_t *e, uint32_t hash) {
  (void)hash;
  fifo_t *f = state;
  cache__list_push(&f->queue, e);
}

static void fifo_accessed(void *state, cache__entry_t *e) {
  (void)state;
  (void)e;
}

/* A hit changes nothing in a FIFO. */
static int fifo_hit(void *state, cache__entry_t *e) {
  (void)state;
  (void)e;
  return CACHE__HIT_DONE;
}

static void fifo_removed(void *state, cache__entry_t *e, uint32_t hash) {
  (void)state;
  (void)hash;
  cache__list_unlink(e);
}

static cache__entry_t *fifo_victim(void *state) {
  fifo_t *f = state;
  return cache__list_oldest(&f->queue);
}

const cache__policy_ops_t cache__policy_fifo = {
    .id = CACHE_POLICY_FIFO,
    .state_size = sizeof(fifo_t),
    .init = fifo_init,
    .inserted = fifo_inserted,
    .accessed = fifo_accessed,
    .removed = fifo_removed,
    .victim = fifo_victim,
    .hit = fifo_hit,
};
