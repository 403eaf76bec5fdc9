/* The near cache (cache_redis.h) against a real redis-server that each
 * test starts on a free loopback port, in a temporary directory, and
 * stops. Coherence between near caches of one process and of several,
 * the local lifetime bound, and the faults: Redis killed and restarted,
 * stopped and continued, the invalidation connection dropped. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, mkdtemp */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache_redis.h"
#include "test_util.h"

#define TR_PREFIX "t:"
#define TR_TIMEOUT_MS 300u
#define TR_HEARTBEAT_MS 200u
/* Bounds for what the near cache does on its own (a reconnect, an
 * invalidation): generous, since valgrind runs this test too. */
#define TR_SETTLE_MS 5000u
#define TR_INVALIDATION_BOUND_MS 1000u

/* ---- time ------------------------------------------------------------- */

static uint64_t tr_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void tr_sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---- the server --------------------------------------------------------- */

static pid_t server_pid = -1;
static int server_port;
static char server_dir[] = "/tmp/libcache-redis-XXXXXX";

/* A port nothing listens on now: bind port 0 and let the kernel pick. */
static int tr_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* A plain connection for the test's own commands; NULL if none. */
static redisContext *tr_raw(void) {
  struct timeval tv = {1, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", server_port, tv);
  if (c != NULL && (c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK)) {
    redisFree(c);
    return NULL;
  }
  return c;
}

static bool tr_server_answers(void) {
  redisContext *c = tr_raw();
  if (c == NULL)
    return false;
  redisReply *r = redisCommand(c, "PING");
  bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
  if (r != NULL)
    freeReplyObject(r);
  redisFree(c);
  return ok;
}

static void tr_server_start(void) {
  char port[16];
  snprintf(port, sizeof port, "%d", server_port);
  server_pid = fork();
  ck_assert_int_ge(server_pid, 0);
  if (server_pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    execlp("redis-server", "redis-server", "--port", port, "--bind",
           "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", server_dir,
           "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
    _exit(127);
  }
  uint64_t deadline = tr_now_ms() + TR_SETTLE_MS;
  while (!tr_server_answers()) {
    ck_assert_msg(tr_now_ms() < deadline, "redis-server did not answer PING");
    tr_sleep_ms(10);
  }
}

static void tr_server_kill(void) {
  if (server_pid <= 0)
    return;
  kill(server_pid, SIGCONT);
  kill(server_pid, SIGKILL);
  waitpid(server_pid, NULL, 0);
  server_pid = -1;
}

static void tr_setup(void) {
  ck_assert_ptr_nonnull(mkdtemp(server_dir));
  server_port = tr_free_port();
  tr_server_start();
}

static void tr_teardown(void) {
  tr_server_kill();
  char path[sizeof server_dir + 32];
  snprintf(path, sizeof path, "%s/dump.rdb", server_dir);
  unlink(path);
  rmdir(server_dir);
  memcpy(server_dir + sizeof server_dir - 7, "XXXXXX", 6);
}

/* ---- near caches ----------------------------------------------------------
 */

static cache_redis_t *tr_make_local(const cache_options_t *local) {
  cache_redis_options_t o;
  cache_redis_options_init(&o);
  o.port = server_port;
  o.prefix = TR_PREFIX;
  o.timeout_ms = TR_TIMEOUT_MS;
  o.heartbeat_ms = TR_HEARTBEAT_MS;
  o.local = local;
  cache_redis_t *nc = NULL;
  ASSERT_OK(cache_redis_create(&o, &nc));
  return nc;
}

static cache_redis_t *tr_make(void) { return tr_make_local(NULL); }

static cache_redis_stats_t tr_stats(cache_redis_t *nc) {
  cache_redis_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  ASSERT_OK(cache_redis_stats(nc, &st));
  return st;
}

/* Waits until the local tier is (or is not) in use. */
static void tr_wait_active(cache_redis_t *nc, int active) {
  uint64_t deadline = tr_now_ms() + TR_SETTLE_MS;
  while (tr_stats(nc).local_active != active) {
    ck_assert_msg(tr_now_ms() < deadline, "local tier never became %s",
                  active ? "active" : "inactive");
    tr_sleep_ms(5);
  }
}

static int tr_set(cache_redis_t *nc, const char *key, const char *value,
                  uint64_t ttl_ms) {
  return cache_redis_set(nc, key, strlen(key), value, strlen(value), ttl_ms);
}

/* get into a NUL-terminated buffer of 64 bytes. */
static int tr_get(cache_redis_t *nc, const char *key, char *out) {
  size_t len = 0;
  int rc = cache_redis_get(nc, key, strlen(key), out, 63, &len);
  out[rc == CACHE_OK ? len : 0] = '\0';
  return rc;
}

/* Waits at most bound_ms until nc has flushed its local tier at least
 * `count` times in all. */
static void tr_wait_flushes(cache_redis_t *nc, uint64_t count,
                            uint64_t bound_ms) {
  uint64_t deadline = tr_now_ms() + bound_ms;
  while (tr_stats(nc).flushes < count) {
    ck_assert_msg(tr_now_ms() < deadline, "the local tier was not flushed");
    tr_sleep_ms(1);
  }
}

/* Waits until nc has received at least `count` invalidations: a write
 * comes back as an invalidation to every near cache on the namespace, the
 * writer's too, and one that lands during a fill discards it, as it
 * must. A test that expects the next fill to stay waits for it first. */
static void tr_wait_invalidations(cache_redis_t *nc, uint64_t count) {
  uint64_t deadline = tr_now_ms() + TR_SETTLE_MS;
  while (tr_stats(nc).invalidations < count) {
    ck_assert_msg(tr_now_ms() < deadline, "no invalidation arrived");
    tr_sleep_ms(1);
  }
}

#define ASSERT_NEAR_VALUE(nc, key, expected)                                   \
  do {                                                                         \
    char tr_buf_[64];                                                          \
    ASSERT_OK(tr_get((nc), (key), tr_buf_));                                   \
    ck_assert_str_eq(tr_buf_, (expected));                                     \
  } while (0)

/* Polls get until it returns expected, for at most bound_ms. */
static bool tr_eventually(cache_redis_t *nc, const char *key,
                          const char *expected, uint64_t bound_ms) {
  uint64_t deadline = tr_now_ms() + bound_ms;
  do {
    char buf[64];
    if (tr_get(nc, key, buf) == CACHE_OK && strcmp(buf, expected) == 0)
      return true;
    tr_sleep_ms(2);
  } while (tr_now_ms() < deadline);
  return false;
}

/* ---- round trip -----------------------------------------------------------
 */

START_TEST(set_get_delete_round_trip) {
  cache_redis_t *nc = tr_make();
  tr_wait_active(nc, 1);
  char buf[64];
  ASSERT_STATUS(tr_get(nc, "a", buf), CACHE_NOT_FOUND);
  ASSERT_OK(tr_set(nc, "a", "one", 0));
  tr_wait_invalidations(nc, 1);
  ASSERT_NEAR_VALUE(nc, "a", "one");
  ck_assert_uint_eq(tr_stats(nc).redis_hits, 1);
  ASSERT_NEAR_VALUE(nc, "a", "one");
  ck_assert_uint_eq(tr_stats(nc).local_hits, 1);

  redisContext *raw = tr_raw();
  ck_assert_ptr_nonnull(raw);
  redisReply *r = redisCommand(raw, "GET %s", TR_PREFIX "a");
  ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
  ck_assert_str_eq(r->str, "one");
  freeReplyObject(r);
  redisFree(raw);

  ASSERT_OK(cache_redis_delete(nc, "a", 1));
  ASSERT_STATUS(tr_get(nc, "a", buf), CACHE_NOT_FOUND);
  ASSERT_STATUS(cache_redis_delete(nc, "a", 1), CACHE_NOT_FOUND);
  ck_assert_uint_eq(tr_stats(nc).misses, 2);
  cache_redis_destroy(nc);
}
END_TEST

START_TEST(small_buffer_gives_the_length) {
  cache_redis_t *nc = tr_make();
  ASSERT_OK(tr_set(nc, "k", "0123456789", 0));
  size_t len = 0;
  ASSERT_STATUS(cache_redis_get(nc, "k", 1, NULL, 0, &len), CACHE_ETOOSMALL);
  ck_assert_uint_eq(len, 10);
  cache_redis_destroy(nc);
}
END_TEST

/* ---- coherence --------------------------------------------------------------
 */

START_TEST(second_near_cache_sees_the_overwrite) {
  cache_redis_t *a = tr_make();
  cache_redis_t *b = tr_make();
  tr_wait_active(a, 1);
  tr_wait_active(b, 1);
  ASSERT_OK(tr_set(a, "user", "v1", 0));
  tr_wait_invalidations(b, 1);
  ASSERT_NEAR_VALUE(b, "user", "v1");
  ASSERT_NEAR_VALUE(b, "user", "v1");
  ck_assert_uint_eq(tr_stats(b).local_hits, 1); /* b holds it locally */

  ASSERT_OK(tr_set(a, "user", "v2", 0));
  ck_assert(tr_eventually(b, "user", "v2", TR_INVALIDATION_BOUND_MS));
  ck_assert_uint_ge(tr_stats(b).invalidations, 1);
  /* From then on, never the old value. */
  for (int i = 0; i < 100; i++)
    ASSERT_NEAR_VALUE(b, "user", "v2");

  ASSERT_OK(cache_redis_delete(a, "user", 4));
  uint64_t deadline = tr_now_ms() + TR_INVALIDATION_BOUND_MS;
  char buf[64];
  while (tr_get(b, "user", buf) != CACHE_NOT_FOUND)
    ck_assert(tr_now_ms() < deadline);
  cache_redis_destroy(a);
  cache_redis_destroy(b);
}
END_TEST

START_TEST(writes_outside_the_near_cache_invalidate) {
  cache_redis_t *nc = tr_make();
  tr_wait_active(nc, 1);
  ASSERT_OK(tr_set(nc, "x", "old", 0));
  ASSERT_NEAR_VALUE(nc, "x", "old");
  redisContext *raw = tr_raw();
  freeReplyObject(redisCommand(raw, "SET %s new", TR_PREFIX "x"));
  ck_assert(tr_eventually(nc, "x", "new", TR_INVALIDATION_BOUND_MS));
  /* FLUSHALL is an invalidation of everything. */
  uint64_t flushes = tr_stats(nc).flushes;
  freeReplyObject(redisCommand(raw, "FLUSHALL"));
  tr_wait_flushes(nc, flushes + 1, TR_INVALIDATION_BOUND_MS);
  char buf[64];
  ASSERT_STATUS(tr_get(nc, "x", buf), CACHE_NOT_FOUND);
  redisFree(raw);
  cache_redis_destroy(nc);
}
END_TEST

/* ---- the local lifetime
 * ------------------------------------------------------- */

static _Atomic uint64_t local_clock;

static uint64_t tr_local_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&local_clock);
}

