/* The subscriber thread: it owns the invalidation connection. That
 * connection asks for tracking itself, redirected to its own client id,
 * and then subscribes to __redis__:invalidate (RESP2). Tracking is tied to
 * the connection that is tracked: had another connection asked for it,
 * the loss of that one would silently stop the invalidations while this
 * one still looked healthy. So a single connection's life decides
 * whether the local tier may be used, and this thread sees its loss
 * at once.
 *
 * A PING is sent every heartbeat_ms / 2 while none is pending; one left
 * unanswered for longer than heartbeat_ms counts as a lost connection. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "near.h"

#define NEAR_BACKOFF_MIN_MS 10u
#define NEAR_BACKOFF_MAX_MS 1000u

static const char near_channel[] = "__redis__:invalidate";

/* Sleeps ms unless woken for shutdown; false when woken. */
static bool near_sleep(cache_redis_t *nc, uint64_t ms) {
  struct pollfd p = {.fd = nc->wake_fd[0], .events = POLLIN};
  return poll(&p, 1, (int)ms) != 1;
}

static bool near_reply_is(const redisReply *r, int type) {
  return r != NULL && r->type == type;
}

/* Runs one setup command; true if its reply has the expected type. */
static bool near_setup_command(redisContext *c, int argc, const char **argv,
                               const size_t *len, int type,
                               long long *integer) {
  redisReply *r = redisCommandArgv(c, argc, argv, len);
  bool ok = near_reply_is(r, type);
  if (ok && integer != NULL)
    *integer = r->integer;
  if (r != NULL)
    freeReplyObject(r);
  return ok;
}

static bool near_enable_tracking(cache_redis_t *nc, redisContext *c,
                                 long long id) {
  char id_text[24];
  snprintf(id_text, sizeof id_text, "%lld", id);
  const char *argv[] = {"CLIENT", "TRACKING", "on",     "REDIRECT",
                        id_text,  "BCAST",    "PREFIX", nc->prefix};
  size_t len[] = {6, 8, 2, 8, strlen(id_text), 5, 6, nc->prefix_len};
  /* No prefix: BCAST alone tracks every key. */
  int argc = nc->prefix_len > 0 ? 8 : 6;
  return near_setup_command(c, argc, argv, len, REDIS_REPLY_STATUS, NULL);
}

/* A connection that tracks the namespace and is subscribed to the
 * invalidations; NULL if any step fails. */
static redisContext *near_subscribe(cache_redis_t *nc) {
  redisContext *c = near_connect(nc);
  if (c == NULL)
    return NULL;
  long long id = 0;
  const char *id_argv[] = {"CLIENT", "ID"};
  const size_t id_len[] = {6, 2};
  const char *sub_argv[] = {"SUBSCRIBE", near_channel};
  const size_t sub_len[] = {9, sizeof near_channel - 1};
  if (near_setup_command(c, 2, id_argv, id_len, REDIS_REPLY_INTEGER, &id) &&
      near_enable_tracking(nc, c, id) &&
      near_setup_command(c, 2, sub_argv, sub_len, REDIS_REPLY_ARRAY, NULL))
    return c;
  redisFree(c);
  return NULL;
}

/* One invalidation message: its payload names keys, or is nil when the
 * whole database was flushed. */
static void near_on_invalidation(cache_redis_t *nc, const redisReply *payload) {
  if (payload->type == REDIS_REPLY_NIL) {
    near_flush(nc);
    return;
  }
  if (payload->type != REDIS_REPLY_ARRAY)
    return;
  for (size_t i = 0; i < payload->elements; i++) {
    const redisReply *k = payload->element[i];
    if (k->type != REDIS_REPLY_STRING || k->len < nc->prefix_len ||
        memcmp(k->str, nc->prefix, nc->prefix_len) != 0)
      continue;
    atomic_fetch_add(&nc->counters.invalidations, 1);
    if ((size_t)k->len > nc->prefix_len)
      near_invalidate(nc, k->str + nc->prefix_len,
                      (size_t)k->len - nc->prefix_len);
  }
}

/* A pushed reply: ["message", channel, payload] or ["pong", ""].
 * Returns true for a pong. */
static bool near_on_reply(cache_redis_t *nc, const redisReply *r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
      r->element[0]->type != REDIS_REPLY_STRING)
    return false;
  const char *kind = r->element[0]->str;
  if (strcmp(kind, "pong") == 0)
    return true;
  if (strcmp(kind, "message") == 0 && r->elements == 3)
    near_on_invalidation(nc, r->element[2]);
  return false;
}

