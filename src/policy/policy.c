/* The table of eviction policies. */
#include "policy.h"

#include <stddef.h>

static const cache__policy_ops_t *const policies[] = {
    &cache__policy_fifo,
    &cache__policy_lru,
    &cache__policy_tinylfu,
};

const cache__policy_ops_t *cache__policy_find(int id) {
  for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
    if (policies[i]->id == id)
      return policies[i];
  return NULL;
}