START_TEST(redis_ttl_bounds_the_local_ttl) {
  cache_options_t local;
  cache_options_init(&local);
  local.clock_ms = tr_local_clock;
  atomic_store(&local_clock, 1000);
  cache_redis_t *nc = tr_make_local(&local);
  tr_wait_active(nc, 1);
  ASSERT_OK(tr_set(nc, "t", "v", 60000)); /* a minute in Redis */
  tr_wait_invalidations(nc, 1);
  ASSERT_NEAR_VALUE(nc, "t", "v"); /* filled */
  ASSERT_NEAR_VALUE(nc, "t", "v");
  ck_assert_uint_eq(tr_stats(nc).local_hits, 1);
  /* Past the minute on the local clock, the local copy is gone although
   * Redis (on real time) still has it. */
  atomic_store(&local_clock, 1000 + 60001);
  ASSERT_NEAR_VALUE(nc, "t", "v");
  ck_assert_uint_eq(tr_stats(nc).local_hits, 1);
  ck_assert_uint_eq(tr_stats(nc).redis_hits, 2);
  cache_redis_destroy(nc);
}
END_TEST

START_TEST(local_ttl_bounds_a_key_without_expiry) {
  cache_options_t local;
  cache_options_init(&local);
  local.clock_ms = tr_local_clock;
  local.ttl_ms = 500;
  atomic_store(&local_clock, 1000);
  cache_redis_t *nc = tr_make_local(&local);
  tr_wait_active(nc, 1);
  ASSERT_OK(tr_set(nc, "p", "v", 0));
  ASSERT_NEAR_VALUE(nc, "p", "v");
  atomic_store(&local_clock, 1000 + 501);
  ASSERT_NEAR_VALUE(nc, "p", "v");
  ck_assert_uint_eq(tr_stats(nc).local_hits, 0);
  ck_assert_uint_eq(tr_stats(nc).redis_hits, 2);
  cache_redis_destroy(nc);
}
END_TEST

