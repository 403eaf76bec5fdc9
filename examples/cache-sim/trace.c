/*
 * The three trace formats (trace.h), read through input.h. Errors name
 * the file and the line (or the record) and quote what was there, so that
 * a user can find it: a trace of a hundred million lines with one bad
 * line should not cost a search.
 */
#define _POSIX_C_SOURCE 200809L

#include "trace.h"

#include "input.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_LINES 65536u /* lines or records between progress calls */
#define QUOTE_MAX 40          /* bytes of a bad field quoted in a message */
#define GUESS_FIELDS 64       /* columns looked at to guess a csv header */
#define ORACLE_RECORD 24

static const char *const format_names[] = {"auto", "ids", "oracle", "csv"};

const char *sim_format_name(sim_format_t format) {
  return (unsigned)format < 4 ? format_names[format] : "?";
}

int sim_format_parse(const char *name, sim_format_t *out) {
  for (int i = 0; i < 4; i++)
    if (strcmp(name, format_names[i]) == 0) {
      *out = (sim_format_t)i;
      return 0;
    }
  return -1;
}

void sim_read_options_init(sim_read_options_t *options) {
  memset(options, 0, sizeof *options);
  options->format = SIM_FORMAT_AUTO;
  options->key_col = 1;
  options->delim = ',';
  options->header = -1;
}

/* s[0..n) for a message: at most QUOTE_MAX bytes, unprintable ones as
 * '?', "..." when cut. */
static const char *quote(const char *s, size_t n, char out[QUOTE_MAX + 4]) {
  size_t k = n < QUOTE_MAX ? n : QUOTE_MAX;
  for (size_t i = 0; i < k; i++)
    out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
  strcpy(out + k, n > k ? "..." : "");
  return out;
}

/* ---- the requests as they are read -----------------------------------------
 */

typedef struct builder {
  sim_trace_t *trace;
  size_t cap;
  bool sized;
} builder_t;

static int push(builder_t *b, uint64_t id, uint32_t size) {
  sim_trace_t *t = b->trace;
  if (t->length == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    uint64_t *ids = realloc(t->ids, cap * sizeof *ids);
    if (ids == NULL)
      return -1;
    t->ids = ids;
    if (b->sized) {
      uint32_t *sizes = realloc(t->sizes, cap * sizeof *sizes);
      if (sizes == NULL)
        return -1;
      t->sizes = sizes;
    }
    b->cap = cap;
  }
  t->ids[t->length] = id;
  if (b->sized)
    t->sizes[t->length] = size;
  t->length++;
  return 0;
}

static int out_of_memory(const char *path, sim_error_t *err) {
  sim_error_set(err, "%s: out of memory", path);
  return -1;
}

static void progress(const sim_read_options_t *o, const sim_input_t *in) {
  if (o->progress != NULL)
    o->progress(o->progress_ctx, sim_input_position(in), sim_input_size(in));
}

/* ---- numbers ----------------------------------------------------------------
 */

static void trim(const char **s, size_t *n) {
  while (*n > 0 && (**s == ' ' || **s == '\t'))
    (*s)++, (*n)--;
  while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
    (*n)--;
}

/* A decimal unsigned number up to max: 0, -1 if not one, -2 if too big. */
static int parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out) {
  if (n == 0)
    return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (max - d) / 10)
      return -2;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* ---- ids: one per line ------------------------------------------------- */

static int id_line_error(sim_input_t *in, int why, const char *s, size_t n,
                         sim_error_t *err) {
  char q[QUOTE_MAX + 4];
  sim_error_set(err, "%s:%llu: %s: '%s'", sim_input_path(in),
                (unsigned long long)sim_input_line_number(in),
                why == -2 ? "id out of range (more than 64 bits)"
                          : "not a decimal id",
                quote(s, n, q));
  return -1;
}

