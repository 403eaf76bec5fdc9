/* Memory for entries and tables. Every block the store allocates goes
 * through here, so that the allocator (a private jemalloc, or the C
 * library's malloc for sanitizer and valgrind builds) is chosen in one
 * place, and so that the real size of each block is known: the cache's
 * byte count is what the allocator handed out, not what was asked for. */
#ifndef CACHE_ALLOC_H
#define CACHE_ALLOC_H

#include <stddef.h>

typedef struct cache__mem {
  int flags; /* jemalloc mallocx flags for this cache's blocks */
} cache__mem_t;

int cache__mem_init(cache__mem_t *mem);
void cache__mem_destroy(cache__mem_t *mem);

/* NULL when out of memory. */
void *cache__mem_alloc(cache__mem_t *mem, size_t size);
void *cache__mem_calloc(cache__mem_t *mem, size_t size);
/* size must be the size the block was allocated with. */
void cache__mem_free(cache__mem_t *mem, void *ptr, size_t size);
/* The bytes the allocator really reserved for a block of `size` at ptr. */
size_t cache__mem_usable(cache__mem_t *mem, void *ptr, size_t size);

#endif