/* ---- faults -----------------------------------------------------------------
 */

START_TEST(redis_killed_then_restarted) {
  cache_redis_t *nc = tr_make();
  tr_wait_active(nc, 1);
  ASSERT_OK(tr_set(nc, "k", "v", 0));
  ASSERT_NEAR_VALUE(nc, "k", "v");
  tr_server_kill();

  /* The local tier goes out of use: no value is served from it. It is
   * bypassed first and cleared just after (near_set_active), so the flush
   * is waited for too. */
  tr_wait_active(nc, 0);
  tr_wait_flushes(nc, 1, TR_SETTLE_MS);
  char buf[64];
  uint64_t t0 = tr_now_ms();
  ASSERT_STATUS(tr_get(nc, "k", buf), CACHE_REDIS_EUNAVAILABLE);
  ASSERT_STATUS(tr_set(nc, "k", "w", 0), CACHE_REDIS_EUNAVAILABLE);
  ck_assert_uint_lt(tr_now_ms() - t0, 4 * TR_TIMEOUT_MS + 1000);

  tr_server_start(); /* the same port, an empty database */
  tr_wait_active(nc, 1);
  uint64_t deadline = tr_now_ms() + TR_SETTLE_MS;
  while (tr_set(nc, "k", "after", 0) != CACHE_OK)
    ck_assert(tr_now_ms() < deadline);
  ASSERT_NEAR_VALUE(nc, "k", "after");
  ck_assert_uint_ge(tr_stats(nc).reconnects, 1);
  cache_redis_destroy(nc);
}
END_TEST