static int read_ids(sim_input_t *in, const sim_read_options_t *o, builder_t *b,
                    sim_error_t *err) {
  char *line;
  size_t len;
  int rc;
  while ((rc = sim_input_line(in, &line, &len, err)) == 1) {
    const char *s = line;
    trim(&s, &len);
    if (len == 0 || s[0] == '#')
      continue;
    uint64_t id;
    int why = parse_decimal(s, len, UINT64_MAX, &id);
    if (why != 0)
      return id_line_error(in, why, s, len, err);
    if (push(b, id, 0) != 0)
      return out_of_memory(sim_input_path(in), err);
    if (sim_input_line_number(in) % PROGRESS_LINES == 0)
      progress(o, in);
  }
  return rc;
}

/* ---- oracleGeneral: 24-byte records ------------------------------------ */

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static int read_oracle(sim_input_t *in, const sim_read_options_t *o,
                       builder_t *b, sim_error_t *err) {
  const char *path = sim_input_path(in);
  for (;;) {
    const unsigned char *data;
    size_t avail;
    if (sim_input_fill(in, ORACLE_RECORD, &data, &avail, err) != 0)
      return -1;
    if (avail == 0)
      return 0;
    if (avail < ORACLE_RECORD) {
      sim_error_set(err,
                    "%s: record %llu is truncated (%zu of %d bytes): not an "
                    "oracleGeneral trace, or a cut one",
                    path, (unsigned long long)b->trace->length + 1, avail,
                    ORACLE_RECORD);
      return -1;
    }
    size_t records = avail / ORACLE_RECORD;
    for (size_t r = 0; r < records; r++) {
      const unsigned char *rec = data + r * ORACLE_RECORD;
      /* clock_time at 0, obj_id at 4, obj_size at 12, next access at 16 */
      if (push(b, le64(rec + 4), le32(rec + 12)) != 0)
        return out_of_memory(path, err);
    }
    sim_input_consume(in, records * ORACLE_RECORD);
    progress(o, in);
  }
}

/* ---- csv --------------------------------------------------------------- */

typedef struct field {
  const char *s;
  size_t n;
} field_t;

/* A quoted field starting at *p (on its opening quote): its text, with
 * "" turned into ", is written over itself; *p ends past the closing
 * quote. -1 if the line ends inside the quotes. */
static int unquote(char **p, const char *end, field_t *f) {
  char *out = ++*p;
  f->s = out;
  while (*p < end) {
    if (**p != '"') {
      *out++ = *(*p)++;
    } else if (*p + 1 < end && (*p)[1] == '"') {
      *out++ = '"';
      *p += 2;
    } else {
      (*p)++;
      f->n = (size_t)(out - f->s);
      return 0;
    }
  }
  return -1;
}

/* Splits line into fields, keeping the first max of them in f; returns
 * how many fields the line has, or -1 (with a message) for a broken
 * quote. Spaces around a field are not part of it. */
static int split(sim_input_t *in, char *line, size_t len, char delim,
                 field_t *f, unsigned max, sim_error_t *err) {
  char *p = line, *end = line + len;
  unsigned count = 0;
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t') && *p != delim)
      p++;
    field_t cur = {p, 0};
    if (p < end && *p == '"') {
      if (unquote(&p, end, &cur) != 0) {
        sim_error_set(err, "%s:%llu: unterminated quote in field %u",
                      sim_input_path(in),
                      (unsigned long long)sim_input_line_number(in), count + 1);
        return -1;
      }
      while (p < end && *p != delim)
        p++; /* whatever follows the closing quote is not the key */
    } else {
      char *start = p;
      while (p < end && *p != delim)
        p++;
      cur.s = start;
      cur.n = (size_t)(p - start);
      trim(&cur.s, &cur.n);
    }
    if (count < max)
      f[count] = cur;
    count++;
    if (p == end)
      return (int)count;
    p++; /* the delimiter */
  }
}

/* A decimal number as a header would not be: 12, -3.5, 1e6. */
static bool numeric(const field_t *f) {
  const char *s = f->s, *end = f->s + f->n;
  if (s < end && (*s == '-' || *s == '+'))
    s++;
  size_t digits = 0;
  for (; s < end && (isdigit((unsigned char)*s) || *s == '.'); s++)
    digits += isdigit((unsigned char)*s) != 0;
  if (digits > 0 && s < end && (*s == 'e' || *s == 'E'))
    for (s++; s < end && (isdigit((unsigned char)*s) || *s == '-' || *s == '+');
         s++)
      ;
  return digits > 0 && s == end;
}

