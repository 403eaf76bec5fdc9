/* See fault.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "fault.h"

#ifdef CACHE_FAULT_INJECTION
#include <stdatomic.h>
#include <time.h>

static _Atomic uint64_t skip[CACHE__FAULT_SITES];
static _Atomic uint64_t fail[CACHE__FAULT_SITES];

void cache__fault_set(int site, uint64_t skip_calls, uint64_t fail_calls) {
  atomic_store(&fail[site], fail_calls);
  atomic_store(&skip[site], skip_calls);
}

/* Decrements *v if it is positive; true if it did. */
static int take(_Atomic uint64_t *v) {
  uint64_t n = atomic_load(v);
  while (n > 0)
    if (atomic_compare_exchange_weak(v, &n, n - 1))
      return 1;
  return 0;
}

int cache__fault_fire(int site) {
  if (atomic_load_explicit(&fail[site], memory_order_relaxed) == 0)
    return 0;
  if (take(&skip[site]))
    return 0;
  return take(&fail[site]);
}

#define DELAY_NS 2000

/* A busy wait: a sleep would hand the CPU to the very writer whose moves
 * the delay is meant to overlap, and for far longer than asked. */
void cache__fault_delay(int site) {
  if (!cache__fault_fire(site))
    return;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do
    clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
         DELAY_NS);
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int cache__fault_unused_t;
#endif
