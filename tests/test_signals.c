/* cache_install_signal_handlers(): on SIGTERM, SIGINT, SIGUSR1 or SIGUSR2
 * a helper thread runs cache_shutdown_all(), puts back the signal's
 * previous disposition and raises the signal again, so the process then
 * does what it would have done without the library. Nothing is installed
 * unless asked.
 *
 * Each case runs in a child process, which sends itself the signal; its
 * listener writes every removed key to a pipe the test reads. The child
 * reports through its exit status (or the signal that ended it); the
 * numbers it returns name the check that failed. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>

#include "test_async.h"

/* A child of a process with threads starts threads of its own here. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "die_after_fork=0"; }

static const int handled[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
#define N_HANDLED (int)(sizeof handled / sizeof handled[0])

/* Write end of the pipe, in the child. */
static int out_fd = -1;

static void put(const char *text) {
  size_t len = strlen(text);
  while (len > 0) {
    ssize_t n = write(out_fd, text, len);
    if (n <= 0)
      return;
    text += n;
    len -= (size_t)n;
  }
}

static void write_removal(const void *key, size_t key_len, const void *value,
                          size_t value_len, int reason, void *ctx) {
  (void)value, (void)value_len, (void)ctx;
  char line[80];
  const char *name = cache_removal_name(reason);
  snprintf(line, sizeof line, "%.*s:%s\n", (int)key_len, (const char *)key,
           name ? name : "?");
  put(line);
}

static cache_t *make_cache(int with_interval) {
  cache_options_t o;
  cache_options_init(&o);
  o.cleanup_interval_ms = with_interval ? 60000 : 0;
  o.on_remove = write_removal;
  cache_t *c = NULL;
  return cache_create(&o, &c) == CACHE_OK ? c : NULL;
}

static int set_disposition(int signo, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signo, &sa, NULL) != 0)
    return -1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signo);
  return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : -1;
}

static void (*disposition(int signo))(int) {
  struct sigaction old;
  memset(&old, 0, sizeof old);
  if (sigaction(signo, NULL, &old) != 0)
    return SIG_ERR;
  return old.sa_handler;
}

/* Runs fn in a child whose listener writes to a pipe; returns the wait
 * status and, in out (up to len - 1 bytes, NUL-terminated), what the pipe
 * carried. */
static int run_with_pipe(int (*fn)(void *), void *arg, char *out, size_t len) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  out_fd = fds[1];
  int status = run_child(fn, arg);
  close(fds[1]);
  out_fd = -1;
  size_t used = 0;
  ssize_t n;
  while (used + 1 < len && (n = read(fds[0], out + used, len - 1 - used)) > 0)
    used += (size_t)n;
  out[used] = '\0';
  close(fds[0]);
  return status;
}

#define ASSERT_KILLED_BY(status, signo)                                        \
  do {                                                                         \
    char how_[64];                                                             \
    int st_ = (status);                                                        \
    ck_assert_msg(WIFSIGNALED(st_) && WTERMSIG(st_) == (signo),                \
                  "child %s, expected to be killed by signal %d",              \
                  describe_status(st_, how_, sizeof how_), (signo));           \
  } while (0)

/* Sorted lines of text, for comparisons that do not depend on order. */
static int cmp_lines(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void assert_lines(char *text, const char *const *expected, int n) {
  char *lines[32];
  int got = 0;
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL;
       l = strtok_r(NULL, "\n", &save)) {
    ck_assert_int_lt(got, 32);
    lines[got++] = l;
  }
  ck_assert_int_eq(got, n);
  qsort(lines, (size_t)got, sizeof lines[0], cmp_lines);
  for (int i = 0; i < n; i++)
    ck_assert_str_eq(lines[i], expected[i]);
}

/* ---- nothing unless asked ----------------------------------------------- */

static int child_uses_the_library_without_installing(void *arg) {
  (void)arg;
  for (int i = 0; i < N_HANDLED; i++)
    if (set_disposition(handled[i], SIG_DFL) != 0)
      return 10;
  cache_t *a = make_cache(1);
  cache_t *b = make_cache(0);
  if (a == NULL || b == NULL)
    return 11;
  if (tu_set(a, "k", "v", 0) != CACHE_OK || tu_set(b, "k", "v", 0) != CACHE_OK)
    return 12;
  cache_shutdown_all();
  cache_destroy(a);
  cache_destroy(b);
  for (int i = 0; i < N_HANDLED; i++)
    if (disposition(handled[i]) != SIG_DFL)
      return 20 + i;
  return 0;
}

START_TEST(library_installs_no_handler_unless_asked) {
  char out[256];
  int status = run_with_pipe(child_uses_the_library_without_installing, NULL,
                             out, sizeof out);
  ASSERT_CHILD_EXITED_OK(status);
}
END_TEST

/* ---- default disposition: the process ends by the signal ---------------- */

static int child_sends_itself(void *arg) {
  int signo = *(const int *)arg;
  if (set_disposition(signo, SIG_DFL) != 0)
    return 10;
  cache_t *c = make_cache(1);
  cache_t *d = make_cache(0);
  if (c == NULL || d == NULL)
    return 11;
  if (tu_set(c, "a", "1", 0) != CACHE_OK ||
      tu_set(c, "b", "2", 0) != CACHE_OK || tu_set(d, "c", "3", 0) != CACHE_OK)
    return 12;
  if (cache_install_signal_handlers() != CACHE_OK)
    return 13;
  if (disposition(signo) == SIG_DFL)
    return 14; /* nothing installed */
  kill(getpid(), signo);
  uint64_t start = real_ms();
  while (real_ms() - start < 2 * WAIT_LIMIT_MS)
    sleep_ms(5);
  return 15; /* still alive */
}