/* String keys numbered in the order they first appear. */
typedef struct intern {
  uint64_t *slots; /* id + 1; 0 = free */
  uint64_t mask;
  sim_names_t *names;
  size_t bytes_cap, offsets_cap;
} intern_t;

static uint64_t hash_bytes(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
  return h ^ (h >> 29);
}

static int intern_init(intern_t *t) {
  memset(t, 0, sizeof *t);
  t->mask = 1023;
  t->slots = calloc(t->mask + 1, sizeof *t->slots);
  t->names = calloc(1, sizeof *t->names);
  t->offsets_cap = 1024;
  if (t->names != NULL)
    t->names->offsets = calloc(t->offsets_cap, sizeof *t->names->offsets);
  return t->slots && t->names && t->names->offsets ? 0 : -1;
}

static void intern_free(intern_t *t) {
  free(t->slots);
  if (t->names != NULL) {
    free(t->names->bytes);
    free(t->names->offsets);
    free(t->names);
  }
}

static field_t intern_name(const intern_t *t, uint64_t id) {
  const sim_names_t *n = t->names;
  return (field_t){n->bytes + n->offsets[id],
                   (size_t)(n->offsets[id + 1] - n->offsets[id])};
}

static uint64_t *intern_slot(uint64_t *slots, uint64_t mask, const intern_t *t,
                             const char *s, size_t n) {
  uint64_t i = hash_bytes(s, n) & mask;
  for (; slots[i] != 0; i = (i + 1) & mask) {
    field_t k = intern_name(t, slots[i] - 1);
    if (k.n == n && memcmp(k.s, s, n) == 0)
      break;
  }
  return &slots[i];
}

