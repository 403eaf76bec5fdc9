/* libFuzzer target: decodes its input into a sequence of public API calls on
 * one small cache and checks every result against a reference model.
 *
 * The model (model_t below) is deliberately slow and plain: an array
 * with one slot per possible key, holding the value, the deadline, the
 * insertion sequence and the last-use sequence, plus the expected
 * statistics. It implements the semantics documented in cache.h: TTLs with
 * saturation and lazy expiry, the max_entries and max_bytes bounds, FIFO
 * and LRU eviction, expired victims counted as expirations, the listener's
 * removal reasons.
 *
 * Every removal the library makes is seen through the on_remove listener,
 * and the byte size of each entry is learned from the change of
 * cache_stats_t.bytes across the set that stored it (the cache starts
 * empty, so every entry's size is known): the checks do not depend on what
 * the allocator rounds sizes to. With one shard (small bounds) and FIFO or
 * LRU the model predicts every eviction exactly; with several shards, or
 * another policy, the library picks the victims, and the model checks that
 * each is a legal one and that no more were evicted than the bounds
 * required.
 *
 * Input layout (gen_corpus.py writes seeds in it):
 *   header  b0: bits 6-7 the mode: 0/1 max_entries = 1 + (b0 & 63), small
 *               values; 2 no max_entries, values up to 16 KiB; 3
 *               max_entries = 1 + b2, values up to 16 KiB.
 *           b1: bit 0 LRU (else FIFO), bit 6 another policy of the
 *               header's (bit 7 picks which); bits 1-2 default ttl (0, 1 + b3,
 *               never, UINT64_MAX - b3); bit 3 start the clock at
 *               UINT64_MAX - 256 * b3 (else at b3); bit 4 set max_bytes
 *               (from b2 or b0, see configure()); bit 5 the listener calls
 *               back into the cache.
 *   then operations, an opcode byte (mod 16) and its arguments: set, fill
 *   (up to 16 sets), get, contains, delete, clear, cleanup, clock steps,
 *   stats, get_or_load, calls with invalid arguments, count or close; see
 *   the switch in LLVMFuzzerTestOneInput(). A short input reads as zeros
 *   past its end.
 *
 * On a mismatch the target prints the failing operation, the recent ones
 * and the model's state to stderr, and aborts. With FUZZ_API_TRACE set in
 * the environment it prints every operation as it goes. */
#include "cache.h"
#include "options.h" /* CACHE__STATS_V1_SIZE: the first cache_stats_t */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER UINT64_MAX

/* ---- keys ----------------------------------------------------------------
 * 16 short keys, 1 to 8 bytes, chosen to look alike (shared prefixes, the
 * same first, middle and last bytes, NUL bytes), and one key of the maximum
 * length. */
#define NKEYS 17
#define LONG_KEY 16

static const struct {
  const char *bytes;
  size_t len;
} short_keys[16] = {
    {"a", 1},       {"b", 1},    {"aa", 2},       {"ab", 2},
    {"ba", 2},      {"aaa", 3},  {"a\0a", 3},     {"\0", 1},
    {"abcd", 4},    {"abce", 4}, {"abcdefgh", 8}, {"abcdefgi", 8},
    {"bcdefgh", 7}, {"aab", 3},  {"aba", 3},      {"\xff\xff\xff\xff\xff", 5},
};

static unsigned char long_key[CACHE_KEY_MAX];
/* A buffer large enough for any key length the invalid-argument calls pass,
 * so that a library that wrongly reads the key stays in bounds. */
static unsigned char over_key[CACHE_KEY_MAX + 1];

static const unsigned char *key_bytes(int k) {
  return k == LONG_KEY ? long_key : (const unsigned char *)short_keys[k].bytes;
}

static size_t key_len(int k) {
  return k == LONG_KEY ? CACHE_KEY_MAX : short_keys[k].len;
}

/* The key index of bytes a listener reported, or -1. */
static int key_index(const void *key, size_t len) {
  for (int k = 0; k < NKEYS; k++)
    if (key_len(k) == len && memcmp(key_bytes(k), key, len) == 0)
      return k;
  return -1;
}

/* ---- the input ----------------------------------------------------------- */
typedef struct reader {
  const uint8_t *p;
  size_t n, off;
} reader_t;

static uint8_t rd8(reader_t *r) { return r->off < r->n ? r->p[r->off++] : 0; }

static uint16_t rd16(reader_t *r) {
  uint16_t lo = rd8(r);
  return (uint16_t)(lo | (uint16_t)rd8(r) << 8);
}

static bool rd_more(const reader_t *r) { return r->off < r->n; }

/* ---- the clock ----------------------------------------------------------- */
typedef struct fuzz_clock {
  uint64_t now;
} fuzz_clock_t;

static fuzz_clock_t g_clock;

static uint64_t clock_read(void *ctx) {
  fuzz_clock_t *c = ctx;
  if (c != &g_clock) {
    fprintf(stderr, "fuzz_api: clock_ms called with a wrong clock_ctx\n");
    abort();
  }
  return c->now;
}

static void clock_advance(uint64_t d) {
  g_clock.now = d > NEVER - g_clock.now ? NEVER : g_clock.now + d;
}

/* ---- failure reports ----------------------------------------------------- */
#define TRACE_KEPT 48
#define TRACE_LEN 160

static char g_trace[TRACE_KEPT][TRACE_LEN];
static size_t g_op;    /* index of the operation under way */
static size_t g_nops;  /* operations traced so far */
static bool g_verbose; /* FUZZ_API_TRACE set: print every operation */
static void dump_model(void);

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...) {
  char *t = g_trace[g_nops % TRACE_KEPT];
  int n = snprintf(t, TRACE_LEN, "#%zu now=%" PRIu64 " ", g_op, g_clock.now);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && n < TRACE_LEN)
    vsnprintf(t + n, (size_t)(TRACE_LEN - n), fmt, ap);
  va_end(ap);
  g_nops++;
  if (g_verbose)
    fprintf(stderr, "%s\n", t);
}

static void fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...) {
  fprintf(stderr, "\nfuzz_api: MISMATCH at operation #%zu: ", g_op);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nfuzz_api: the last operations (oldest first):\n");
  size_t first = g_nops > TRACE_KEPT ? g_nops - TRACE_KEPT : 0;
  for (size_t i = first; i < g_nops; i++)
    fprintf(stderr, "  %s\n", g_trace[i % TRACE_KEPT]);
  dump_model();
  abort();
}

