/* Epoch-based reclamation: lets a lookup read the hash table and entries
 * without taking the shard lock, by making sure no memory it may still be
 * reading is freed under it.
 *
 * A reader announces the global epoch it saw before it reads anything
 * shared, and withdraws when done. Memory unlinked by a writer is stamped
 * with the epoch current at that moment and freed only once the global
 * epoch is two further on: the epoch advances only when every announced
 * reader has seen the current one, so by then every reader that might
 * have seen the memory has left. Readers write only their own record (one
 * cache line per thread), never a line another core reads on its way.
 * In a fork child, the records of the threads that did not survive are
 * released (a handler installed with the first record). */
#ifndef CACHE_EPOCH_H
#define CACHE_EPOCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ThreadSanitizer does not model fences (GCC refuses them under it with
 * optimisation, -Wtsan), so the ones the lookups without the lock depend
 * on would leave it blind to their orderings. In such a build a fence is
 * a sequentially consistent read-modify-write of one process-wide
 * variable instead: every thread that passes one synchronizes with every
 * thread that passed one before, which orders at least what the fences
 * order, so TSan sees each edge they make and reports no race they
 * prevent. Elsewhere it is the fence itself. */
#if defined(__SANITIZE_THREAD__)
#define CACHE__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CACHE__TSAN 1
#endif
#endif

#ifdef CACHE__TSAN
extern _Atomic uint64_t cache__tsan_fence;
#define cache__fence(order)                                                    \
  ((void)(order), (void)atomic_fetch_add_explicit(&cache__tsan_fence, 0,       \
                                                  memory_order_seq_cst))
#else
#define cache__fence(order) atomic_thread_fence(order)
#endif

typedef struct cache__epoch_rec {
  /* (epoch << 1) | 1 while its thread reads, 0 otherwise. */
  _Alignas(64) _Atomic uint64_t word;
  struct cache__epoch_rec *next; /* every record, never unlinked */
  uint32_t index;                /* small, dense: a stripe number */
  atomic_bool in_use;            /* owned by a live thread */
} cache__epoch_rec_t;

/* The calling thread's record, or NULL. Read by every lookup, hence
 * inline (and, where the compiler can, through a TLS descriptor:
 * CMakeLists.txt). */
extern _Thread_local cache__epoch_rec_t *cache__epoch_tls;

/* Takes a record for the calling thread: NULL if there was no memory. */
cache__epoch_rec_t *cache__epoch_adopt(void);

/* The calling thread's record, made on first use; NULL if there was no
 * memory for it (the caller then takes its locks as before). */
static inline cache__epoch_rec_t *cache__epoch_self(void) {
  cache__epoch_rec_t *r = cache__epoch_tls;
  return r != NULL ? r : cache__epoch_adopt();
}

/* The calling thread's record if it has one already, else NULL. */
static inline cache__epoch_rec_t *cache__epoch_current(void) {
  return cache__epoch_tls;
}

/* Called at the exit of a thread that had a record, with the record's
 * index, while the record is still the thread's own: state kept by record
 * index can be given back there. Set once, before any record exists. */
void cache__epoch_on_exit(void (*hook)(uint32_t index));

/* How many times this process is a fork child of a process that had
 * records: state kept by record index from before the fork belonged to
 * threads that are gone. */
uint64_t cache__epoch_forks(void);

extern _Atomic uint64_t cache__epoch_global;

static inline void cache__epoch_enter(cache__epoch_rec_t *r) {
  uint64_t g = atomic_load_explicit(&cache__epoch_global, memory_order_relaxed);
  /* Release: a thread that sees this announcement has seen the reads of
   * this thread's earlier lookups end, as if it had seen it leave. */
  atomic_store_explicit(&r->word, g << 1 | 1, memory_order_release);
  /* The announcement must be visible before any shared read: a writer
   * that has not seen it may already be freeing what the reads find. */
  cache__fence(memory_order_seq_cst);
}

static inline void cache__epoch_leave(cache__epoch_rec_t *r) {
  atomic_store_explicit(&r->word, 0, memory_order_release);
}

/* True if no thread but the caller can be reading, nor start reading
 * what the caller has already unlinked: then it may free it at once.
 * That is the case of a program with one thread, which thus reuses the
 * memory of an entry it evicts while that memory is still in its cache. */
bool cache__epoch_alone(void);

/* The stamp for memory just unlinked (the unlinking stores come first). */
uint64_t cache__epoch_stamp(void);

/* Memory stamped with this epoch or an earlier one can be freed now. Tries
 * to move the epoch on first. */
uint64_t cache__epoch_reclaimable(void);

/* Waits until every reader that was reading at the call has left, so that
 * whatever was unlinked before it can be freed. Readers take no lock, so
 * it may be called with locks held; never while reading. */
void cache__epoch_synchronize(void);

#endif
