/* Opt-in shutdown on termination signals.
 *
 * A signal handler may only do async-signal-safe work, and closing caches
 * (locks, listeners, free) is none of that. So the handler writes the
 * signal number to a pipe, and a helper thread, blocked in read() on the
 * other end, does the work: it runs cache_shutdown_all(), puts back the
 * disposition the signal had before, and sends the signal to the process
 * again, which then ends (or carries on) exactly as it would have without
 * the library. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static const int handled[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
#define N_HANDLED (sizeof handled / sizeof handled[0])

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed;
static int pipe_fds[2] = {-1, -1};
static struct sigaction previous[N_HANDLED];

static void on_signal(int signo) {
  int saved = errno;
  unsigned char b = (unsigned char)signo;
  /* If the pipe is full, a shutdown is already on its way. */
  ssize_t unused = write(pipe_fds[1], &b, 1);
  (void)unused;
  errno = saved;
}

static int slot_of(int signo) {
  for (size_t i = 0; i < N_HANDLED; i++)
    if (handled[i] == signo)
      return (int)i;
  return -1;
}

static void *signal_thread(void *arg) {
  int fd = (int)(intptr_t)arg;
  for (;;) {
    unsigned char b;
    ssize_t n = read(fd, &b, 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n != 1) {
      close(fd); /* installation failed and closed the write end */
      return NULL;
    }
    int i = slot_of(b);
    if (i < 0)
      continue;
    cache_shutdown_all();
    pthread_mutex_lock(&lock);
    sigaction(b, &previous[i], NULL);
    pthread_mutex_unlock(&lock);
    /* To the process, not this thread, which blocks every signal. */
    kill(getpid(), b);
  }
}

static int start_thread(void) {
  sigset_t all, old;
  sigfillset(&all);
  /* The helper inherits this mask: signals go to the program's threads. */
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  int rc =
      pthread_create(&t, NULL, signal_thread, (void *)(intptr_t)pipe_fds[0]);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0)
    return CACHE_ENOMEM;
  pthread_detach(t);
  return CACHE_OK;
}

static int install_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < N_HANDLED; i++) {
    if (sigaction(handled[i], &sa, &previous[i]) != 0) {
      while (i-- > 0)
        sigaction(handled[i], &previous[i], NULL);
      return CACHE_EINVAL;
    }
  }
  return CACHE_OK;
}

int cache_install_signal_handlers(void) {
  pthread_mutex_lock(&lock);
  int rc = CACHE_OK;
  if (installed)
    goto out;
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    rc = CACHE_ENOMEM;
    goto out;
  }
  fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK);
  rc = start_thread();
  if (rc != CACHE_OK) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    goto out;
  }
  rc = install_handlers();
  if (rc != CACHE_OK) {
    close(pipe_fds[1]); /* the thread sees EOF, closes its end and leaves */
    goto out;
  }
  installed = true;
out:
  pthread_mutex_unlock(&lock);
  return rc;
}