typedef struct near_heartbeat {
  uint64_t period_ms;
  uint64_t next_ms;    /* when to send the next PING */
  uint64_t pending_ms; /* when the PING awaiting its answer left; 0 = none */
} near_heartbeat_t;

/* Handles every complete reply already read. false on a protocol
 * error. */
static bool near_drain(cache_redis_t *nc, redisContext *c,
                       near_heartbeat_t *hb) {
  for (;;) {
    void *reply = NULL;
    if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
      return false;
    if (reply == NULL)
      return true;
    if (near_on_reply(nc, reply) && hb->pending_ms != 0) {
      hb->next_ms = hb->pending_ms + hb->period_ms;
      hb->pending_ms = 0;
    }
    freeReplyObject(reply);
  }
}

static bool near_send_ping(redisContext *c) {
  if (redisAppendCommand(c, "PING") != REDIS_OK)
    return false;
  int done = 0;
  while (!done) {
    if (redisBufferWrite(c, &done) != REDIS_OK)
      return false;
  }
  return true;
}

/* Sends the PING when due; false when one is overdue or cannot be sent. */
static bool near_heartbeat(cache_redis_t *nc, redisContext *c,
                           near_heartbeat_t *hb, uint64_t now) {
  if (hb->pending_ms != 0)
    return now - hb->pending_ms <= nc->heartbeat_ms;
  if (now < hb->next_ms)
    return true;
  hb->pending_ms = now;
  return near_send_ping(c);
}

/* How long to wait for input before the heartbeat needs a look. */
static int near_wait_ms(const cache_redis_t *nc, const near_heartbeat_t *hb,
                        uint64_t now) {
  uint64_t until =
      hb->pending_ms != 0 ? hb->pending_ms + nc->heartbeat_ms + 1 : hb->next_ms;
  return until > now ? (int)(until - now) : 0;
}

/* Reads invalidations until the connection fails, its heartbeat is
 * missed, or shutdown. */
static void near_listen(cache_redis_t *nc, redisContext *c) {
  near_heartbeat_t hb = {.period_ms = nc->heartbeat_ms / 2u + 1u};
  hb.next_ms = near_now_ms() + hb.period_ms;
  while (!atomic_load(&nc->stopping)) {
    if (!near_drain(nc, c, &hb))
      return;
    uint64_t now = near_now_ms();
    if (!near_heartbeat(nc, c, &hb, now))
      return;
    struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                          {.fd = nc->wake_fd[0], .events = POLLIN}};
    if (poll(p, 2, near_wait_ms(nc, &hb, now)) < 0)
      continue; /* EINTR: look again */
    if (p[1].revents != 0)
      return;
    if (p[0].revents != 0 && redisBufferRead(c) != REDIS_OK)
      return;
  }
}

static void *near_sub_main(void *arg) {
  cache_redis_t *nc = arg;
  uint64_t backoff = NEAR_BACKOFF_MIN_MS;
  bool connected_before = false;
  while (!atomic_load(&nc->stopping)) {
    redisContext *c = near_subscribe(nc);
    if (c == NULL) {
      if (!near_sleep(nc, backoff))
        break;
      backoff = backoff * 2u > NEAR_BACKOFF_MAX_MS ? NEAR_BACKOFF_MAX_MS
                                                   : backoff * 2u;
      continue;
    }
    backoff = NEAR_BACKOFF_MIN_MS;
    if (connected_before)
      atomic_fetch_add(&nc->counters.reconnects, 1);
    connected_before = true;
    near_set_active(nc, true);
    near_listen(nc, c);
    near_set_active(nc, false);
    redisFree(c);
  }
  return NULL;
}

int near_sub_start(cache_redis_t *nc) {
  if (pipe(nc->wake_fd) != 0)
    return CACHE_ENOMEM;
  if (pthread_create(&nc->thread, NULL, near_sub_main, nc) != 0) {
    close(nc->wake_fd[0]);
    close(nc->wake_fd[1]);
    return CACHE_ENOMEM;
  }
  nc->thread_started = true;
  return CACHE_OK;
}

void near_sub_stop(cache_redis_t *nc) {
  if (!nc->thread_started)
    return;
  atomic_store(&nc->stopping, true);
  char byte = 1;
  /* The pipe is empty and a byte always fits; a failure would only delay
   * the stop to the next poll timeout. */
  if (write(nc->wake_fd[1], &byte, 1) < 0) {
  }
  pthread_join(nc->thread, NULL);
  close(nc->wake_fd[0]);
  close(nc->wake_fd[1]);
  nc->thread_started = false;
}