static const char *st(int rc) { return cache_err_name(rc); }

static void expect_rc(const char *what, int got, int want) {
  if (got != want)
    fail("%s returned %d (%s), expected %d (%s)", what, got, st(got), want,
         st(want));
}

/* ---- the listener -------------------------------------------------------- */
#define MAX_EVENTS 64

typedef struct event {
  int key; /* index, or -1 for bytes that are no key of ours */
  int reason;
  unsigned char *value;
  size_t len;
  bool used; /* matched by the model */
} event_t;

static event_t g_ev[MAX_EVENTS];
static size_t g_nev;
static cache_t *g_cache;
static bool g_reenter; /* call back into the cache from the listener */

static void on_remove(const void *key, size_t klen, const void *value,
                      size_t vlen, int reason, void *ctx) {
  if (ctx != &g_ev)
    fail("on_remove called with a wrong ctx");
  if (g_nev == MAX_EVENTS)
    fail("more than %d removals in one call", MAX_EVENTS);
  if (cache_removal_name(reason) == NULL)
    fail("on_remove with an unknown reason %d", reason);
  event_t *e = &g_ev[g_nev++];
  e->key = key_index(key, klen);
  e->reason = reason;
  e->len = vlen;
  e->value = malloc(vlen ? vlen : 1);
  if (e->value == NULL)
    abort();
  if (vlen)
    memcpy(e->value, value, vlen);
  e->used = false;
  if (g_reenter && e->key >= 0) {
    /* The listener runs outside every lock: calling back must not
     * deadlock. Looking the key up changes nothing here: the entry is
     * gone, or it is its live replacement. */
    int rc = cache_contains(g_cache, key, klen);
    if (rc != CACHE_OK && rc != CACHE_NOT_FOUND && rc != CACHE_ECLOSED)
      fail("cache_contains from the listener returned %s", st(rc));
  }
}

static void events_reset(void) {
  for (size_t i = 0; i < g_nev; i++)
    free(g_ev[i].value);
  g_nev = 0;
}

/* ---- the model ----------------------------------------------------------- */
typedef struct ment {
  bool present;
  unsigned char *val;
  size_t len;
  uint64_t deadline; /* NEVER or the clock ms it expires at */
  uint64_t ins_seq;  /* FIFO order: a replacement is a new insertion */
  uint64_t use_seq;  /* LRU order: sets and get hits */
  uint64_t fp;       /* bytes it occupies, as the library counted them */
} ment_t;

typedef struct model {
  ment_t e[NKEYS];
  uint64_t count, bytes, seq;
  uint64_t hits, misses, sets, deletes, evictions, expirations, cleanup_runs;
  bool closed;
  /* configuration */
  uint64_t max_e, max_b, def_ttl;
  int policy;
  bool exact; /* one shard and FIFO or LRU: the victims are predictable */
  bool big;   /* large values allowed */
} model_t;

static model_t M;

/* Per-entry overhead (footprint - key - value), measured once at start-up:
 * known only when the allocator reports exactly the requested sizes (as
 * under ASan); then ETOOBIG can be predicted exactly. */
static bool g_overhead_known;
static uint64_t g_overhead;

/* Every policy the header knows. FIFO and LRU are modelled exactly; any
 * other is checked only for legal victims and the bounds. */
static const int k_policies[] = {
#define FUZZ_POLICY(name, value, text) CACHE_POLICY_##name,
    CACHE_POLICY_MAP(FUZZ_POLICY)
#undef FUZZ_POLICY
};
#define N_POLICIES (sizeof k_policies / sizeof k_policies[0])

static const char *policy_name(int p) {
  const char *n = cache_policy_name(p);
  return n ? n : "?";
}

static const char *reason_name(int r) {
  const char *n = cache_removal_name(r);
  return n ? n : "?";
}

static void dump_model(void) {
  fprintf(stderr,
          "fuzz_api: model: policy=%s max_entries=%" PRIu64
          " max_bytes=%" PRIu64 " ttl=%" PRIu64 " exact=%d closed=%d"
          " count=%" PRIu64 " bytes=%" PRIu64 "\n",
          policy_name(M.policy), M.max_e, M.max_b, M.def_ttl, M.exact, M.closed,
          M.count, M.bytes);
  for (int k = 0; k < NKEYS; k++) {
    const ment_t *m = &M.e[k];
    if (m->present)
      fprintf(stderr,
              "  key %d: len=%zu deadline=%" PRIu64 " ins=%" PRIu64
              " use=%" PRIu64 " fp=%" PRIu64 "\n",
              k, m->len, m->deadline, m->ins_seq, m->use_seq, m->fp);
  }
  fprintf(stderr, "fuzz_api: removals reported by this call:\n");
  for (size_t i = 0; i < g_nev; i++)
    fprintf(stderr, "  key %d reason %s value_len %zu%s\n", g_ev[i].key,
            reason_name(g_ev[i].reason), g_ev[i].len,
            g_ev[i].used ? "" : " (unexpected)");
}

static bool m_expired(int k) {
  const ment_t *m = &M.e[k];
  return m->present && m->deadline != NEVER && g_clock.now >= m->deadline;
}

static uint64_t m_deadline(uint64_t ttl) {
  if (ttl == 0)
    ttl = M.def_ttl;
  if (ttl == 0 || ttl >= NEVER - g_clock.now)
    return NEVER;
  return g_clock.now + ttl;
}

static void m_drop(int k) {
  ment_t *m = &M.e[k];
  free(m->val);
  memset(m, 0, sizeof *m);
}

/* Removes k from the model for `reason`, consuming the listener's report of
 * it. */
static void m_remove(int k, int reason) {
  ment_t *m = &M.e[k];
  if (!m->present)
    fail("key %d removed (%s), but the cache should not hold it", k,
         reason_name(reason));
  event_t *ev = NULL;
  for (size_t i = 0; i < g_nev && ev == NULL; i++)
    if (!g_ev[i].used && g_ev[i].key == k && g_ev[i].reason == reason)
      ev = &g_ev[i];
  if (ev == NULL)
    fail("key %d should have been removed (%s) but the listener did not "
         "report it",
         k, reason_name(reason));
  ev->used = true;
  if (ev->len != m->len || (m->len && memcmp(ev->value, m->val, m->len) != 0))
    fail("the listener got a wrong value for key %d (%zu bytes, expected "
         "%zu)",
         k, ev->len, m->len);
  switch (reason) {
  case CACHE_REMOVED_EXPIRED:
    M.expirations++;
    break;
  case CACHE_REMOVED_EVICTED:
    M.evictions++;
    break;
  case CACHE_REMOVED_DELETED:
    M.deletes++;
    break;
  default:
    break;
  }
  M.bytes -= m->fp;
  M.count--;
  m_drop(k);
}

