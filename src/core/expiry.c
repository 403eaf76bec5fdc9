/* See expiry.h. */
#include "expiry.h"

void cache__expiry_init(cache__expiry_t *x) {
  x->heap = NULL;
  x->len = 0;
  x->cap = 0;
}

/* The children of slot i are slots 4i + 1 to 4i + 4. The array starts
 * with PAD unused slots, so that they sit at 4i + 4 to 4i + 7 from its
 * start: one 64-byte line when the array starts on one, as jemalloc's
 * blocks of 1 KiB and more do (the smallest array, 64 slots and the
 * padding, takes 1,072 bytes). Another allocator's arrays may start
 * elsewhere: the heap is as correct, only slower. */
#define PAD (CACHE__HEAP_ARITY - 1)
_Static_assert(CACHE__HEAP_ARITY * sizeof(cache__expiry_slot_t) == 64,
               "the children of a slot fill one cache line");

static void heap_free(cache__mem_t *mem, cache__expiry_slot_t *heap,
                      uint32_t cap) {
  if (heap != NULL)
    cache__mem_table_free(mem, heap - PAD, ((size_t)cap + PAD) * sizeof *heap);
}

void cache__expiry_free(cache__expiry_t *x, cache__mem_t *mem) {
  heap_free(mem, x->heap, x->cap);
  cache__expiry_init(x);
}

#define MIN_CAP 64

/* Moves the heap to an array of cap slots (at least len). */
static int resize(cache__expiry_t *x, cache__mem_t *mem, uint32_t cap) {
  cache__expiry_slot_t *heap =
      cache__mem_table_alloc(mem, ((size_t)cap + PAD) * sizeof *heap);
  if (heap == NULL)
    return -1;
  heap += PAD;
  if (x->len > 0)
    memcpy(heap, x->heap, (size_t)x->len * sizeof *heap);
  heap_free(mem, x->heap, x->cap);
  x->heap = heap;
  x->cap = cap;
  return 0;
}

int cache__expiry_reserve(cache__expiry_t *x, cache__mem_t *mem) {
  if (x->len < x->cap)
    return 0;
  if (x->cap >= CACHE__NO_HEAP / 2)
    return -1;
  return resize(x, mem, x->cap ? x->cap * 2 : MIN_CAP);
}

static void place(cache__expiry_t *x, uint32_t i, cache__expiry_slot_t slot) {
  x->heap[i] = slot;
  cache__entry_deadline(slot.entry)->heap_index = i;
}

static void sift_up(cache__expiry_t *x, uint32_t i, cache__expiry_slot_t slot) {
  while (i > 0) {
    uint32_t parent = (i - 1) / CACHE__HEAP_ARITY;
    if (x->heap[parent].at <= slot.at)
      break;
    place(x, i, x->heap[parent]);
    i = parent;
  }
  place(x, i, slot);
}

static void sift_down(cache__expiry_t *x, uint32_t i,
                      cache__expiry_slot_t slot) {
  for (;;) {
    uint64_t first = (uint64_t)i * CACHE__HEAP_ARITY + 1;
    if (first >= x->len)
      break;
    uint32_t end = first + CACHE__HEAP_ARITY < x->len
                       ? (uint32_t)first + CACHE__HEAP_ARITY
                       : x->len;
    uint32_t child = (uint32_t)first; /* the earliest of the children */
    for (uint32_t k = child + 1; k < end; k++)
      if (x->heap[k].at < x->heap[child].at)
        child = k;
    if (slot.at <= x->heap[child].at)
      break;
    place(x, i, x->heap[child]);
    i = child;
  }
  place(x, i, slot);
}

void cache__expiry_add(cache__expiry_t *x, cache__entry_t *e) {
  if (!cache__entry_expires(e))
    return;
  cache__expiry_slot_t slot = {cache__entry_deadline(e)->at, e};
  sift_up(x, x->len++, slot);
}

void cache__expiry_remove(cache__expiry_t *x, cache__mem_t *mem,
                          cache__entry_t *e) {
  if (!cache__entry_expires(e))
    return;
  cache__deadline_t *d = cache__entry_deadline(e);
  uint32_t i = d->heap_index;
  if (i == CACHE__NO_HEAP)
    return;
  d->heap_index = CACHE__NO_HEAP;
  cache__expiry_slot_t last = x->heap[--x->len];
  if (i < x->len) { /* else it was the last slot */
    /* e's parent is due no later than e: a last entry due no earlier than
     * e (every entry, when all share one TTL) cannot go up, and the
     * parent's slot, seldom in the CPU's caches, need not be read. */
    if (last.at < d->at && i > 0 &&
        last.at < x->heap[(i - 1) / CACHE__HEAP_ARITY].at)
      sift_up(x, i, last);
    else
      sift_down(x, i, last);
  }
  /* Halve at a quarter full, not at half, so that an add and a remove
   * at the boundary do not resize every time. If there is no memory for
   * the smaller array, the larger one simply stays. */
  if (x->cap > MIN_CAP && x->len < x->cap / 4)
    resize(x, mem, x->cap / 2);
}
