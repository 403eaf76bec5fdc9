/*
 * Helpers for the tests that involve other threads or processes: the
 * background cleanup thread, listeners called on other threads, shutdown,
 * signals and fork().
 *
 *  - atomic_clock_t: a clock the test moves by hand and any thread may read.
 *  - real_ms(), sleep_ms(): real time, used only to bound a wait.
 *  - WAIT_FOR(cond): polls cond every millisecond until it holds or
 *    WAIT_LIMIT_MS of real time have passed; assert cond afterwards.
 *  - record_failure() and ASSERT_NO_THREAD_FAILURE(): a failure seen on a
 *    thread other than the test's is recorded there and asserted after the
 *    join (Check's assertions work only on the test's own thread).
 *  - thread_count(): the threads of this process, from /proc/self/task.
 *  - run_child(): runs a function in a child process and returns how the
 *    child ended. The child reports through its exit status only: it never
 *    calls a ck_assert, so this works whether Check forks or not.
 */
#ifndef LIBCACHE_TEST_ASYNC_H
#define LIBCACHE_TEST_ASYNC_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

/* ---- clocks ------------------------------------------------------------- */
typedef struct atomic_clock {
  _Atomic uint64_t now_ms;
} atomic_clock_t;

static inline uint64_t atomic_clock_now(void *ctx) {
  return atomic_load(&((atomic_clock_t *)ctx)->now_ms);
}

static inline void atomic_clock_advance(atomic_clock_t *clock, uint64_t ms) {
  atomic_fetch_add(&clock->now_ms, ms);
}

static inline uint64_t real_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Real-time bound on any wait for another thread or process. It is only
 * reached when the awaited thing never happens. */
#define WAIT_LIMIT_MS 10000

#define WAIT_FOR(cond)                                                         \
  do {                                                                         \
    uint64_t ta_start_ = real_ms();                                            \
    while (!(cond) && real_ms() - ta_start_ < WAIT_LIMIT_MS)                   \
      sleep_ms(1);                                                             \
  } while (0)

/* Statistics read from any thread: 0 in every field if the call fails. */
static inline cache_stats_t stats_of(cache_t *cache) {
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  if (cache_stats(cache, &st) != CACHE_OK) {
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
  }
  return st;
}

/* ---- waiting for the background thread to finish what it was doing ------ */
/* The background thread counts a pass (cleanup_runs, cleanup_errors)
 * before it reads the cache's clock to schedule the next one. A test that
 * moves the clock right after seeing the count could move it under that
 * reading. The thread serves the caches one after another, so once a pass
 * on a probe cache (with a clock of its own) has run, whatever the thread
 * was doing before is done. The probe's clock is moved until its pass
 * runs, since the thread may have read it just before a move.
 *
 * Not while injected pass failures are armed: the probe's pass would take
 * one. */
typedef struct reaper_probe {
  atomic_clock_t clock;
  cache_t *cache;
} reaper_probe_t;

static inline void probe_start(reaper_probe_t *p) {
  atomic_init(&p->clock.now_ms, 1000);
  cache_options_t o;
  cache_options_init(&o);
  o.name = "probe";
  o.cleanup_interval_ms = 1;
  o.clock_ms = atomic_clock_now;
  o.clock_ctx = &p->clock;
  p->cache = NULL;
  ASSERT_OK(cache_create(&o, &p->cache));
}

static inline void probe_sync(reaper_probe_t *p) {
  uint64_t runs = stats_of(p->cache).cleanup_runs;
  uint64_t start = real_ms();
  while (stats_of(p->cache).cleanup_runs <= runs &&
         real_ms() - start < WAIT_LIMIT_MS) {
    atomic_clock_advance(&p->clock, 1000);
    for (int i = 0; i < 20 && stats_of(p->cache).cleanup_runs <= runs; i++)
      sleep_ms(1);
  }
  ck_assert_msg(stats_of(p->cache).cleanup_runs > runs,
                "the background thread did not come round to the probe");
}

static inline void probe_stop(reaper_probe_t *p) {
  cache_destroy(p->cache);
  p->cache = NULL;
}

/* ---- failures on other threads ------------------------------------------ */
static atomic_int ta_failures;
static char ta_first_failure[256];
static pthread_mutex_t ta_failure_lock = PTHREAD_MUTEX_INITIALIZER;

