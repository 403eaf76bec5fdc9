/* The alert ring of a cache: the newest CACHE_ALERTS_KEPT alerts and a
 * count of every alert by level. It never grows: a new alert overwrites the
 * oldest. Alerts are rare, so one small lock of their own is enough. */
#include "cache_int.h"
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cache__alerts_init(cache__alerts_t *a) {
  memset(a, 0, sizeof *a);
  pthread_mutex_init(&a->lock, NULL);
}

void cache__alerts_destroy(cache__alerts_t *a) {
  pthread_mutex_destroy(&a->lock);
}

static void saturating_inc(uint64_t *n) {
  if (*n != UINT64_MAX)
    (*n)++;
}

void cache__alert(cache_t *c, int level, const char *fmt, ...) {
  cache_alert_t alert = {.struct_size = sizeof alert, .level = level};
  alert.time_ms = cache__now(c);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(alert.message, sizeof alert.message, fmt, ap);
  va_end(ap);

  cache__alerts_t *a = &c->alerts;
  pthread_mutex_lock(&a->lock);
  a->ring[a->next] = alert;
  a->next = (a->next + 1) % CACHE_ALERTS_KEPT;
  if (a->len < CACHE_ALERTS_KEPT)
    a->len++;
  saturating_inc(level == CACHE_ALERT_CRITICAL ? &a->critical : &a->warning);
  pthread_mutex_unlock(&a->lock);
}

size_t cache_alerts(cache_t *c, cache_alert_t *out, size_t max) {
  if (c == NULL || out == NULL || max == 0 ||
      out->struct_size < CACHE__ALERT_V1_SIZE || atomic_load(&c->closed))
    return 0;
  size_t stride = out->struct_size;
  size_t known =
      stride < sizeof(cache_alert_t) ? stride : sizeof(cache_alert_t);
  cache__alerts_t *a = &c->alerts;
  pthread_mutex_lock(&a->lock);
  size_t n = a->len < max ? a->len : max;
  for (size_t i = 0; i < n; i++) {
    uint32_t at =
        (a->next + CACHE_ALERTS_KEPT - 1 - (uint32_t)i) % CACHE_ALERTS_KEPT;
    char *dst = (char *)out + i * stride;
    memcpy(dst, &a->ring[at], known);
    memset(dst + known, 0, stride - known);
    memcpy(dst, &stride, sizeof stride); /* dst may be unaligned */
  }
  pthread_mutex_unlock(&a->lock);
  return n;
}
