/*
 * Trace files as byte streams. The first bytes decide: gzip's magic
 * (1f 8b 08) means inflate, zstd's (28 b5 2f fd) an error that says what to
 * do, anything else is read as it is. Inflating is done here with zlib's
 * stream interface rather than gzopen(), so that the bytes already read
 * to look at the magic need no seeking back (a pipe cannot), and so that a
 * truncated file is an error instead of a silently shorter trace.
 */
#define _POSIX_C_SOURCE 200809L

#include "input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef SIM_HAVE_ZLIB
#include <zlib.h>
#endif

#define BUF_START (256u * 1024) /* decoded bytes held at first */
#define RAW_SIZE (64u * 1024)   /* compressed bytes read at a time */

struct sim_input {
  const char *path;
  FILE *file;
  uint64_t size;     /* of the file, 0 if not a regular file */
  uint64_t position; /* bytes read from the file */
  /* Decoded bytes: buf[start, end) are readable; one byte past cap is
   * kept for the NUL of a last line without "\n". */
  unsigned char *buf;
  size_t cap, start, end;
  bool eof; /* no more decoded bytes will come */
  uint64_t line;
  bool gzip;
#ifdef SIM_HAVE_ZLIB
  z_stream zs;
  bool zs_ready;    /* inflateInit2() done */
  bool member_open; /* in a gzip member whose end has not been seen */
  unsigned char *raw;
  bool raw_eof;
#endif
};

bool sim_input_have_gzip(void) {
#ifdef SIM_HAVE_ZLIB
  return true;
#else
  return false;
#endif
}

const char *sim_input_zlib_version(void) {
#ifdef SIM_HAVE_ZLIB
  return zlibVersion();
#else
  return NULL;
#endif
}

bool sim_input_gzip(const sim_input_t *in) { return in->gzip; }
uint64_t sim_input_line_number(const sim_input_t *in) { return in->line; }
uint64_t sim_input_position(const sim_input_t *in) { return in->position; }
uint64_t sim_input_size(const sim_input_t *in) { return in->size; }
const char *sim_input_path(const sim_input_t *in) { return in->path; }