/* Every removal the listener reported must have been matched. */
static void events_all_used(void) {
  for (size_t i = 0; i < g_nev; i++)
    if (!g_ev[i].used)
      fail("unexpected removal: key %d (%s)", g_ev[i].key,
           reason_name(g_ev[i].reason));
}

/* A lookup by get, contains or delete: an expired entry is removed and
 * counted. True if a live entry is there. */
static bool m_lookup(int k) {
  if (m_expired(k)) {
    m_remove(k, CACHE_REMOVED_EXPIRED);
    return false;
  }
  return M.e[k].present;
}

static bool m_fits(bool need_slot, uint64_t fp_new) {
  if (need_slot && M.max_e != 0 && M.count >= M.max_e)
    return false;
  return M.max_b == 0 || M.bytes + fp_new <= M.max_b;
}

/* Predicts whether an entry of these lengths is refused with ETOOBIG:
 * 1 yes, 0 no, -1 unknown. */
static int m_toobig(size_t klen, size_t vlen) {
  if (M.max_b == 0)
    return 0;
  if (klen + vlen >= M.max_b)
    return 1; /* the header comes on top */
  if (!g_overhead_known)
    return -1;
  return g_overhead + klen + vlen > M.max_b;
}

/* The next eviction in a one-shard cache, consuming its report: the entry
 * with the earliest deadline if that has passed, else the policy's
 * victim. */
static void m_evict_one(void) {
  uint64_t first = NEVER;
  for (int k = 0; k < NKEYS; k++)
    if (M.e[k].present && M.e[k].deadline < first)
      first = M.e[k].deadline;
  if (first != NEVER && g_clock.now >= first) {
    /* Entries with equal deadlines leave in the heap's order, which the
     * model does not know. Of those the library reports, take the smallest
     * first: then each removal is needed if the library's last one was. */
    int pick = -1;
    for (size_t i = 0; i < g_nev; i++) {
      const event_t *ev = &g_ev[i];
      if (!ev->used && ev->key >= 0 && ev->reason == CACHE_REMOVED_EXPIRED &&
          M.e[ev->key].present && M.e[ev->key].deadline == first &&
          (pick < 0 || M.e[ev->key].fp < M.e[pick].fp))
        pick = ev->key;
    }
    if (pick >= 0) {
      m_remove(pick, CACHE_REMOVED_EXPIRED);
      return;
    }
    fail("an expired entry (deadline %" PRIu64 ") should have been removed "
         "to make room, but none was reported",
         first);
  }
  int victim = -1;
  for (int k = 0; k < NKEYS; k++) {
    if (!M.e[k].present)
      continue;
    uint64_t seq =
        M.policy == CACHE_POLICY_LRU ? M.e[k].use_seq : M.e[k].ins_seq;
    uint64_t best = victim < 0                     ? 0
                    : M.policy == CACHE_POLICY_LRU ? M.e[victim].use_seq
                                                   : M.e[victim].ins_seq;
    if (victim < 0 || seq < best)
      victim = k;
  }
  if (victim < 0)
    fail("model error: no room and nothing to evict");
  m_remove(victim, CACHE_REMOVED_EVICTED);
}

/* The model of a cache_set(k, val, len, ttl) that the library answered with
 * rc, stats_bytes being cache_stats_t.bytes after the whole call. */
static void m_set(int k, const unsigned char *val, size_t len, uint64_t ttl,
                  int rc, uint64_t stats_bytes) {
  size_t klen = key_len(k);
  int toobig = m_toobig(klen, len);
  if (M.closed) {
    if (rc != CACHE_ECLOSED && !(rc == CACHE_ETOOBIG && toobig != 0))
      fail("cache_set on a closed cache returned %s", st(rc));
    return;
  }
  if (rc == CACHE_ETOOBIG) {
    if (toobig == 0)
      fail("cache_set(key %d, %zu bytes) returned CACHE_ETOOBIG; the "
           "entry fits in max_bytes %" PRIu64,
           k, len, M.max_b);
    return; /* nothing changes */
  }
  if (rc != CACHE_OK)
    fail("cache_set(key %d, %zu bytes) returned %s", k, len, st(rc));
  if (toobig == 1)
    fail("cache_set(key %d, %zu bytes) stored an entry larger than "
         "max_bytes %" PRIu64,
         k, len, M.max_b);

  /* The new entry's size: the change of the byte total, plus what the
   * reported removals freed. */
  int64_t freed = 0;
  for (size_t i = 0; i < g_nev; i++) {
    const event_t *ev = &g_ev[i];
    if (ev->used)
      continue;
    if (ev->key < 0 || !M.e[ev->key].present)
      fail("removal reported for key %d, which the cache does not hold",
           ev->key);
    freed += (int64_t)M.e[ev->key].fp;
  }
  int64_t fp = (int64_t)stats_bytes - (int64_t)M.bytes + freed;
  if (fp <= (int64_t)(klen + len))
    fail("bytes went from %" PRIu64 " to %" PRIu64 " with %" PRId64
         " freed: the new entry (key %zu + value %zu bytes) would occupy "
         "%" PRId64,
         M.bytes, stats_bytes, freed, klen, len, fp);
  uint64_t fp_new = (uint64_t)fp;
  if (g_overhead_known && fp_new != g_overhead + klen + len)
    fail("the new entry occupies %" PRIu64 " bytes, expected %" PRIu64, fp_new,
         g_overhead + klen + len);

  bool need_slot = true;
  if (M.e[k].present) {
    /* The library keeps the old entry's place in the count for the new
     * one; the model gives it back and takes it again below. */
    m_remove(k, m_expired(k) ? CACHE_REMOVED_EXPIRED : CACHE_REMOVED_REPLACED);
    need_slot = false;
  }
  if (M.exact) {
    while (!m_fits(need_slot, fp_new))
      m_evict_one();
  } else {
    /* Several shards or another policy: the library picks the victims.
     * Each must be held, be another key, and be counted as expired exactly
     * when it was. */
    uint64_t largest = 0;
    bool evicted = false;
    for (size_t i = 0; i < g_nev; i++) {
      event_t *ev = &g_ev[i];
      if (ev->used)
        continue;
      int v = ev->key;
      bool exp = m_expired(v);
      if (ev->reason != (exp ? CACHE_REMOVED_EXPIRED : CACHE_REMOVED_EVICTED))
        fail("key %d was removed as %s to make room but it %s expired", v,
             reason_name(ev->reason), exp ? "had" : "had not");
      if (M.e[v].fp > largest)
        largest = M.e[v].fp;
      m_remove(v, ev->reason);
      evicted = true;
    }
    if (!m_fits(need_slot, fp_new))
      fail("after its evictions the new entry still does not fit");
    /* The last victim was needed: without it the entry did not fit. */
    if (evicted) {
      bool slot_short = need_slot && M.max_e != 0 && M.count + 1 >= M.max_e;
      bool bytes_short = M.max_b != 0 && M.bytes + largest + fp_new > M.max_b;
      if (!slot_short && !bytes_short)
        fail("cache_set evicted more entries than the bounds required");
    }
  }
  ment_t *m = &M.e[k];
  m->present = true;
  m->val = malloc(len ? len : 1);
  if (m->val == NULL)
    abort();
  if (len)
    memcpy(m->val, val, len);
  m->len = len;
  m->deadline = m_deadline(ttl);
  m->ins_seq = m->use_seq = ++M.seq;
  m->fp = fp_new;
  M.count++;
  M.bytes += fp_new;
  M.sets++;
}

