/* See alloc.h. This is the only file that knows which allocator is in use. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "alloc.h"
#include "epoch.h"

#include <stdbool.h>
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
#include <pthread.h>

#if defined(JEMALLOC_MANGLE)
/* Options of the private jemalloc (the system one is the host's to tune).
 * - Threads without a thread cache of their own in a cache's arena (see
 *   thread_flags) meet on its lock for each size class; with several bin
 *   shards per size class each gets its own. Small sizes only: they are
 *   the ones allocated at a high rate.
 * - A thread cache keeps blocks of up to 1 KiB, at most 64 of a size
 *   class (refilled and flushed 32 at a time). Explicit thread caches are
 *   never trimmed by jemalloc, and with its defaults (up to 32 KiB, 200 a
 *   class) each one can hold megabytes: four threads on four caches of
 *   mixed sizes kept about 30 MiB more resident. Larger blocks cost more
 *   to copy than to allocate anyway. */
const char *cache_je_malloc_conf = "bin_shards:1-4096:8,tcache_max:1024,"
                                   "tcache_nslots_small_min:8,"
                                   "tcache_nslots_small_max:64";
#endif

/* The size class of every small block, by its size in 16-byte steps:
 * every entry's footprint is looked up at its insert and at its removal,
 * and nallocx costs some 60 instructions each time. Every class from 16
 * bytes up is a multiple of 16, so a size and the next multiple of 16
 * share their class. */
#define SMALL_STEPS 256 /* up to 4 KiB */
static uint16_t small_usable[SMALL_STEPS + 1];
static pthread_once_t small_usable_once = PTHREAD_ONCE_INIT;

size_t cache__mem_class(size_t size) { return nallocx(size ? size : 1, 0); }

static void small_usable_fill(void) {
  for (size_t i = 1; i <= SMALL_STEPS; i++)
    small_usable[i] = (uint16_t)cache__mem_class(i * 16);
}

/* Each cache has an arena of its own, so that its footprint can be read
 * and its memory purged apart from every other cache's. A thread's
 * automatic cache cannot be used: it would hand a cache blocks that belong
 * to other arenas. Without any thread cache, though, every insert and
 * every free takes a lock of the arena and walks its slab heap, on a cache
 * line the other cores write too. So a thread with a small epoch record
 * index gets an explicit jemalloc thread cache per arena, which only ever
 * holds that arena's blocks; the record's owner is the only thread that
 * uses it, and a record's next owner inherits it. */
int cache__mem_init(cache__mem_t *mem) {
  pthread_once(&small_usable_once, small_usable_fill);
  unsigned arena;
  size_t len = sizeof arena;
  if (mallctl("arenas.create", &arena, &len, NULL, 0) != 0)
    return -1;
  mem->arena = arena;
  mem->flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
  for (int i = 0; i < CACHE__MEM_TCACHES; i++)
    atomic_init(&mem->tcaches[i], 0);
  return 0;
}

/* Low half of a tcaches word when tcache.create failed: do not retry. */
#define NO_TCACHE UINT32_MAX

/* The thread cache id in a tcaches word, if it holds one made in this
 * process (not before a fork). */
static bool id_of(uint64_t v, unsigned *id) {
  uint32_t low = (uint32_t)v;
  if (v == 0 || v >> 32 != cache__epoch_forks() || low == NO_TCACHE)
    return false;
  *id = low - 1;
  return true;
}

/* The flags for a block allocated or freed by the calling thread. A slot
 * made before a fork is not used in the child: the thread that owned it
 * there may have been half way through an allocation. */
static int thread_flags(cache__mem_t *mem) {
  const cache__epoch_rec_t *r = cache__epoch_current();
  if (r == NULL || r->index >= CACHE__MEM_TCACHES)
    return mem->flags;
  _Atomic uint64_t *slot = &mem->tcaches[r->index];
  uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
  uint64_t gen = cache__epoch_forks();
  unsigned id;
  if (v == 0 || v >> 32 != gen) {
    size_t len = sizeof id;
    uint32_t low = mallctl("tcache.create", &id, &len, NULL, 0) == 0
                       ? (uint32_t)id + 1
                       : NO_TCACHE;
    v = gen << 32 | low;
    atomic_store_explicit(slot, v, memory_order_relaxed);
  }
  if (!id_of(v, &id))
    return mem->flags;
  return MALLOCX_ARENA(mem->arena) | MALLOCX_TCACHE(id);
}

void cache__mem_thread_flush(cache__mem_t *mem, uint32_t index) {
  unsigned id;
  if (index >= CACHE__MEM_TCACHES ||
      !id_of(atomic_load_explicit(&mem->tcaches[index], memory_order_relaxed),
             &id))
    return;
  /* jemalloc frees the thread cache itself too, and makes it again under
   * the same id when it is next used. */
  mallctl("tcache.flush", NULL, NULL, &id, sizeof id);
}

/* No thread uses the cache any more: its thread caches are flushed into
 * the arena, which is then empty. Destroying it gives its memory back and
 * lets jemalloc reuse the index. Thread caches of another process (made
 * before a fork) are left alone. */
void cache__mem_destroy(cache__mem_t *mem) {
  if (mem->flags == 0)
    return; /* cache__mem_init did not succeed */
  for (int i = 0; i < CACHE__MEM_TCACHES; i++) {
    unsigned id;
    if (id_of(atomic_load(&mem->tcaches[i]), &id))
      mallctl("tcache.destroy", NULL, NULL, &id, sizeof id);
  }
  char name[64];
  snprintf(name, sizeof name, "arena.%u.destroy", mem->arena);
  mallctl(name, NULL, NULL, NULL, 0);
}

/* Every size class of 16 bytes or more is a multiple of 16, so entries
 * (48 bytes at least) come 16-byte aligned, as the store needs. */
void *cache__mem_alloc(cache__mem_t *mem, size_t size) {
  return mallocx(size ? size : 1, thread_flags(mem));
}

void *cache__mem_calloc(cache__mem_t *mem, size_t size) {
  return mallocx(size ? size : 1, thread_flags(mem) | MALLOCX_ZERO);
}

void cache__mem_free(cache__mem_t *mem, void *ptr, size_t size) {
  if (ptr != NULL)
    sdallocx(ptr, size ? size : 1, thread_flags(mem));
}

size_t cache__mem_usable(cache__mem_t *mem, void *ptr, size_t size) {
  (void)mem; /* an arena's classes are every arena's */
  (void)ptr;
  if (size > 16 && size <= SMALL_STEPS * 16)
    return small_usable[(size + 15) >> 4];
  return cache__mem_class(size);
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

int cache__mem_arena_allocated(cache__mem_t *mem, uint64_t *out) {
  char small[64], large[64];
  snprintf(small, sizeof small, "stats.arenas.%u.small.allocated", mem->arena);
  snprintf(large, sizeof large, "stats.arenas.%u.large.allocated", mem->arena);
  uint64_t s, l;
  if (refresh_stats() != 0 || read_size(small, &s) != 0 ||
      read_size(large, &l) != 0)
    return -1;
  *out = s + l;
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

size_t cache__mem_class(size_t size) { return size; }

void cache__mem_thread_flush(cache__mem_t *mem, uint32_t index) {
  (void)mem;
  (void)index;
}

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

int cache__mem_arena_allocated(cache__mem_t *mem, uint64_t *out) {
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