START_TEST(dropped_subscription_flushes_the_local_tier) {
  cache_redis_t *nc = tr_make();
  tr_wait_active(nc, 1);
  ASSERT_OK(tr_set(nc, "s", "old", 0));
  tr_wait_invalidations(nc, 1);
  ASSERT_NEAR_VALUE(nc, "s", "old");
  uint64_t flushes = tr_stats(nc).flushes;

  redisContext *raw = tr_raw();
  freeReplyObject(redisCommand(raw, "CLIENT KILL TYPE pubsub"));
  /* Written while no invalidation can reach the near cache. */
  freeReplyObject(redisCommand(raw, "SET %s new", TR_PREFIX "s"));
  redisFree(raw);

  tr_wait_flushes(nc, flushes + 1, TR_SETTLE_MS);
  ASSERT_NEAR_VALUE(nc, "s", "new");
  tr_wait_active(nc, 1);
  ASSERT_NEAR_VALUE(nc, "s", "new");
  ck_assert_uint_ge(tr_stats(nc).reconnects, 1);
  cache_redis_destroy(nc);
}
END_TEST

START_TEST(stopped_redis_does_not_hang_calls) {
  cache_redis_t *nc = tr_make();
  tr_wait_active(nc, 1);
  ASSERT_OK(tr_set(nc, "z", "v", 0));
  kill(server_pid, SIGSTOP);
  char buf[64];
  uint64_t t0 = tr_now_ms();
  ASSERT_STATUS(tr_get(nc, "fresh", buf), CACHE_REDIS_EUNAVAILABLE);
  ASSERT_STATUS(tr_set(nc, "z", "w", 0), CACHE_REDIS_EUNAVAILABLE);
  ASSERT_STATUS(cache_redis_delete(nc, "z", 1), CACHE_REDIS_EUNAVAILABLE);
  /* Each call: at most a connect and a reply, each bounded. */
  ck_assert_uint_lt(tr_now_ms() - t0, 3 * 2 * TR_TIMEOUT_MS + 1000);
  /* The heartbeat notices too. */
  tr_wait_active(nc, 0);
  kill(server_pid, SIGCONT);
  tr_wait_active(nc, 1);
  uint64_t deadline = tr_now_ms() + TR_SETTLE_MS;
  while (tr_set(nc, "z", "back", 0) != CACHE_OK)
    ck_assert(tr_now_ms() < deadline);
  ASSERT_NEAR_VALUE(nc, "z", "back");
  cache_redis_destroy(nc);
}
END_TEST

/* ---- arguments
 * ---------------------------------------------------------------- */