static int intern_grow_table(intern_t *t) {
  uint64_t mask = t->mask * 2 + 1;
  uint64_t *slots = calloc(mask + 1, sizeof *slots);
  if (slots == NULL)
    return -1;
  for (uint64_t id = 0; id < t->names->count; id++) {
    field_t k = intern_name(t, id);
    *intern_slot(slots, mask, t, k.s, k.n) = id + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->mask = mask;
  return 0;
}

/* Room for one more name of n bytes. */
static int intern_reserve(intern_t *t, size_t n) {
  sim_names_t *names = t->names;
  size_t used = (size_t)names->offsets[names->count];
  if (used + n > t->bytes_cap) {
    size_t cap = t->bytes_cap ? t->bytes_cap * 2 : 65536;
    while (cap < used + n)
      cap *= 2;
    char *bytes = realloc(names->bytes, cap);
    if (bytes == NULL)
      return -1;
    names->bytes = bytes;
    t->bytes_cap = cap;
  }
  if (names->count + 2 > t->offsets_cap) {
    size_t cap = t->offsets_cap * 2;
    uint64_t *offsets = realloc(names->offsets, cap * sizeof *offsets);
    if (offsets == NULL)
      return -1;
    names->offsets = offsets;
    t->offsets_cap = cap;
  }
  return 2 * (names->count + 1) > t->mask ? intern_grow_table(t) : 0;
}

/* The id of key s[0..n), new or not; -1 when out of memory. */
static int intern(intern_t *t, const char *s, size_t n, uint64_t *id) {
  if (intern_reserve(t, n) != 0)
    return -1;
  uint64_t *slot = intern_slot(t->slots, t->mask, t, s, n);
  if (*slot == 0) {
    sim_names_t *names = t->names;
    uint64_t used = names->offsets[names->count];
    memcpy(names->bytes + used, s, n);
    names->offsets[++names->count] = used + n;
    *slot = names->count;
  }
  *id = *slot - 1;
  return 0;
}

typedef struct csv_reader {
  sim_input_t *in;
  const sim_read_options_t *o;
  builder_t *b;
  intern_t names;
  field_t *fields; /* the first max_fields fields of the current line */
  unsigned max_fields;
  uint64_t line; /* of the fields, for messages */
} csv_reader_t;

static int csv_error(csv_reader_t *r, sim_error_t *err, const char *what,
                     const field_t *f) {
  char q[QUOTE_MAX + 4];
  sim_error_set(err, "%s:%llu: %s: '%s'", sim_input_path(r->in),
                (unsigned long long)r->line, what, quote(f->s, f->n, q));
  return -1;
}

static int csv_size(csv_reader_t *r, const field_t *f, uint32_t *size,
                    sim_error_t *err) {
  uint64_t v;
  int why = parse_decimal(f->s, f->n, UINT32_MAX, &v);
  if (why != 0)
    return csv_error(r, err,
                     why == -2 ? "size out of range (at most 4294967295)"
                               : "not a size (a decimal byte count)",
                     f);
  *size = (uint32_t)v;
  return 0;
}

/* One data line of count fields, the first of them in fields. */
static int csv_request(csv_reader_t *r, const field_t *fields, int count,
                       sim_error_t *err) {
  const sim_read_options_t *o = r->o;
  unsigned need = o->key_col > o->size_col ? o->key_col : o->size_col;
  if ((unsigned)count < need) {
    sim_error_set(err, "%s:%llu: no column %u (the line has %d field%s)",
                  sim_input_path(r->in), (unsigned long long)r->line, need,
                  count, count == 1 ? "" : "s");
    return -1;
  }
  const field_t *key = &fields[o->key_col - 1];
  if (key->n == 0 || key->n > 65535)
    return csv_error(
        r, err, key->n == 0 ? "empty key" : "key longer than 65535 bytes", key);
  uint32_t size = 0;
  if (o->size_col != 0 &&
      csv_size(r, &fields[o->size_col - 1], &size, err) != 0)
    return -1;
  uint64_t id;
  if (intern(&r->names, key->s, key->n, &id) != 0 || push(r->b, id, size) != 0)
    return out_of_memory(sim_input_path(r->in), err);
  return 0;
}

/* The next line that is not blank, split into r->fields; 1, 0 at the end,
 * -1 on an error. */
static int csv_next(csv_reader_t *r, int *count, sim_error_t *err) {
  char *line;
  size_t len;
  int rc;
  while ((rc = sim_input_line(r->in, &line, &len, err)) == 1) {
    const char *s = line;
    size_t n = len;
    trim(&s, &n);
    if (n == 0)
      continue;
    r->line = sim_input_line_number(r->in);
    if (r->line % PROGRESS_LINES == 0)
      progress(r->o, r->in);
    *count =
        split(r->in, line, len, r->o->delim, r->fields, r->max_fields, err);
    return *count < 0 ? -1 : 1;
  }
  return rc;
}

/* The first line is a header when a column holds a number on the second
 * line but not on the first ("size" above "4096"). With keys that are all
 * words and no number in any column nothing tells: --header says so. */
static bool looks_like_header(const field_t *first, int n1,
                              const field_t *second, int n2) {
  int n = n1 < n2 ? n1 : n2;
  for (int i = 0; i < n; i++)
    if (!numeric(&first[i]) && numeric(&second[i]))
      return true;
  return false;
}

/* A copy of the current line's kept fields, which point into the input's
 * buffer: reading the next line may overwrite them. */
typedef struct saved_line {
  field_t *fields;
  char *bytes;
  int count; /* fields on the line, kept or not */
  uint64_t line;
} saved_line_t;

static int save_line(const csv_reader_t *r, int count, saved_line_t *out) {
  unsigned kept =
      (unsigned)count < r->max_fields ? (unsigned)count : r->max_fields;
  size_t total = 0;
  for (unsigned i = 0; i < kept; i++)
    total += r->fields[i].n;
  out->fields = malloc(kept * sizeof *out->fields + 1);
  out->bytes = malloc(total + 1);
  if (out->fields == NULL || out->bytes == NULL)
    return -1;
  char *p = out->bytes;
  for (unsigned i = 0; i < kept; i++) {
    memcpy(p, r->fields[i].s, r->fields[i].n);
    out->fields[i] = (field_t){p, r->fields[i].n};
    p += r->fields[i].n;
  }
  out->count = count;
  out->line = r->line;
  return 0;
}

/* Line 1 and, to guess whether line 1 is a header, line 2. */
static int csv_first_lines(csv_reader_t *r, sim_trace_info_t *info,
                           sim_error_t *err) {
  int n1, n2;
  int rc = csv_next(r, &n1, err);
  info->header = rc == 1 && r->o->header == 1;
  if (rc <= 0 || info->header)
    return rc < 0 ? -1 : 0; /* a declared header is skipped */
  if (r->o->header == 0)
    return csv_request(r, r->fields, n1, err);

  saved_line_t first = {0};
  if (save_line(r, n1, &first) != 0) {
    rc = out_of_memory(sim_input_path(r->in), err);
  } else if ((rc = csv_next(r, &n2, err)) >= 0) {
    int kept = n1 < (int)r->max_fields ? n1 : (int)r->max_fields;
    info->header =
        rc == 1 &&
        looks_like_header(first.fields, kept, r->fields,
                          n2 < (int)r->max_fields ? n2 : (int)r->max_fields);
    uint64_t second_line = r->line;
    r->line = first.line;
    if (!info->header && csv_request(r, first.fields, n1, err) != 0)
      rc = -1;
    r->line = second_line;
    if (rc == 1 && csv_request(r, r->fields, n2, err) != 0)
      rc = -1;
  }
  free(first.fields);
  free(first.bytes);
  return rc < 0 ? -1 : 0;
}

static int read_csv(sim_input_t *in, const sim_read_options_t *o, builder_t *b,
                    sim_trace_info_t *info, sim_error_t *err) {
  csv_reader_t r = {.in = in, .o = o, .b = b};
  r.max_fields = o->key_col > o->size_col ? o->key_col : o->size_col;
  if (r.max_fields < GUESS_FIELDS)
    r.max_fields = GUESS_FIELDS;
  r.fields = malloc(r.max_fields * sizeof *r.fields);
  int rc = -1;
  if (r.fields == NULL || intern_init(&r.names) != 0) {
    out_of_memory(sim_input_path(in), err);
  } else if ((rc = csv_first_lines(&r, info, err)) == 0) {
    int count;
    while ((rc = csv_next(&r, &count, err)) == 1)
      if (csv_request(&r, r.fields, count, err) != 0) {
        rc = -1;
        break;
      }
  }
  if (rc == 0) {
    b->trace->names = r.names.names; /* the trace owns them now */
    r.names.names = NULL;
  }
  intern_free(&r.names);
  free(r.fields);
  return rc;
}

/* ---- which format ----------------------------------------------------------
 */

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* By the name, past a ".gz": libCacheSim names its files
 * <name>.oracleGeneral[.bin|.zst]. */
static sim_format_t format_by_name(const char *path) {
  const char *base = strrchr(path, '/');
  base = base != NULL ? base + 1 : path;
  size_t n = strlen(base);
  if (ends_with(base, n, ".gz"))
    n -= 3;
  if (ends_with(base, n, ".csv"))
    return SIM_FORMAT_CSV;
  if (strstr(base, ".oracleGeneral") != NULL || ends_with(base, n, ".bin"))
    return SIM_FORMAT_ORACLE;
  if (ends_with(base, n, ".txt") || ends_with(base, n, ".ids"))
    return SIM_FORMAT_IDS;
  return SIM_FORMAT_AUTO;
}

/* Whether s[0..n) is one line of an ids trace (blank, comment or id). */
static bool id_line(const char *s, size_t n) {
  uint64_t id;
  trim(&s, &n);
  return n == 0 || s[0] == '#' || parse_decimal(s, n, UINT64_MAX, &id) != -1;
}

/* By the first bytes: control characters mean binary records; text is
 * ids if every complete line in them is one, else csv if every line has
 * the delimiter. */
static sim_format_t format_by_content(const unsigned char *d, size_t n,
                                      char delim) {
  for (size_t i = 0; i < n; i++)
    if (d[i] < 0x20 && d[i] != '\n' && d[i] != '\r' && d[i] != '\t')
      return SIM_FORMAT_ORACLE;
  bool ids = true, csv = true;
  const char *s = (const char *)d, *end = s + n;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t len = (size_t)((nl != NULL ? nl : end) - s);
    ids = ids && id_line(s, len);
    csv = csv && (len == 0 || memchr(s, delim, len) != NULL);
    s += len + 1;
  }
  return ids ? SIM_FORMAT_IDS : csv ? SIM_FORMAT_CSV : SIM_FORMAT_AUTO;
}

