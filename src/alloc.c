/* See alloc.h. This is the only file that knows which allocator is in use. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#if defined(CACHE_ALLOC_JEMALLOC)
#include <jemalloc/jemalloc.h>

int cache__mem_init(cache__mem_t *mem) {
  mem->flags = 0;
  return 0;
}

void cache__mem_destroy(cache__mem_t *mem) { (void)mem; }

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

#elif defined(CACHE_ALLOC_LIBC)
#include <malloc.h>

int cache__mem_init(cache__mem_t *mem) {
  mem->flags = 0;
  return 0;
}

void cache__mem_destroy(cache__mem_t *mem) { (void)mem; }

void *cache__mem_alloc(cache__mem_t *mem, size_t size) {
  (void)mem;
  return malloc(size ? size : 1);
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

#else
#error "define CACHE_ALLOC_JEMALLOC or CACHE_ALLOC_LIBC"
#endif
