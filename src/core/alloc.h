/* Memory for entries and tables. Every block the store allocates goes
 * through here, so that the allocator (a private jemalloc, or the C
 * library's malloc for sanitizer and valgrind builds) is chosen in one
 * place, and so that the real size of each block is known: the cache's
 * byte count is what the allocator handed out, not what was asked for. */
#ifndef CACHE_ALLOC_H
#define CACHE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <stdatomic.h>

/* Threads with one of the first CACHE__MEM_TCACHES epoch records (epoch.h)
 * get a thread cache of their own in each cache's arena. */
#define CACHE__MEM_TCACHES 16

typedef struct cache__mem {
  int flags;      /* jemalloc mallocx flags for this cache's blocks */
  unsigned arena; /* this cache's own jemalloc arena */
  /* Bytes of the blocks that are not entries (hash tables, heaps). */
  _Atomic uint64_t table_bytes;
  /* By epoch record index: (fork generation << 32) | (tcache id + 1), or
   * 0 for none yet. Written only by the thread that owns the record. */
  _Atomic uint64_t tcaches[CACHE__MEM_TCACHES];
} cache__mem_t;

int cache__mem_init(cache__mem_t *mem);
void cache__mem_destroy(cache__mem_t *mem);

/* NULL when out of memory. */
void *cache__mem_alloc(cache__mem_t *mem, size_t size);
void *cache__mem_calloc(cache__mem_t *mem, size_t size);
/* size must be the size the block was allocated with. */
void cache__mem_free(cache__mem_t *mem, void *ptr, size_t size);
/* The same for the cache's tables, counted in table_bytes. */
void *cache__mem_table_alloc(cache__mem_t *mem, size_t size);
void cache__mem_table_free(cache__mem_t *mem, void *ptr, size_t size);
/* The allocator's size class for a block of `size` bytes (jemalloc's
 * nallocx); `size` itself for the C library's malloc, which has no fixed
 * classes. */
size_t cache__mem_class(size_t size);
/* The bytes the allocator really reserved for a block of `size` at ptr. */
size_t cache__mem_usable(cache__mem_t *mem, void *ptr, size_t size);

/* Gives back what the thread cache of record `index` in mem holds (the
 * blocks go back to the arena, which can then purge them). Only the
 * thread that owns that record may call it. */
void cache__mem_thread_flush(cache__mem_t *mem, uint32_t index);

/* Process-wide figures of the library's allocator, in bytes. */
typedef struct cache__mem_totals {
  uint64_t allocated, active, resident, mapped, retained;
} cache__mem_totals_t;

/* 1 and *out filled if the allocator keeps such figures (jemalloc), 0 if it
 * has none (the C library's malloc), -1 if reading them failed. */
int cache__mem_totals(cache__mem_totals_t *out);

/* Resident bytes of this cache's own arena: 1 and *out filled, 0 if the
 * allocator cannot tell, -1 on failure. */
int cache__mem_arena_resident(cache__mem_t *mem, uint64_t *out);

/* Bytes of the blocks this cache's arena has handed out, counting those
 * that wait in thread caches: 1 and *out filled, 0 if the allocator
 * cannot tell, -1 on failure. */
int cache__mem_arena_allocated(cache__mem_t *mem, uint64_t *out);

/* Returns the unused dirty pages of this cache's arena, or of every arena
 * of the library's allocator, to the operating system. */
void cache__mem_purge(cache__mem_t *mem);
void cache__mem_purge_all(void);

#endif