static inline void record_failure(const char *what, int status, int thread) {
  if (atomic_fetch_add(&ta_failures, 1) == 0) {
    pthread_mutex_lock(&ta_failure_lock);
    snprintf(ta_first_failure, sizeof ta_first_failure, "thread %d: %s (%s)",
             thread, what, cache_err_name(status));
    pthread_mutex_unlock(&ta_failure_lock);
  }
}

static inline void reset_failures(void) {
  atomic_store(&ta_failures, 0);
  pthread_mutex_lock(&ta_failure_lock);
  ta_first_failure[0] = '\0';
  pthread_mutex_unlock(&ta_failure_lock);
}

#define ASSERT_NO_THREAD_FAILURE()                                             \
  do {                                                                         \
    char ta_first_[sizeof ta_first_failure];                                   \
    pthread_mutex_lock(&ta_failure_lock);                                      \
    memcpy(ta_first_, ta_first_failure, sizeof ta_first_);                     \
    pthread_mutex_unlock(&ta_failure_lock);                                    \
    ck_assert_msg(atomic_load(&ta_failures) == 0, "%d failure(s), first: %s",  \
                  atomic_load(&ta_failures), ta_first_);                       \
  } while (0)

/* ---- threads of this process -------------------------------------------- */
/* Fills tids (up to max) with the ids in /proc/self/task; returns how many
 * there are, or -1 if the directory cannot be read. */
static inline int thread_ids(long *tids, int max) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    if (ent->d_name[0] == '.')
      continue;
    if (n < max)
      tids[n] = strtol(ent->d_name, NULL, 10);
    n++;
  }
  closedir(d);
  return n;
}

static inline int thread_count(void) {
  long unused[64];
  return thread_ids(unused, 64);
}

static void *ta_note_own_tid(void *arg) {
  char link[64];
  ssize_t n = readlink("/proc/thread-self", link, sizeof link - 1);
  if (n > 0) {
    link[n] = '\0';
    const char *slash = strrchr(link, '/');
    *(long *)arg = strtol(slash != NULL ? slash + 1 : link, NULL, 10);
  }
  return NULL;
}

/* The thread count once every helper thread of the runtime is there and
 * threads that were just joined are gone. Some helper threads (those of
 * ThreadSanitizer) start only with the first pthread_create, so one
 * short-lived thread is run first and waited for; and a joined thread can
 * stay listed for a moment, so the count must hold still for a while. */
static inline int settled_thread_count(void) {
  long tid = 0;
  pthread_t t;
  if (pthread_create(&t, NULL, ta_note_own_tid, &tid) == 0) {
    pthread_join(t, NULL);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld", tid);
    if (tid > 0)
      WAIT_FOR(access(path, F_OK) != 0);
  }
  int n = thread_count();
  for (int still = 0, rounds = 0; still < 5 && rounds < 1000; rounds++) {
    sleep_ms(2);
    int now = thread_count();
    still = now == n ? still + 1 : 0;
    n = now;
  }
  return n;
}

/* ---- child processes ---------------------------------------------------- */
/* How a child ended, as text for an assertion message. */
static inline const char *describe_status(int status, char *buf, size_t len) {
  if (WIFEXITED(status))
    snprintf(buf, len, "exited with %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
  else
    snprintf(buf, len, "ended with status %#x", (unsigned)status);
  return buf;
}

/* Bound on a child's whole life: a child that hangs (a deadlock after
 * fork, a signal that never comes) is ended by SIGALRM. Generous, for
 * valgrind. */
#define CHILD_LIMIT_S 60

/* Runs fn(arg) in a child, which exits with its return value, and returns
 * the child's wait status. */
static inline int run_child(int (*fn)(void *), void *arg) {
  fflush(NULL); /* nothing buffered may be written twice */
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* The default action: a handler inherited from the test runner could
     * take the whole process group down with it. */
    signal(SIGALRM, SIG_DFL);
    alarm(CHILD_LIMIT_S);
    _exit(fn(arg));
  }
  int status = 0;
  pid_t got;
  do
    got = waitpid(pid, &status, 0);
  while (got < 0 && errno == EINTR);
  ck_assert_int_eq(got, pid);
  return status;
}

#define ASSERT_CHILD_EXITED_OK(status)                                         \
  do {                                                                         \
    char ta_how_[64];                                                          \
    int ta_status_ = (status);                                                 \
    ck_assert_msg(WIFEXITED(ta_status_) && WEXITSTATUS(ta_status_) == 0,       \
                  "child %s (see the check numbers in the test)",              \
                  describe_status(ta_status_, ta_how_, sizeof ta_how_));       \
  } while (0)

#endif /* LIBCACHE_TEST_ASYNC_H */
