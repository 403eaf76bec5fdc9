/* The process memory monitor: /proc/self/status, the memory cgroup and the
 * allocator's own statistics, read on request and never on the hot path.
 *
 * Parsing is strict: a file that exists but does not say what it should is
 * an error (CACHE_EIO), never a silent zero, since a zero would read as
 * "no memory in use" to whatever acts on it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "alloc.h"
#include "cache_int.h"
#include "options.h"
#include "process.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t purge_released;

/* Reads a whole small file into buf. 1 read, 0 missing, -1 error. */
static int read_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return errno == ENOENT || errno == EACCES ? 0 : -1;
  size_t n = fread(buf, 1, size - 1, f);
  int err = ferror(f);
  fclose(f);
  if (err)
    return -1;
  buf[n] = '\0';
  return 1;
}

/* A decimal number, then only white space. */
static bool parse_u64(const char *s, uint64_t *out) {
  while (isspace((unsigned char)*s))
    s++;
  if (!isdigit((unsigned char)*s))
    return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0)
    return false;
  while (isspace((unsigned char)*end))
    end++;
  if (*end != '\0')
    return false;
  *out = v;
  return true;
}

/* "<field>:   <n> kB" in a /proc status text, in bytes. */
static bool status_field(const char *text, const char *field, uint64_t *out) {
  size_t len = strlen(field);
  for (const char *line = text; line != NULL && *line != '\0';) {
    const char *eol = strchr(line, '\n');
    if (strncmp(line, field, len) == 0 && line[len] == ':') {
      char value[64];
      size_t n = (eol ? (size_t)(eol - line) : strlen(line)) - len - 1;
      if (n >= sizeof value)
        return false;
      memcpy(value, line + len + 1, n);
      value[n] = '\0';
      char *kb = strstr(value, " kB");
      if (kb == NULL || kb[3] != '\0')
        return false;
      *kb = '\0';
      uint64_t v;
      if (!parse_u64(value, &v) || v > UINT64_MAX / 1024)
        return false;
      *out = v * 1024;
      return true;
    }
    line = eol ? eol + 1 : NULL;
  }
  return false;
}

static int read_proc(cache_memory_usage_t *m) {
  char text[8192];
  int rc = read_file("/proc/self/status", text, sizeof text);
  if (rc <= 0)
    return rc;
  if (!status_field(text, "VmRSS", &m->rss_bytes) ||
      !status_field(text, "VmHWM", &m->rss_peak_bytes) ||
      !status_field(text, "VmSize", &m->vm_size_bytes) ||
      !status_field(text, "VmData", &m->data_bytes))
    return -1;
  m->sources |= CACHE_MEMORY_PROC;
  return 1;
}

/* The path of this process's cgroup for `controller` ("" for the v2
 * unified hierarchy) from /proc/self/cgroup, or "/" if not listed. */
static void cgroup_path(const char *controller, char *out, size_t size) {
  char text[4096];
  snprintf(out, size, "/");
  if (read_file("/proc/self/cgroup", text, sizeof text) <= 0)
    return;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (b == NULL)
      continue;
    *b = '\0';
    if (strcmp(a + 1, controller) == 0) {
      snprintf(out, size, "%s", b + 1);
      return;
    }
  }
}

/* Reads one cgroup number; "max" (v2) means no limit. */
static int read_cgroup_value(const char *dir, const char *file, uint64_t *out) {
  char path[512], text[64];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int rc = read_file(path, text, sizeof text);
  if (rc <= 0)
    return rc;
  if (strcmp(text, "max\n") == 0 || strcmp(text, "max") == 0) {
    *out = UINT64_MAX;
    return 1;
  }
  return parse_u64(text, out) ? 1 : -1;
}