/* ---- the checks after each call ------------------------------------------ */
static void check_state(void) {
  events_all_used();
  int h = cache_health(g_cache);
  if (h != (M.closed ? CACHE_ECLOSED : CACHE_HEALTH_HEALTHY))
    fail("cache_health returned %d", h);
  if (strcmp(cache_name(g_cache), "fuzz") != 0)
    fail("cache_name is \"%s\"", cache_name(g_cache));
  uint64_t n = cache_count(g_cache);
  if (M.closed) {
    if (n != 0)
      fail("cache_count of a closed cache is %" PRIu64, n);
    cache_stats_t s = {.struct_size = sizeof s};
    expect_rc("cache_stats (closed)", cache_stats(g_cache, &s), CACHE_ECLOSED);
    return;
  }
  if (n != M.count)
    fail("cache_count is %" PRIu64 ", expected %" PRIu64, n, M.count);
  cache_stats_t s;
  memset(&s, 0xA5, sizeof s);
  s.struct_size = sizeof s;
  expect_rc("cache_stats", cache_stats(g_cache, &s), CACHE_OK);
  if (s.struct_size != sizeof s)
    fail("cache_stats changed struct_size");
#define EQ(field, want)                                                        \
  do {                                                                         \
    if ((uint64_t)s.field != (uint64_t)(want))                                 \
      fail("stats." #field " is %" PRIu64 ", expected %" PRIu64,               \
           (uint64_t)s.field, (uint64_t)(want));                               \
  } while (0)
  EQ(entries, M.count);
  EQ(bytes, M.bytes);
  EQ(hits, M.hits);
  EQ(misses, M.misses);
  EQ(sets, M.sets);
  EQ(deletes, M.deletes);
  EQ(evictions, M.evictions);
  EQ(expirations, M.expirations);
  EQ(cleanup_runs, M.cleanup_runs);
  EQ(cleanup_errors, 0);
  EQ(max_entries, M.max_e);
  EQ(max_bytes, M.max_b);
  EQ(alerts_warning, 0);
  EQ(alerts_critical, 0);
  EQ(arena_resident_bytes, 0);
  EQ(memory_evictions, 0);
  EQ(health, CACHE_HEALTH_HEALTHY);
  EQ(reserved0, 0);
#undef EQ
  if (M.max_e != 0 && s.entries > M.max_e)
    fail("%" PRIu64 " entries, over max_entries", s.entries);
  if (M.max_b != 0 && s.bytes > M.max_b)
    fail("%" PRIu64 " bytes, over max_bytes", s.bytes);
}

/* ---- operation arguments ------------------------------------------------- */
#define VALUE_MAX_SMALL 64
#define VALUE_MAX_BIG 16384

static unsigned char g_val[VALUE_MAX_BIG];
static unsigned char g_buf[VALUE_MAX_BIG + 64];

static int rd_key(reader_t *r) {
  uint8_t b = rd8(r);
  return b == 0xff ? LONG_KEY : b & 15;
}

/* A value: its length, then bytes that differ from one operation to the
 * next, so that a stale value is never mistaken for the current one. */
static size_t rd_value(reader_t *r) {
  uint8_t b = rd8(r);
  size_t len = b % (VALUE_MAX_SMALL + 1);
  if (M.big && (b & 0x80))
    len = rd16(r) % (VALUE_MAX_BIG + 1);
  uint32_t x = (uint32_t)rd8(r) * 2654435761u ^ (uint32_t)g_op * 40503u;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    g_val[i] = (uint8_t)(x >> 23);
  }
  return len;
}

static uint64_t rd_ttl(reader_t *r) {
  uint8_t b = rd8(r);
  uint64_t arg = b >> 3;
  switch (b & 7) {
  case 0:
  case 1:
    return 0; /* the default */
  case 2:
  case 3:
  case 4:
    return 1 + arg; /* expires soon */
  case 5:
    return CACHE_TTL_NEVER;
  case 6:
    return NEVER - 1 - arg * 1000; /* huge: saturates unless the clock is
                                      early */
  default: {
    /* Right at the end of the clock: the deadline would be the last
     * millisecond, or one past it. */
    uint64_t room = NEVER - g_clock.now;
    return room - 1 + arg % 3; /* may wrap to 0: the default */
  }
  }
}

/* A get's buffer: NULL/0 (size query), exact, one short, large, random. */
static size_t rd_buflen(reader_t *r, int k, void **buf) {
  uint8_t b = rd8(r);
  size_t len = M.e[k].present ? M.e[k].len : 8;
  size_t n;
  *buf = g_buf;
  switch (b % 6) {
  case 0:
    *buf = NULL;
    return 0;
  case 1:
    n = len;
    break;
  case 2:
    n = len ? len - 1 : 0;
    break;
  case 3:
    n = sizeof g_buf;
    break;
  case 4:
    n = (size_t)(b >> 3) * 4;
    break;
  default:
    n = 0;
    break;
  }
  return n;
}

/* Checks a copy-out of `want` (wlen bytes) into buf/buf_len as cache_get
 * documents it; rc and *vlen are the library's answers. */