/* The first 4 KiB, cut at the last complete line (unless that is all). */
static sim_format_t guess_format(sim_input_t *in, const sim_read_options_t *o,
                                 sim_error_t *err, int *rc) {
  sim_format_t f = format_by_name(sim_input_path(in));
  if (f != SIM_FORMAT_AUTO)
    return f;
  const unsigned char *d;
  size_t n;
  if ((*rc = sim_input_fill(in, 4096, &d, &n, err)) != 0)
    return SIM_FORMAT_AUTO;
  n = n < 4096 ? n : 4096;
  const unsigned char *last = n == 4096 ? d + n : NULL;
  while (last != NULL && last > d && last[-1] != '\n')
    last--;
  if (last != NULL && last > d)
    n = (size_t)(last - d);
  f = format_by_content(d, n, o->delim);
  if (f == SIM_FORMAT_AUTO) {
    sim_error_set(err,
                  "%s: cannot tell the format: use --format ids, oracle "
                  "or csv",
                  sim_input_path(in));
    *rc = -1;
  }
  return f;
}

/* ---- reading ----------------------------------------------------------- */

static int read_format(sim_input_t *in, const sim_read_options_t *o,
                       builder_t *b, sim_trace_info_t *info, sim_error_t *err) {
  switch (info->format) {
  case SIM_FORMAT_IDS:
    return read_ids(in, o, b, err);
  case SIM_FORMAT_ORACLE:
    return read_oracle(in, o, b, err);
  case SIM_FORMAT_CSV:
    return read_csv(in, o, b, info, err);
  default:
    sim_error_set(err, "%s: no format", sim_input_path(in));
    return -1;
  }
}

