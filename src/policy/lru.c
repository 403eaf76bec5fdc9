/* LRU: evict the entry read or written least recently. Every hit moves the
 * entry to the young end of the queue. */
#include "cache.h"
#include "policy.h"

typedef struct lru {
  cache__list_t queue; /* oldest = least recently used */
} lru_t;

static int lru_init(void *state, uint64_t capacity,
                    cache__policy_shared_t *shared) {
  (void)shared;
  (void)capacity;
  lru_t *l = state;
  cache__list_init(&l->queue);
  return 0;
}

static void lru_inserted(void *state, cache__entry_t *e, uint32_t hash) {
  (void)hash;
  lru_t *l = state;
  cache__list_push(&l->queue, e);
}

static void lru_accessed(void *state, cache__entry_t *e) {
  lru_t *l = state;
  if (cache__list_is_newest(&l->queue, e))
    return;
  cache__list_unlink(e);
  cache__list_push(&l->queue, e);
}

static void lru_removed(void *state, cache__entry_t *e, uint32_t hash) {
  (void)state;
  (void)hash;
  cache__list_unlink(e);
}

static cache__entry_t *lru_victim(void *state) {
  lru_t *l = state;
  return cache__list_oldest(&l->queue);
}

const cache__policy_ops_t cache__policy_lru = {
    .id = CACHE_POLICY_LRU,
    .state_size = sizeof(lru_t),
    .init = lru_init,
    .inserted = lru_inserted,
    .accessed = lru_accessed,
    .removed = lru_removed,
    .victim = lru_victim,
};