START_TEST(bad_arguments_change_nothing) {
  cache_redis_t *nc = tr_make();
  tr_wait_active(nc, 1);
  ASSERT_OK(tr_set(nc, "k", "v", 0));
  cache_redis_stats_t before = tr_stats(nc);
  char buf[8];
  size_t len = 0;
  static char big[CACHE_KEY_MAX + 1];
  ASSERT_STATUS(cache_redis_get(NULL, "k", 1, buf, 8, &len), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_get(nc, NULL, 1, buf, 8, &len), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_get(nc, "k", 0, buf, 8, &len), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_get(nc, big, sizeof big, buf, 8, &len),
                CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_get(nc, "k", 1, buf, 8, NULL), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_get(nc, "k", 1, NULL, 8, &len), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_set(NULL, "k", 1, "x", 1, 0), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_set(nc, "k", 0, "x", 1, 0), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_set(nc, "k", 1, NULL, 1, 0), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_delete(nc, NULL, 1), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_delete(nc, big, sizeof big), CACHE_EINVAL);
  cache_redis_stats_t after = tr_stats(nc);
  ck_assert_uint_eq(after.local_hits, before.local_hits);
  ck_assert_uint_eq(after.redis_hits, before.redis_hits);
  ck_assert_uint_eq(after.misses, before.misses);
  ASSERT_NEAR_VALUE(nc, "k", "v");

  cache_redis_stats_t st = {.struct_size = 4};
  ASSERT_STATUS(cache_redis_stats(nc, &st), CACHE_EINVAL);
  ASSERT_STATUS(cache_redis_stats(NULL, &after), CACHE_EINVAL);

  cache_redis_options_t o;
  cache_redis_t *out = (cache_redis_t *)&o;
  ASSERT_STATUS(cache_redis_create(NULL, &out), CACHE_EINVAL);
  cache_redis_options_init(&o);
  ASSERT_STATUS(cache_redis_create(&o, NULL), CACHE_EINVAL);
  o.port = 0;
  ASSERT_STATUS(cache_redis_create(&o, &out), CACHE_EINVAL);
  cache_redis_options_init(&o);
  o.timeout_ms = 0;
  ASSERT_STATUS(cache_redis_create(&o, &out), CACHE_EINVAL);
  cache_redis_options_init(&o);
  o.heartbeat_ms = 0;
  ASSERT_STATUS(cache_redis_create(&o, &out), CACHE_EINVAL);
  cache_redis_options_init(&o);
  o.struct_size = sizeof o - 1;
  ASSERT_STATUS(cache_redis_create(&o, &out), CACHE_EINVAL);
  cache_redis_options_init(&o);
  o.host = NULL;
  ASSERT_STATUS(cache_redis_create(&o, &out), CACHE_EINVAL);
  ck_assert_ptr_eq(out, (cache_redis_t *)&o); /* untouched */
  cache_redis_destroy(NULL);

  redisContext *raw = tr_raw();
  redisReply *r = redisCommand(raw, "DBSIZE");
  ck_assert_int_eq(r->integer, 1);
  freeReplyObject(r);
  redisFree(raw);
  cache_redis_destroy(nc);
}
END_TEST

START_TEST(statuses_have_messages) {
  ck_assert_int_lt(CACHE_REDIS_EUNAVAILABLE, CACHE_EIO);
  ck_assert_ptr_nonnull(
      strstr(cache_redis_strerror(CACHE_REDIS_EUNAVAILABLE), "unavailable"));
  ck_assert_str_eq(cache_redis_strerror(CACHE_EINVAL),
                   cache_strerror(CACHE_EINVAL));
  ck_assert_str_eq(cache_redis_strerror(12345), cache_strerror(12345));
}
END_TEST

/* ---- several processes ------------------------------------------------------
 */

/* Under valgrind every step between a write and a reader's drop of its
 * copy (the write, Redis's push, the reader's background thread) runs
 * many times slower, in both processes: the processes are held to a bound
 * TR_SLOWER times as long there, and the writer paces its writes by as
 * much, so that versions still age past the bound while the reader
 * reads. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#define TR_SLOWER 10u

static uint64_t tr_slower(void) { return RUNNING_ON_VALGRIND ? TR_SLOWER : 1; }

#define TR_VERSIONS 60
/* Shared between the writer and the reader: when each version was
 * acknowledged by Redis (0 = not yet). */
