/* See alloc.h. This is the only file that knows which allocator is in use. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tables are zeroed: a bucket array must start out empty. */
void *cache__mem_table_alloc(cache__mem_t *mem, size_t size) {
  void *p = cache__mem_calloc(mem, size);
  if (p != NULL)
    atomic_fetch_add_explicit(&mem->table_bytes,
                              cache__mem_usable(mem, p, size),
                              memory_order_relaxed);
  return p;
}

void cache__mem_table_free(cache__mem_t *mem, void *ptr, size_t size) {
  if (ptr == NULL)
    return;
  atomic_fetch_sub_explicit(&mem->table_bytes,
                            cache__mem_usable(mem, ptr, size),
                            memory_order_relaxed);
  cache__mem_free(mem, ptr, size);
}

#if defined(CACHE_ALLOC_JEMALLOC)
#include <jemalloc/jemalloc.h>

#if defined(JEMALLOC_MANGLE)
/* Options of the private jemalloc (the system one is the host's to tune).
 * Entries bypass thread caches (see cache__mem_init), so threads that
 * insert into one cache would meet on its arena's lock for each size
 * class; with several bin shards per size class each thread gets its own.
 * Small sizes only: they are the ones allocated at a high rate. */
const char *cache_je_malloc_conf = "bin_shards:1-4096:8";
#endif

/* Each cache has an arena of its own, so that its footprint can be read
 * and its memory purged apart from every other cache's. Thread caches are
 * bypassed: they would hand a cache blocks that belong to other arenas. */
int cache__mem_init(cache__mem_t *mem) {
  unsigned arena;
  size_t len = sizeof arena;
  if (mallctl("arenas.create", &arena, &len, NULL, 0) != 0)
    return -1;
  mem->arena = arena;
  mem->flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
  return 0;
}

/* The arena is empty by now; destroying it gives its memory back and lets
 * jemalloc reuse the index. */
void cache__mem_destroy(cache__mem_t *mem) {
  if (mem->flags == 0)
    return; /* cache__mem_init did not succeed */
  char name[64];
  snprintf(name, sizeof name, "arena.%u.destroy", mem->arena);
  mallctl(name, NULL, NULL, NULL, 0);
}

/* Every size class of 16 bytes or more is a multiple of 16, so entries
 * (48 bytes at least) come 16-byte aligned, as the store needs. */
void *cache__mem_alloc(cache__mem_t *mem, size_t size) {
  return mallocx(size ? size : 1, mem->flags);
}

void *cache__mem_calloc(cache__mem_t *mem, size_t size) {
  return mallocx(size ? size : 1, mem->flags | MALLOCX_ZERO);
}

void cache__mem_free(cache__mem_t *mem, void *ptr, size_t size) {
  if (ptr != NULL)
    sdallocx(ptr, size ? size : 1, mem->flags);
}

size_t cache__mem_usable(cache__mem_t *mem, void *ptr, size_t size) {
  (void)ptr;
  return nallocx(size ? size : 1, mem->flags);
}

/* Statistics are cached inside jemalloc; writing "epoch" refreshes them. */
static int refresh_stats(void) {
  uint64_t epoch = 1;
  size_t len = sizeof epoch;
  return mallctl("epoch", &epoch, &len, &epoch, len) == 0 ? 0 : -1;
}

static int read_size(const char *name, uint64_t *out) {
  size_t v, len = sizeof v;
  if (mallctl(name, &v, &len, NULL, 0) != 0)
    return -1;
  *out = v;
  return 0;
}

int cache__mem_totals(cache__mem_totals_t *out) {
  if (refresh_stats() != 0 || read_size("stats.allocated", &out->allocated) ||
      read_size("stats.active", &out->active) ||
      read_size("stats.resident", &out->resident) ||
      read_size("stats.mapped", &out->mapped) ||
      read_size("stats.retained", &out->retained))
    return -1;
  return 1;
}

int cache__mem_arena_resident(cache__mem_t *mem, uint64_t *out) {
  char name[64];
  snprintf(name, sizeof name, "stats.arenas.%u.resident", mem->arena);
  if (refresh_stats() != 0 || read_size(name, out) != 0)
    return -1;
  return 1;
}

static void purge_arena(unsigned arena) {
  char name[64];
  snprintf(name, sizeof name, "arena.%u.purge", arena);
  mallctl(name, NULL, NULL, NULL, 0);
}

void cache__mem_purge(cache__mem_t *mem) { purge_arena(mem->arena); }

void cache__mem_purge_all(void) { purge_arena(MALLCTL_ARENAS_ALL); }

#elif defined(CACHE_ALLOC_LIBC)
#include <malloc.h>

int cache__mem_init(cache__mem_t *mem) {
  mem->flags = 0;
  return 0;
}

void cache__mem_destroy(cache__mem_t *mem) { (void)mem; }

/* Entries must be 16-byte aligned (store.h), which malloc promises on
 * x86-64 glibc but not every sanitizer's malloc does: ask for it. */
void *cache__mem_alloc(cache__mem_t *mem, size_t size) {
  (void)mem;
  if (size > SIZE_MAX - 15)
    return NULL;
  return aligned_alloc(16, size ? (size + 15) & ~(size_t)15 : 16);
}

void *cache__mem_calloc(cache__mem_t *mem, size_t size) {
  (void)mem;
  return calloc(1, size ? size : 1);
}

void cache__mem_free(cache__mem_t *mem, void *ptr, size_t size) {
  (void)mem;
  (void)size;
  free(ptr);
}

size_t cache__mem_usable(cache__mem_t *mem, void *ptr, size_t size) {
  (void)mem;
  /* Under a sanitizer malloc_usable_size reports the requested size, which
   * is still an honest count of what the block holds. */
  size_t usable = ptr ? malloc_usable_size(ptr) : 0;
  return usable > size ? usable : size;
}

int cache__mem_totals(cache__mem_totals_t *out) {
  (void)out;
  return 0;
}

int cache__mem_arena_resident(cache__mem_t *mem, uint64_t *out) {
  (void)mem;
  (void)out;
  return 0;
}

/* The C library's heap is shared by the whole process: trimming it is the
 * nearest thing to purging. */
void cache__mem_purge(cache__mem_t *mem) {
  (void)mem;
  malloc_trim(0);
}

void cache__mem_purge_all(void) { malloc_trim(0); }

#else
#error "define CACHE_ALLOC_JEMALLOC or CACHE_ALLOC_LIBC"
#endif