static void check_copy(const char *what, int rc, const unsigned char *want,
                       size_t wlen, const void *buf, size_t buf_len,
                       size_t vlen) {
  const unsigned char *b = buf;
  if (buf_len < wlen) {
    if (rc != CACHE_ETOOSMALL)
      fail("%s: a %zu-byte value into %zu bytes returned %s, expected "
           "CACHE_ETOOSMALL",
           what, wlen, buf_len, st(rc));
    if (vlen != wlen)
      fail("%s: CACHE_ETOOSMALL with value_len %zu, expected %zu", what, vlen,
           wlen);
    for (size_t i = 0; i < buf_len; i++)
      if (b[i] != 0xA5)
        fail("%s: CACHE_ETOOSMALL but byte %zu of the buffer was written", what,
             i);
    return;
  }
  if (rc != CACHE_OK)
    fail("%s returned %s, expected CACHE_OK (%zu-byte value)", what, st(rc),
         wlen);
  if (vlen != wlen)
    fail("%s: value_len %zu, expected %zu", what, vlen, wlen);
  if (wlen && memcmp(b, want, wlen) != 0)
    fail("%s: wrong value bytes (%zu bytes)", what, wlen);
  for (size_t i = wlen; i < buf_len && i < wlen + 64; i++)
    if (b[i] != 0xA5)
      fail("%s: byte %zu past the %zu-byte value was written", what, i, wlen);
}

/* The model of a cache_get that found k live (a hit), or not. */
static void m_get(const char *what, int k, int rc, const void *buf,
                  size_t buf_len, size_t vlen) {
  if (M.closed) {
    expect_rc(what, rc, CACHE_ECLOSED);
    return;
  }
  if (!m_lookup(k)) {
    M.misses++;
    expect_rc(what, rc, CACHE_NOT_FOUND);
    const unsigned char *b = buf;
    for (size_t i = 0; i < buf_len && i < 64; i++)
      if (b[i] != 0xA5)
        fail("%s: a miss wrote byte %zu of the buffer", what, i);
    return;
  }
  M.hits++;
  M.e[k].use_seq = ++M.seq;
  check_copy(what, rc, M.e[k].val, M.e[k].len, buf, buf_len, vlen);
}

/* ---- the loader ---------------------------------------------------------- */
enum {
  LOAD_PUT,       /* puts a value, returns OK */
  LOAD_FAIL,      /* returns a status of its own, puts nothing */
  LOAD_NO_PUT,    /* returns OK without a value: CACHE_EINVAL */
  LOAD_PUT_FAIL,  /* puts a value, then fails: nothing cached */
  LOAD_REENTER,   /* loads its own key again (CACHE_EBUSY), then puts */
  LOAD_PUT_TWICE, /* the second put is refused */
  LOAD_PUT_NULL,  /* an empty value given as NULL */
  LOAD_MODES
};

typedef struct load_ctx {
  int mode, key;
  const unsigned char *val;
  size_t len;
  uint64_t ttl;
  int calls;
  int inner_rc, put_rc, put2_rc;
} load_ctx_t;

static int loader(const void *key, size_t klen, cache_load_t *load,
                  void *vctx) {
  load_ctx_t *x = vctx;
  x->calls++;
  if (key_index(key, klen) != x->key)
    fail("the loader was asked for key %d instead of %d", key_index(key, klen),
         x->key);
  switch (x->mode) {
  case LOAD_FAIL:
    return x->len & 1 ? 42 : -42;
  case LOAD_NO_PUT:
    return CACHE_OK;
  case LOAD_PUT_FAIL:
    x->put_rc = cache_load_put(load, x->val, x->len, x->ttl);
    return -99;
  case LOAD_REENTER: {
    size_t vlen = 0;
    x->inner_rc =
        cache_get_or_load(g_cache, key, klen, loader, x, NULL, 0, &vlen);
    break;
  }
  case LOAD_PUT_TWICE:
    x->put_rc = cache_load_put(load, x->val, x->len, x->ttl);
    x->put2_rc = cache_load_put(load, x->val, x->len, x->ttl);
    return CACHE_OK;
  case LOAD_PUT_NULL:
    x->put_rc = cache_load_put(load, NULL, 0, x->ttl);
    return CACHE_OK;
  default:
    break;
  }
  x->put_rc = cache_load_put(load, x->val, x->len, x->ttl);
  return CACHE_OK;
}

/* ---- operations ---------------------------------------------------------- */
static cache_stats_t stats_now(void) {
  cache_stats_t s = {.struct_size = sizeof s};
  if (!M.closed && cache_stats(g_cache, &s) != CACHE_OK)
    fail("cache_stats failed");
  return s;
}

static void op_set(reader_t *r) {
  int k = rd_key(r);
  size_t len = rd_value(r);
  uint64_t ttl = rd_ttl(r);
  bool null_value = len == 0 && (g_op & 1);
  trace("set key=%d len=%zu ttl=%" PRIu64 "%s", k, len, ttl,
        null_value ? " (NULL value)" : "");
  int rc = cache_set(g_cache, key_bytes(k), key_len(k),
                     null_value ? NULL : g_val, len, ttl);
  m_set(k, g_val, len, ttl, rc, stats_now().bytes);
}

/* Sets up to 16 keys in a row with assorted ttls: reaches states with a
 * deep expiry heap and a long policy queue in one operation. */
static void op_fill(reader_t *r) {
  uint8_t b = rd8(r), t = rd8(r), v = rd8(r);
  int first = b & 15, n = 1 + (b >> 4);
  uint64_t step = 1 + (t >> 2);
  for (int j = 0; j < n; j++) {
    int k = (first + j) & 15;
    uint64_t ttl;
    switch (t & 3) {
    case 0:
      ttl = 0;
      break;
    case 1: /* scattered */
      ttl = 1 + ((uint64_t)j * 7 + step) % 40;
      break;
    case 2: /* the later, the sooner */
      ttl = (uint64_t)(n - j) * step;
      break;
    default: /* every other one never */
      ttl = j & 1 ? CACHE_TTL_NEVER : (uint64_t)(j + 1) * step;
      break;
    }
    size_t len = (size_t)(v + j * 5) % (VALUE_MAX_SMALL + 1);
    for (size_t i = 0; i < len; i++)
      g_val[i] = (uint8_t)(v ^ ((size_t)j * 31 + i * 7 + g_op));
    if (j > 0) {
      check_state();
      events_reset();
    }
    trace("fill %d/%d: set key=%d len=%zu ttl=%" PRIu64, j + 1, n, k, len, ttl);
    int rc = cache_set(g_cache, key_bytes(k), key_len(k), g_val, len, ttl);
    m_set(k, g_val, len, ttl, rc, stats_now().bytes);
  }
}