typedef struct tr_shared {
  _Atomic uint64_t written_ms[TR_VERSIONS + 1];
  _Atomic int writer_done;
  _Atomic int reader_ready;
} tr_shared_t;

static void tr_writer(tr_shared_t *sh) {
  cache_redis_t *nc = tr_make();
  while (!atomic_load(&sh->reader_ready))
    tr_sleep_ms(1);
  for (int v = 1; v <= TR_VERSIONS; v++) {
    char value[16];
    snprintf(value, sizeof value, "%d", v);
    if (tr_set(nc, "shared", value, 0) != CACHE_OK)
      _exit(2);
    atomic_store(&sh->written_ms[v], tr_now_ms());
    tr_sleep_ms((unsigned)(10 * tr_slower()));
  }
  atomic_store(&sh->writer_done, 1);
  cache_redis_destroy(nc);
}

/* The newest version acknowledged at least bound_ms before now. */
static int tr_floor(tr_shared_t *sh, uint64_t now) {
  int floor = 0;
  for (int v = 1; v <= TR_VERSIONS; v++) {
    uint64_t t = atomic_load(&sh->written_ms[v]);
    if (t != 0 && t + TR_INVALIDATION_BOUND_MS / 2 * tr_slower() <= now)
      floor = v;
  }
  return floor;
}

/* Counts reads older than the bound allows. */
static int tr_reader(tr_shared_t *sh) {
  cache_redis_t *nc = tr_make();
  tr_wait_active(nc, 1);
  atomic_store(&sh->reader_ready, 1);
  int stale = 0;
  while (!atomic_load(&sh->writer_done)) {
    uint64_t before = tr_now_ms();
    char buf[64];
    if (tr_get(nc, "shared", buf) == CACHE_OK &&
        atomic_load(&sh->written_ms[1]) != 0 &&
        atoi(buf) < tr_floor(sh, before))
      stale++;
    /* valgrind runs one thread at a time and lets a busy one keep
     * running: without a pause the near cache's own thread, which drops
     * the invalidated copies, would hardly run at all. */
    if (RUNNING_ON_VALGRIND)
      tr_sleep_ms(1);
  }
  cache_redis_stats_t st = tr_stats(nc);
  cache_redis_destroy(nc);
  return st.local_hits == 0 ? 100 + stale : stale;
}

START_TEST(processes_never_read_past_the_bound) {
  tr_shared_t *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(sh, MAP_FAILED);
  memset(sh, 0, sizeof *sh);
  pid_t reader = fork();
  ck_assert_int_ge(reader, 0);
  if (reader == 0)
    _exit(tr_reader(sh));
  pid_t writer = fork();
  ck_assert_int_ge(writer, 0);
  if (writer == 0) {
    tr_writer(sh);
    _exit(0);
  }
  int ws = 0, rs = 0;
  waitpid(writer, &ws, 0);
  waitpid(reader, &rs, 0);
  ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "writer failed");
  ck_assert_msg(WIFEXITED(rs) && WEXITSTATUS(rs) == 0,
                "reader: exit %d (stale reads, +100 if it had no local hit)",
                WEXITSTATUS(rs));
  munmap(sh, sizeof *sh);
}
END_TEST

static Suite *redis_suite(void) {
  Suite *s = suite_create("redis");
  TCase *tc = tcase_create("near");
  tcase_add_checked_fixture(tc, tr_setup, tr_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, set_get_delete_round_trip);
  tcase_add_test(tc, small_buffer_gives_the_length);
  tcase_add_test(tc, second_near_cache_sees_the_overwrite);
  tcase_add_test(tc, writes_outside_the_near_cache_invalidate);
  tcase_add_test(tc, redis_ttl_bounds_the_local_ttl);
  tcase_add_test(tc, local_ttl_bounds_a_key_without_expiry);
  tcase_add_test(tc, redis_killed_then_restarted);
  tcase_add_test(tc, dropped_subscription_flushes_the_local_tier);
  tcase_add_test(tc, stopped_redis_does_not_hang_calls);
  tcase_add_test(tc, bad_arguments_change_nothing);
  tcase_add_test(tc, statuses_have_messages);
  tcase_add_test(tc, processes_never_read_past_the_bound);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  /* A write to a connection Redis closed must fail, not kill the test. */
  signal(SIGPIPE, SIG_IGN);
  return tu_run(redis_suite());
}