static int read_cgroup_pair(const char *dir, const char *usage,
                            const char *limit, cache_memory_usage_t *m) {
  int rc = read_cgroup_value(dir, usage, &m->cgroup_usage_bytes);
  if (rc <= 0)
    return rc;
  rc = read_cgroup_value(dir, limit, &m->cgroup_limit_bytes);
  if (rc <= 0)
    return -1; /* usage without a limit: not a memory cgroup we understand */
  /* cgroup v1 says "no limit" with a huge page-aligned number. */
  if (m->cgroup_limit_bytes >= (UINT64_C(1) << 62))
    m->cgroup_limit_bytes = UINT64_MAX;
  m->sources |= CACHE_MEMORY_CGROUP;
  return 1;
}

static int read_cgroup(cache_memory_usage_t *m) {
  char rel[256], dir[512];
  cgroup_path("", rel, sizeof rel); /* v2: "0::/path" */
  snprintf(dir, sizeof dir, "/sys/fs/cgroup%s", rel);
  int rc = read_cgroup_pair(dir, "memory.current", "memory.max", m);
  if (rc != 0)
    return rc;
  cgroup_path("memory", rel, sizeof rel); /* v1: "N:memory:/path" */
  snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory%s", rel);
  rc = read_cgroup_pair(dir, "memory.usage_in_bytes", "memory.limit_in_bytes",
                        m);
  if (rc != 0)
    return rc;
  /* Inside a container the listed path may not exist: try the root. */
  return read_cgroup_pair("/sys/fs/cgroup/memory", "memory.usage_in_bytes",
                          "memory.limit_in_bytes", m);
}

static int read_allocator(cache_memory_usage_t *m) {
  cache__mem_totals_t t;
  int rc = cache__mem_totals(&t);
  if (rc <= 0)
    return rc;
  m->je_allocated = t.allocated;
  m->je_active = t.active;
  m->je_resident = t.resident;
  m->je_mapped = t.mapped;
  m->je_retained = t.retained;
  m->sources |= CACHE_MEMORY_ALLOCATOR;
  return 1;
}

static int read_all(cache_memory_usage_t *m) {
  memset(m, 0, sizeof *m);
  m->struct_size = sizeof *m;
  if (read_proc(m) < 0 || read_cgroup(m) < 0 || read_allocator(m) < 0)
    return CACHE_EIO;
  m->purge_released_bytes = atomic_load(&purge_released);
  return CACHE_OK;
}

int cache_memory_usage(cache_memory_usage_t *out) {
  if (out == NULL || out->struct_size < CACHE__MEMORY_USAGE_V1_SIZE)
    return CACHE_EINVAL;
  cache_memory_usage_t m;
  int rc = read_all(&m);
  if (rc != CACHE_OK)
    return rc;
  return cache__struct_out(out, &m, sizeof m, CACHE__MEMORY_USAGE_V1_SIZE);
}

/* The process's resident bytes: 1 and *out, 0 if /proc is missing, or a
 * negative status. */
int cache__memory_rss(uint64_t *out) {
  cache_memory_usage_t m;
  memset(&m, 0, sizeof m);
  int rc = read_proc(&m);
  if (rc < 0)
    return CACHE_EIO;
  *out = m.rss_bytes;
  return rc;
}

/* The memory cgroup's usage: 1 and *out, 0 if there is none, or a
 * negative status. */
int cache__memory_cgroup_usage(uint64_t *out) {
  cache_memory_usage_t m;
  memset(&m, 0, sizeof m);
  int rc = read_cgroup(&m);
  if (rc < 0)
    return CACHE_EIO;
  *out = m.cgroup_usage_bytes;
  return rc;
}

int cache_memory_is_high(uint64_t threshold_mb) {
  uint64_t rss;
  int rc = cache__memory_rss(&rss);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return CACHE_EIO; /* no /proc: nothing to compare */
  if (threshold_mb > UINT64_MAX >> 20)
    return 0;
  return rss > (threshold_mb << 20) ? 1 : 0;
}

int cache_memory_purge(void) {
  uint64_t before, after;
  if (cache__memory_rss(&before) < 0)
    return CACHE_EIO;
  cache__mem_purge_all();
  if (cache__memory_rss(&after) < 0)
    return CACHE_EIO;
  atomic_store(&purge_released, before > after ? before - after : 0);
  return CACHE_OK;
}
