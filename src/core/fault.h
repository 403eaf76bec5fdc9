/* Fault injection, for tests of paths that only a real failure can reach
 * (an allocation that fails, an expiry pass that fails). Compiled in only
 * when CACHE_FAULT_INJECTION is defined, which the test build of the library
 * does and the shipped library does not: there every CACHE__FAULT() is the
 * constant 0. */
#ifndef CACHE_FAULT_H
#define CACHE_FAULT_H

#include <stdint.h>

enum {
  CACHE__FAULT_ALLOC, /* allocating an entry */
  CACHE__FAULT_PASS,  /* running an expiry pass */
  CACHE__FAULT_PROBE, /* a slot read without the lock: delayed, not failed */
  CACHE__FAULT_SWAP,  /* between a replaced entry's removal and the insert
                         of the new one: delayed, not failed */
  CACHE__FAULT_SITES
};

#ifdef CACHE_FAULT_INJECTION
/* From now on, let `skip` calls through at `site`, then fail `count`. */
void cache__fault_set(int site, uint64_t skip, uint64_t count);
/* True if this call at `site` is to fail. */
int cache__fault_fire(int site);
#define CACHE__FAULT(site) cache__fault_fire(site)
/* If this call at `site` is to fail, waits a few microseconds instead:
 * a lookup slowed down between the slots it reads lets a concurrent
 * writer change the table in the middle of it, and a writer slowed down
 * in the middle of a change lets lookups see it half done: races that
 * otherwise take nanoseconds to lose. */
void cache__fault_delay(int site);
#define CACHE__FAULT_DELAY(site) cache__fault_delay(site)
#else
#define CACHE__FAULT(site) 0
#define CACHE__FAULT_DELAY(site) ((void)0)
#endif

#endif