/* Up to n bytes of the file into dst; *got = 0 at its end. */
static int read_file(sim_input_t *in, void *dst, size_t n, size_t *got,
                     sim_error_t *err) {
  *got = fread(dst, 1, n, in->file);
  in->position += *got;
  if (*got == 0 && ferror(in->file)) {
    sim_error_set(err, "%s: read error: %s", in->path, strerror(errno));
    return -1;
  }
  return 0;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int no_zstd(const char *path, sim_error_t *err) {
  sim_error_set(err, "%s: zstd not supported: decompress first (zstd -d)",
                path);
  return -1;
}

#ifdef SIM_HAVE_ZLIB
/* The first bytes, already read into buf, become the inflater's input. */
static int start_gzip(sim_input_t *in, sim_error_t *err) {
  in->raw = malloc(RAW_SIZE);
  if (in->raw == NULL || inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK) {
    sim_error_set(err, "%s: out of memory", in->path);
    return -1;
  }
  in->zs_ready = true;
  memcpy(in->raw, in->buf, in->end);
  in->zs.next_in = in->raw;
  in->zs.avail_in = (uInt)in->end;
  in->end = 0;
  return 0;
}

/* Input for the inflater when it has used all it had. */
static int refill_raw(sim_input_t *in, sim_error_t *err) {
  if (in->zs.avail_in > 0 || in->raw_eof)
    return 0;
  size_t got;
  if (read_file(in, in->raw, RAW_SIZE, &got, err) != 0)
    return -1;
  in->raw_eof = got == 0;
  in->zs.next_in = in->raw;
  in->zs.avail_in = (uInt)got;
  return 0;
}

/* Decodes into buf[end, cap) until at least one byte comes out or the
 * data ends. Several members one after the other are one stream (as
 * `cat a.gz b.gz` makes); bytes after the last member that do not start
 * another are ignored, as gzip -d does. */
static int inflate_more(sim_input_t *in, sim_error_t *err) {
  z_stream *zs = &in->zs;
  zs->next_out = in->buf + in->end;
  zs->avail_out = (uInt)(in->cap - in->end);
  while (zs->avail_out == in->cap - in->end) {
    if (refill_raw(in, err) != 0)
      return -1;
    if (zs->avail_in == 0) {
      if (in->member_open) {
        sim_error_set(err, "%s: truncated gzip data", in->path);
        return -1;
      }
      in->eof = true;
      break;
    }
    if (!in->member_open) {
      if (zs->next_in[0] != 0x1f) {
        in->eof = true;
        break;
      }
      inflateReset(zs);
      in->member_open = true;
    }
    int rc = inflate(zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      in->member_open = false;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      sim_error_set(err, "%s: bad gzip data (%s)", in->path,
                    zs->msg != NULL ? zs->msg : "inflate failed");
      return -1;
    }
  }
  in->end = in->cap - zs->avail_out;
  return 0;
}
#endif

/* More decoded bytes into buf[end, cap), or eof. */
static int read_more(sim_input_t *in, sim_error_t *err) {
#ifdef SIM_HAVE_ZLIB
  if (in->gzip)
    return inflate_more(in, err);
#endif
  size_t got;
  if (read_file(in, in->buf + in->end, in->cap - in->end, &got, err) != 0)
    return -1;
  in->end += got;
  in->eof = got == 0;
  return 0;
}

/* Tells plain, gzip and zstd apart by the first bytes, now in buf. */
static int detect(sim_input_t *in, sim_error_t *err) {
  const unsigned char *b = in->buf;
  if (in->end >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f &&
      b[3] == 0xfd)
    return no_zstd(in->path, err);
  /* gzip's magic and its only method, deflate (8): an oracleGeneral file
   * whose first clock_time happens to start with the magic stays binary. */
  if (in->end < 3 || b[0] != 0x1f || b[1] != 0x8b || b[2] != 8)
    return 0;
  in->gzip = true;
#ifdef SIM_HAVE_ZLIB
  return start_gzip(in, err);
#else
  sim_error_set(err,
                "%s: gzip data, but cache-sim was built without zlib: "
                "decompress first (gunzip)",
                in->path);
  return -1;
#endif
}

static int open_file(sim_input_t *in, sim_error_t *err) {
  in->file = fopen(in->path, "rb");
  if (in->file == NULL) {
    sim_error_set(err, "%s: %s", in->path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(in->file), &st) != 0) {
    sim_error_set(err, "%s: %s", in->path, strerror(errno));
    return -1;
  }
  if (S_ISDIR(st.st_mode)) {
    sim_error_set(err, "%s: is a directory", in->path);
    return -1;
  }
  in->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
  return 0;
}

sim_input_t *sim_input_open(const char *path, sim_error_t *err) {
  /* libCacheSim's traces come as .zst too: say so before reading any. */
  if (ends_with(path, ".zst")) {
    no_zstd(path, err);
    return NULL;
  }
  sim_input_t *in = calloc(1, sizeof *in);
  if (in == NULL) {
    sim_error_set(err, "%s: out of memory", path);
    return NULL;
  }
  in->path = path;
  in->cap = BUF_START;
  in->buf = malloc(in->cap + 1);
  if (in->buf == NULL) {
    sim_error_set(err, "%s: out of memory", path);
    sim_input_close(in);
    return NULL;
  }
  /* RAW_SIZE at most: if they are gzip'ed, they move to the raw buffer. */
  size_t got;
  if (open_file(in, err) != 0 ||
      read_file(in, in->buf, RAW_SIZE, &got, err) != 0 ||
      (in->end = got, detect(in, err)) != 0) {
    sim_input_close(in);
    return NULL;
  }
  return in;
}

void sim_input_close(sim_input_t *in) {
  if (in == NULL)
    return;
#ifdef SIM_HAVE_ZLIB
  if (in->zs_ready)
    inflateEnd(&in->zs);
  free(in->raw);
#endif
  if (in->file != NULL)
    fclose(in->file);
  free(in->buf);
  free(in);
}

/* Room for `want` readable bytes: the readable ones go to the front, and
 * the buffer grows if it is still too small. */
static int make_room(sim_input_t *in, size_t want, sim_error_t *err) {
  if (in->start > 0 && in->cap - in->start < want) {
    memmove(in->buf, in->buf + in->start, in->end - in->start);
    in->end -= in->start;
    in->start = 0;
  }
  if (in->cap >= want && in->end < in->cap)
    return 0;
  size_t cap = in->cap * 2 > want ? in->cap * 2 : want;
  unsigned char *buf = realloc(in->buf, cap + 1);
  if (buf == NULL) {
    sim_error_set(err, "%s: out of memory", in->path);
    return -1;
  }
  in->buf = buf;
  in->cap = cap;
  return 0;
}

int sim_input_fill(sim_input_t *in, size_t want, const unsigned char **data,
                   size_t *avail, sim_error_t *err) {
  while (in->end - in->start < want && !in->eof) {
    if (make_room(in, want, err) != 0 || read_more(in, err) != 0)
      return -1;
  }
  *data = in->buf + in->start;
  *avail = in->end - in->start;
  return 0;
}

void sim_input_consume(sim_input_t *in, size_t n) { in->start += n; }

/* Takes buf[start, at) as the next line; at is its "\n" or the end. */
static void take_line(sim_input_t *in, size_t at, char **line, size_t *len) {
  size_t n = at - in->start;
  char *p = (char *)in->buf + in->start;
  if (n > 0 && p[n - 1] == '\r')
    n--;
  p[n] = '\0';
  *line = p;
  *len = n;
  in->start = at < in->end ? at + 1 : at;
  in->line++;
}

int sim_input_line(sim_input_t *in, char **line, size_t *len,
                   sim_error_t *err) {
  size_t scanned = in->start; /* no "\n" before this */
  for (;;) {
    unsigned char *nl = memchr(in->buf + scanned, '\n', in->end - scanned);
    if (nl != NULL) {
      take_line(in, (size_t)(nl - in->buf), line, len);
      return 1;
    }
    if (in->eof) {
      if (in->end == in->start)
        return 0;
      take_line(in, in->end, line, len); /* the NUL goes in the spare byte */
      return 1;
    }
    size_t have = in->end - in->start;
    if (have >= SIM_LINE_MAX) {
      sim_error_set(err, "%s:%llu: line longer than %u bytes", in->path,
                    (unsigned long long)in->line + 1, SIM_LINE_MAX);
      return -1;
    }
    const unsigned char *data;
    size_t avail;
    if (sim_input_fill(in, have + 1, &data, &avail, err) != 0)
      return -1;
    scanned = in->start + have; /* the buffer may have moved */
  }
}