static int check_options(const char *path, const sim_read_options_t *o,
                         sim_error_t *err) {
  if (o->key_col == 0 || o->key_col == o->size_col) {
    sim_error_set(err,
                  "%s: the key column must be 1 or more and not the "
                  "size column",
                  path);
    return -1;
  }
  return 0;
}

int sim_trace_read(const char *path, const sim_read_options_t *options,
                   sim_trace_t *trace, sim_trace_info_t *info,
                   sim_error_t *err) {
  memset(trace, 0, sizeof *trace);
  memset(info, 0, sizeof *info);
  if (check_options(path, options, err) != 0)
    return -1;
  sim_input_t *in = sim_input_open(path, err);
  if (in == NULL)
    return -1;
  info->gzip = sim_input_gzip(in);
  int rc = 0;
  info->format = options->format;
  if (info->format == SIM_FORMAT_AUTO)
    info->format = guess_format(in, options, err, &rc);
  builder_t b = {
      .trace = trace,
      .sized = info->format == SIM_FORMAT_ORACLE ||
               (info->format == SIM_FORMAT_CSV && options->size_col != 0)};
  if (rc == 0)
    rc = read_format(in, options, &b, info, err);
  if (rc == 0 && trace->length == 0) {
    sim_error_set(err, "%s: empty trace (no requests)", path);
    rc = -1;
  }
  if (rc == 0 && sim_trace_count(trace) != 0)
    rc = out_of_memory(path, err);
  if (rc == 0)
    progress(options, in);
  sim_input_close(in);
  if (rc != 0)
    sim_trace_free(trace);
  return rc == 0 ? 0 : -1;
}