static void op_get(reader_t *r) {
  int k = rd_key(r);
  void *buf;
  size_t buf_len = rd_buflen(r, k, &buf);
  trace("get key=%d buf_len=%zu%s", k, buf_len, buf ? "" : " (NULL)");
  memset(g_buf, 0xA5, sizeof g_buf);
  size_t vlen = 0x5A5A;
  int rc = cache_get(g_cache, key_bytes(k), key_len(k), buf, buf_len, &vlen);
  m_get("cache_get", k, rc, buf, buf_len, vlen);
}

static void op_contains(reader_t *r) {
  int k = rd_key(r);
  trace("contains key=%d", k);
  int rc = cache_contains(g_cache, key_bytes(k), key_len(k));
  if (M.closed)
    expect_rc("cache_contains", rc, CACHE_ECLOSED);
  else
    expect_rc("cache_contains", rc, m_lookup(k) ? CACHE_OK : CACHE_NOT_FOUND);
}

static void op_delete(reader_t *r) {
  int k = rd_key(r);
  trace("delete key=%d", k);
  int rc = cache_delete(g_cache, key_bytes(k), key_len(k));
  if (M.closed) {
    expect_rc("cache_delete", rc, CACHE_ECLOSED);
  } else if (m_lookup(k)) {
    expect_rc("cache_delete", rc, CACHE_OK);
    m_remove(k, CACHE_REMOVED_DELETED);
  } else {
    expect_rc("cache_delete", rc, CACHE_NOT_FOUND);
  }
}

static void op_clear(void) {
  trace("clear");
  int rc = cache_clear(g_cache);
  if (M.closed) {
    expect_rc("cache_clear", rc, CACHE_ECLOSED);
    return;
  }
  expect_rc("cache_clear", rc, CACHE_OK);
  for (int k = 0; k < NKEYS; k++)
    if (M.e[k].present)
      m_remove(k, CACHE_REMOVED_CLEARED);
}

static void op_cleanup(reader_t *r) {
  bool with_count = rd8(r) & 1;
  trace("cleanup%s", with_count ? "" : " (removed NULL)");
  uint64_t removed = 0xdeadbeef;
  int rc = cache_cleanup(g_cache, with_count ? &removed : NULL);
  if (M.closed) {
    expect_rc("cache_cleanup", rc, CACHE_ECLOSED);
    return;
  }
  expect_rc("cache_cleanup", rc, CACHE_OK);
  uint64_t n = 0;
  for (int k = 0; k < NKEYS; k++)
    if (m_expired(k)) {
      m_remove(k, CACHE_REMOVED_EXPIRED);
      n++;
    }
  M.cleanup_runs++;
  if (with_count && removed != n)
    fail("cache_cleanup removed %" PRIu64 " entries, expected %" PRIu64,
         removed, n);
}

static void op_advance_small(reader_t *r) {
  uint64_t d = rd8(r);
  trace("advance %" PRIu64, d);
  clock_advance(d);
}

static void op_advance_huge(reader_t *r) {
  uint8_t b = rd8(r);
  uint64_t d;
  switch (b & 3) {
  case 0:
    d = (uint64_t)(b >> 2) * 1000 + 256;
    break;
  case 1:
    d = (uint64_t)1 << (20 + (b >> 2) % 44);
    break;
  case 2: /* to a few ms before the end of the clock */
    d = NEVER - g_clock.now > (uint64_t)(b >> 2)
            ? NEVER - g_clock.now - (b >> 2)
            : 0;
    break;
  default:
    d = NEVER; /* saturates at the end */
    break;
  }
  trace("advance %" PRIu64, d);
  clock_advance(d);
}

/* cache_stats with the struct_size of older and newer callers. */
static void op_stats(reader_t *r) {
  uint8_t b = rd8(r);
  const size_t v1 = CACHE__STATS_V1_SIZE;
  struct {
    cache_stats_t s;
    unsigned char tail[32];
  } big;
  memset(&big, 0xA5, sizeof big);
  cache_stats_t full = stats_now();
  switch (b % 4) {
  case 0: { /* an older caller: nothing written past its struct */
    trace("stats struct_size=v1 (%zu)", v1);
    big.s.struct_size = v1;
    int rc = cache_stats(g_cache, &big.s);
    expect_rc("cache_stats(v1)", rc, M.closed ? CACHE_ECLOSED : CACHE_OK);
    const unsigned char *p = (const unsigned char *)&big;
    for (size_t i = M.closed ? sizeof(size_t) : v1; i < sizeof big; i++)
      if (p[i] != 0xA5)
        fail("cache_stats(struct_size %zu) wrote byte %zu", v1, i);
    if (!M.closed &&
        (big.s.entries != full.entries || big.s.hits != full.hits ||
         big.s.expirations != full.expirations))
      fail("cache_stats(v1) disagrees with the full stats");
    break;
  }
  case 1: { /* a newer caller: the bytes it knows and we do not are zeroed */
    trace("stats struct_size=sizeof+%zu", sizeof big.tail);
    big.s.struct_size = sizeof big;
    int rc = cache_stats(g_cache, &big.s);
    expect_rc("cache_stats(newer)", rc, M.closed ? CACHE_ECLOSED : CACHE_OK);
    if (!M.closed) {
      if (big.s.struct_size != sizeof big)
        fail("cache_stats changed struct_size");
      const unsigned char *p = (const unsigned char *)&big;
      for (size_t i = sizeof(cache_stats_t); i < sizeof big; i++)
        if (p[i] != 0)
          fail("cache_stats(newer) left byte %zu past the struct unzeroed", i);
      if (big.s.entries != full.entries || big.s.bytes != full.bytes)
        fail("cache_stats(newer) disagrees with the full stats");
    }
    break;
  }
  case 2: { /* too small: an error and nothing written */
    trace("stats struct_size=v1-1");
    big.s.struct_size = v1 - 1;
    int rc = cache_stats(g_cache, &big.s);
    if (!(M.closed && rc == CACHE_ECLOSED))
      expect_rc("cache_stats(too small)", rc, CACHE_EINVAL);
    const unsigned char *p = (const unsigned char *)&big;
    for (size_t i = sizeof(size_t); i < sizeof big; i++)
      if (p[i] != 0xA5)
        fail("cache_stats(too small) wrote byte %zu", i);
    break;
  }
  default:
    trace("stats NULL");
    expect_rc("cache_stats(NULL)", cache_stats(g_cache, NULL), CACHE_EINVAL);
    break;
  }
}

