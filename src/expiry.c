/* See expiry.h. */
#include "expiry.h"

void cache__expiry_init(cache__expiry_t *x) {
  x->heap = NULL;
  x->len = 0;
  x->cap = 0;
}

void cache__expiry_free(cache__expiry_t *x, cache__mem_t *mem) {
  cache__mem_table_free(mem, x->heap, (size_t)x->cap * sizeof *x->heap);
  cache__expiry_init(x);
}

#define MIN_CAP 64

/* Moves the heap to an array of cap slots (at least len). */
static int resize(cache__expiry_t *x, cache__mem_t *mem, uint32_t cap) {
  cache__expiry_slot_t *heap =
      cache__mem_table_alloc(mem, (size_t)cap * sizeof *heap);
  if (heap == NULL)
    return -1;
  if (x->len > 0)
    memcpy(heap, x->heap, (size_t)x->len * sizeof *heap);
  cache__mem_table_free(mem, x->heap, (size_t)x->cap * sizeof *x->heap);
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
    uint32_t parent = (i - 1) / 2;
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
    uint32_t child = 2 * i + 1;
    if (child >= x->len)
      break;
    if (child + 1 < x->len && x->heap[child + 1].at < x->heap[child].at)
      child++;
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
    if (last.at < d->at && i > 0 && last.at < x->heap[(i - 1) / 2].at)
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