START_TEST(signal_closes_the_caches_then_ends_the_process) {
  int signo = handled[_i];
  char out[256];
  int status = run_with_pipe(child_sends_itself, &signo, out, sizeof out);
  ASSERT_KILLED_BY(status, signo);
  static const char *const expected[] = {"a:cleared", "b:cleared", "c:cleared"};
  assert_lines(out, expected, 3);
}
END_TEST

static int child_installs_twice(void *arg) {
  (void)arg;
  if (set_disposition(SIGTERM, SIG_DFL) != 0)
    return 10;
  cache_t *c = make_cache(0);
  if (c == NULL || tu_set(c, "once", "1", 0) != CACHE_OK)
    return 11;
  if (cache_install_signal_handlers() != CACHE_OK)
    return 12;
  if (cache_install_signal_handlers() != CACHE_OK)
    return 13;
  kill(getpid(), SIGTERM);
  uint64_t start = real_ms();
  while (real_ms() - start < 2 * WAIT_LIMIT_MS)
    sleep_ms(5);
  return 14;
}

START_TEST(installing_twice_is_ok_and_shuts_down_once) {
  char out[256];
  int status = run_with_pipe(child_installs_twice, NULL, out, sizeof out);
  ASSERT_KILLED_BY(status, SIGTERM);
  ck_assert_str_eq(out, "once:cleared\n");
}
END_TEST

/* ---- a handler of the program's: it runs after the shutdown ------------- */

/* Lock-free, so usable from the handler, whatever thread it runs on. */
static atomic_int user_calls;

static void user_handler(int signo) {
  (void)signo;
  atomic_fetch_add(&user_calls, 1);
  static const char text[] = "user\n";
  ssize_t unused = write(out_fd, text, sizeof text - 1);
  (void)unused;
}

static int child_with_a_handler(void *arg) {
  (void)arg;
  atomic_store(&user_calls, 0);
  if (set_disposition(SIGUSR1, user_handler) != 0)
    return 10;
  cache_t *c = make_cache(1);
  if (c == NULL || tu_set(c, "x", "1", 0) != CACHE_OK)
    return 11;
  if (cache_install_signal_handlers() != CACHE_OK)
    return 12;
  kill(getpid(), SIGUSR1);
  WAIT_FOR(atomic_load(&user_calls) == 1);
  if (atomic_load(&user_calls) != 1)
    return 13;
  /* The shutdown came first. */
  if (tu_set(c, "y", "2", 0) != CACHE_ECLOSED || cache_count(c) != 0)
    return 14;
  /* The program's handler is back in place. */
  if (disposition(SIGUSR1) != user_handler)
    return 15;

  /* A signal is handled this way once: the next goes to the program
   * only, and a cache created since stays open. */
  cache_t *later = make_cache(0);
  if (later == NULL || tu_set(later, "z", "3", 0) != CACHE_OK)
    return 16;
  kill(getpid(), SIGUSR1);
  WAIT_FOR(atomic_load(&user_calls) == 2);
  if (atomic_load(&user_calls) != 2)
    return 17;
  sleep_ms(20);
  if (cache_count(later) != 1 || tu_contains(later, "z") != CACHE_OK)
    return 18;
  cache_destroy(c);
  cache_destroy(later);
  return 0;
}

START_TEST(program_handler_runs_after_the_shutdown) {
  char out[256];
  int status = run_with_pipe(child_with_a_handler, NULL, out, sizeof out);
  ASSERT_CHILD_EXITED_OK(status);
  ck_assert_str_eq(out, "x:cleared\nuser\nuser\nz:cleared\n");
}
END_TEST

/* ---- an ignored signal: the process goes on, its caches closed ---------- */

static int child_ignoring(void *arg) {
  (void)arg;
  if (set_disposition(SIGUSR2, SIG_IGN) != 0)
    return 10;
  cache_t *c = make_cache(1);
  if (c == NULL || tu_set(c, "q", "1", 0) != CACHE_OK)
    return 11;
  if (cache_install_signal_handlers() != CACHE_OK)
    return 12;
  if (disposition(SIGUSR2) == SIG_IGN)
    return 13;
  kill(getpid(), SIGUSR2);
  WAIT_FOR(tu_contains(c, "q") == CACHE_ECLOSED);
  if (tu_contains(c, "q") != CACHE_ECLOSED)
    return 14;
  WAIT_FOR(disposition(SIGUSR2) == SIG_IGN);
  if (disposition(SIGUSR2) != SIG_IGN)
    return 15;
  sleep_ms(50); /* the signal raised again, and ignored */
  /* Still alive, and the library still usable. */
  cache_t *after = make_cache(0);
  if (after == NULL || tu_set(after, "r", "2", 0) != CACHE_OK)
    return 16;
  cache_destroy(after);
  cache_destroy(c);
  return 0;
}

START_TEST(ignored_signal_closes_the_caches_and_the_process_goes_on) {
  char out[256];
  int status = run_with_pipe(child_ignoring, NULL, out, sizeof out);
  ASSERT_CHILD_EXITED_OK(status);
  ck_assert_str_eq(out, "q:cleared\nr:cleared\n");
}
END_TEST

static Suite *signals_suite(void) {
  Suite *s = suite_create("signals");
  TCase *t = tcase_create("signals");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, library_installs_no_handler_unless_asked);
  tcase_add_loop_test(t, signal_closes_the_caches_then_ends_the_process, 0,
                      N_HANDLED);
  tcase_add_test(t, installing_twice_is_ok_and_shuts_down_once);
  tcase_add_test(t, program_handler_runs_after_the_shutdown);
  tcase_add_test(t, ignored_signal_closes_the_caches_and_the_process_goes_on);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(signals_suite()); }