static void op_get_or_load(reader_t *r) {
  int k = rd_key(r);
  void *buf;
  size_t buf_len = rd_buflen(r, k, &buf);
  load_ctx_t x = {0};
  x.mode = rd8(r) % LOAD_MODES;
  x.key = k;
  x.len = rd_value(r);
  x.val = g_val;
  x.ttl = rd_ttl(r);
  if (x.mode == LOAD_PUT_NULL)
    x.len = 0;
  trace("get_or_load key=%d buf_len=%zu mode=%d len=%zu ttl=%" PRIu64, k,
        buf_len, x.mode, x.len, x.ttl);
  memset(g_buf, 0xA5, sizeof g_buf);
  size_t vlen = 0x5A5A;
  int rc = cache_get_or_load(g_cache, key_bytes(k), key_len(k), loader, &x, buf,
                             buf_len, &vlen);
  const char *what = "cache_get_or_load";
  if (M.closed || (!m_expired(k) && M.e[k].present)) {
    m_get(what, k, rc, buf, buf_len, vlen); /* a hit or a closed cache */
    if (x.calls != 0)
      fail("%s called the loader on a hit", what);
    return;
  }
  m_get(what, k, CACHE_NOT_FOUND, NULL, 0, 0); /* the miss */
  if (x.calls != 1)
    fail("%s called the loader %d times on a miss", what, x.calls);
  switch (x.mode) {
  case LOAD_FAIL:
    expect_rc(what, rc, x.len & 1 ? 42 : -42);
    return;
  case LOAD_NO_PUT:
    expect_rc(what, rc, CACHE_EINVAL);
    return;
  case LOAD_PUT_FAIL:
    expect_rc("cache_load_put", x.put_rc, CACHE_OK);
    expect_rc(what, rc, -99);
    return;
  case LOAD_REENTER:
    M.misses++; /* the inner call's lookup */
    expect_rc("cache_get_or_load from its own loader", x.inner_rc, CACHE_EBUSY);
    break;
  case LOAD_PUT_TWICE:
    expect_rc("cache_load_put (second)", x.put2_rc, CACHE_EINVAL);
    break;
  default:
    break;
  }
  expect_rc("cache_load_put", x.put_rc, CACHE_OK);
  int set_rc = rc;
  if (rc == CACHE_OK || rc == CACHE_ETOOSMALL)
    set_rc = CACHE_OK;
  m_set(k, x.val, x.len, x.ttl, set_rc, stats_now().bytes);
  if (set_rc == CACHE_OK)
    check_copy(what, rc, x.val, x.len, buf, buf_len, vlen);
}

/* Calls with bad arguments: each fails and changes nothing. */
static void op_invalid(reader_t *r) {
  uint8_t b = rd8(r);
  int k = b >> 4 & 15;
  const unsigned char *key = key_bytes(k);
  size_t kl = key_len(k), vlen = 0;
  unsigned char v[4] = {1, 2, 3, 4};
  int rc, want = CACHE_EINVAL;
  const char *what;
  switch (b & 15) {
  case 0:
    what = "cache_set(NULL key)";
    rc = cache_set(g_cache, NULL, kl, v, sizeof v, 0);
    break;
  case 1:
    what = "cache_set(key_len 0)";
    rc = cache_set(g_cache, key, 0, v, sizeof v, 0);
    break;
  case 2:
    what = "cache_set(key_len CACHE_KEY_MAX + 1)";
    rc = cache_set(g_cache, over_key, CACHE_KEY_MAX + 1, v, sizeof v, 0);
    break;
  case 3:
    what = "cache_set(NULL value, value_len 4)";
    rc = cache_set(g_cache, key, kl, NULL, sizeof v, 0);
    break;
  case 4:
    what = "cache_set(value_len CACHE_VALUE_MAX + 1)";
    rc = cache_set(g_cache, key, kl, v, (size_t)CACHE_VALUE_MAX + 1, 0);
    want = CACHE_ETOOBIG;
    break;
  case 5:
    what = "cache_get(NULL value_len)";
    rc = cache_get(g_cache, key, kl, g_buf, sizeof g_buf, NULL);
    break;
  case 6:
    what = "cache_get(NULL buf, buf_len 8)";
    rc = cache_get(g_cache, key, kl, NULL, 8, &vlen);
    break;
  case 7:
    what = "cache_get(key_len 0)";
    rc = cache_get(g_cache, key, 0, g_buf, sizeof g_buf, &vlen);
    break;
  case 8:
    what = "cache_contains(NULL key)";
    rc = cache_contains(g_cache, NULL, kl);
    break;
  case 9:
    what = "cache_delete(key_len CACHE_KEY_MAX + 1)";
    rc = cache_delete(g_cache, over_key, CACHE_KEY_MAX + 1);
    break;
  case 10:
    what = "cache_get_or_load(NULL loader)";
    rc = cache_get_or_load(g_cache, key, kl, NULL, NULL, g_buf, sizeof g_buf,
                           &vlen);
    break;
  case 11:
    what = "cache_cleanup(NULL)";
    rc = cache_cleanup(NULL, NULL);
    break;
  case 12:
    what = "cache_get(NULL cache)";
    rc = cache_get(NULL, key, kl, g_buf, sizeof g_buf, &vlen);
    break;
  case 13:
    what = "cache_set(NULL cache)";
    rc = cache_set(NULL, key, kl, v, sizeof v, 0);
    break;
  case 14:
    what = "cache_clear(NULL)";
    rc = cache_clear(NULL);
    break;
  default:
    what = "cache_close(NULL)";
    rc = cache_close(NULL);
    if (cache_count(NULL) != 0)
      fail("cache_count(NULL) is not 0");
    break;
  }
  trace("%s", what);
  if (!(M.closed && rc == CACHE_ECLOSED))
    expect_rc(what, rc, want);
}

static void op_count_or_close(reader_t *r) {
  if (rd8(r) == 0xC1) {
    trace("close");
    int rc = cache_close(g_cache);
    if (M.closed) {
      expect_rc("cache_close (again)", rc, CACHE_ECLOSED);
      return;
    }
    expect_rc("cache_close", rc, CACHE_OK);
    for (int k = 0; k < NKEYS; k++)
      if (M.e[k].present)
        m_remove(k, CACHE_REMOVED_CLEARED);
    M.closed = true;
    return;
  }
  trace("count");
  /* check_state compares cache_count with the model */
}

