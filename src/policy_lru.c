/* LRU: evict the entry read or written least recently. Every hit moves the
 * entry to the young end of the queue. */
#include "cache.h"
#include "policy.h"

typedef struct lru {
  cache__link_t queue; /* head = least recently used */
} lru_t;

static int lru_init(void *state, uint64_t capacity) {
  (void)capacity;
  lru_t *l = state;
  cache__list_init(&l->queue);
  return 0;
}

static void lru_inserted(void *state, cache__entry_t *e) {
  lru_t *l = state;
  cache__list_push(&l->queue, &e->link);
}

static void lru_accessed(void *state, cache__entry_t *e) {
  lru_t *l = state;
  if (l->queue.prev == &e->link)
    return; /* already the youngest */
  cache__list_unlink(&e->link);
  cache__list_push(&l->queue, &e->link);
}

static void lru_removed(void *state, cache__entry_t *e) {
  (void)state;
  cache__list_unlink(&e->link);
}

static cache__entry_t *lru_victim(void *state) {
  lru_t *l = state;
  return cache__list_empty(&l->queue) ? NULL : cache__entry_of(l->queue.next);
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