/* ---- set-up -------------------------------------------------------------- */
static void init_keys(void) {
  for (size_t i = 0; i < sizeof long_key; i++)
    long_key[i] = (unsigned char)('a' + i % 26);
  memset(over_key, 'k', sizeof over_key);
}

/* Measures the per-entry overhead, to predict CACHE_ETOOBIG: known only if
 * footprint - key - value is the same for every size tried. */
static void measure_overhead(void) {
  cache_options_t o;
  cache_options_init(&o);
  cache_t *c = NULL;
  if (cache_create(&o, &c) != CACHE_OK)
    abort();
  bool same = true;
  uint64_t overhead = 0, before = 0;
  static unsigned char v[300];
  for (size_t len = 0; len < sizeof v; len += 7) {
    unsigned char key[2] = {(unsigned char)len, (unsigned char)(len >> 8)};
    if (cache_set(c, key, sizeof key, v, len, 0) != CACHE_OK)
      abort();
    cache_stats_t s = {.struct_size = sizeof s};
    if (cache_stats(c, &s) != CACHE_OK)
      abort();
    uint64_t h = s.bytes - before - sizeof key - len;
    before = s.bytes;
    if (len == 0)
      overhead = h;
    else if (h != overhead)
      same = false;
  }
  cache_destroy(c);
  g_overhead_known = same && overhead > 0;
  g_overhead = overhead;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  init_keys();
  measure_overhead();
  g_verbose = getenv("FUZZ_API_TRACE") != NULL;
  return 0;
}

/* One shard when the capacity, counting a KiB of max_bytes as an entry,
 * gives fewer than CACHE__MIN_SHARD_ENTRIES to each of two shards (see
 * cache.c). */
static bool one_shard(uint64_t max_e, uint64_t max_b) {
  if (max_e == 0 && max_b == 0)
    return false;
  uint64_t cap = max_e;
  if (max_b != 0 && (cap == 0 || max_b / 1024 < cap))
    cap = max_b / 1024;
  return cap < 2 * 2048; /* the library's CACHE__MIN_SHARD_ENTRIES */
}

static void configure(reader_t *r, cache_options_t *o) {
  uint8_t b0 = rd8(r), b1 = rd8(r), b2 = rd8(r), b3 = rd8(r);
  bool with_bytes = b1 & 0x10;
  M.big = false;
  switch (b0 >> 6) {
  case 0:
  case 1: /* one shard, small entries */
    M.max_e = 1 + (b0 & 63);
    M.max_b = with_bytes ? 40 + 8 * (uint64_t)b2 : 0;
    break;
  case 2: /* no entry bound; a byte bound of 16 KiB to 271 KiB, or none */
    M.max_e = 0;
    M.max_b = with_bytes ? (16 + (uint64_t)b2) * 1024 : 0;
    M.big = true;
    break;
  default: /* up to 256 entries; maybe 128 KiB to 1.1 MiB */
    M.max_e = 1 + (uint64_t)b2;
    M.max_b = with_bytes ? (128 + 16 * (uint64_t)(b0 & 63)) * 1024 : 0;
    M.big = true;
    break;
  }
  M.policy = b1 & 1 ? CACHE_POLICY_LRU : CACHE_POLICY_FIFO;
  if ((b1 & 0x40) && N_POLICIES > 2)
    M.policy = k_policies[2 + (b1 >> 7) % (N_POLICIES - 2)];
  switch (b1 >> 1 & 3) {
  case 0:
    M.def_ttl = 0;
    break;
  case 1:
    M.def_ttl = 1 + b3;
    break;
  case 2:
    M.def_ttl = CACHE_TTL_NEVER;
    break;
  default:
    M.def_ttl = NEVER - b3;
    break;
  }
  g_clock.now = b1 & 0x08 ? NEVER - ((uint64_t)b3 << 8) : b3;
  g_reenter = b1 & 0x20;
  M.exact = one_shard(M.max_e, M.max_b) &&
            (M.policy == CACHE_POLICY_FIFO || M.policy == CACHE_POLICY_LRU);

  cache_options_init(o);
  o->name = "fuzz";
  o->ttl_ms = M.def_ttl;
  o->max_entries = M.max_e;
  o->max_bytes = M.max_b;
  o->policy = M.policy;
  o->clock_ms = clock_read;
  o->clock_ctx = &g_clock;
  o->on_remove = on_remove;
  o->on_remove_ctx = &g_ev;
}

static void reset_model(void) {
  for (int k = 0; k < NKEYS; k++)
    m_drop(k);
  memset(&M, 0, sizeof M);
  g_op = g_nops = 0;
  events_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (long_key[0] == 0)
    init_keys(); /* when run without LLVMFuzzerInitialize */
  reset_model();
  reader_t r = {data, size, 0};
  cache_options_t o;
  configure(&r, &o);
  trace("create max_entries=%" PRIu64 " max_bytes=%" PRIu64 " policy=%s "
        "ttl=%" PRIu64 " clock=%" PRIu64 " exact=%d",
        M.max_e, M.max_b, policy_name(M.policy), M.def_ttl, g_clock.now,
        M.exact);
  expect_rc("cache_create", cache_create(&o, &g_cache), CACHE_OK);
  check_state();

  while (rd_more(&r)) {
    g_op++;
    events_reset();
    switch (rd8(&r) % 16) {
    case 0:
    case 1:
      op_set(&r);
      break;
    case 2:
      op_fill(&r);
      break;
    case 3:
    case 4:
      op_get(&r);
      break;
    case 5:
      op_contains(&r);
      break;
    case 6:
      op_delete(&r);
      break;
    case 7:
      op_clear();
      break;
    case 8:
      op_cleanup(&r);
      break;
    case 9:
    case 10:
      op_advance_small(&r);
      break;
    case 11:
      op_advance_huge(&r);
      break;
    case 12:
      op_stats(&r);
      break;
    case 13:
      op_get_or_load(&r);
      break;
    case 14:
      op_invalid(&r);
      break;
    default:
      op_count_or_close(&r);
      break;
    }
    check_state();
  }

  g_op++;
  events_reset();
  trace("destroy");
  cache_destroy(g_cache);
  g_cache = NULL;
  for (int k = 0; k < NKEYS; k++)
    if (M.e[k].present && !M.closed)
      m_remove(k, CACHE_REMOVED_CLEARED);
  events_all_used();
  reset_model();
  return 0;
}
