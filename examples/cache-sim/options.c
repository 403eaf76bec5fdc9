/*
 * Command line parsing. Every mistake is found here, before any trace is
 * read, and reported in one line: a typo in --size should not wait for
 * the first trace to load.
 */
#define _POSIX_C_SOURCE 200809L

#include "options.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_SIZES "1%,5%,10%,20%"
#define MICRO 1000000u /* fractions are kept in millionths */

/* What the options say before the lists are resolved: --bytes changes
 * what a plain size means, wherever it comes on the line. */
typedef struct parse {
  options_t *o;
  const char *policy_list, *size_list;
  const char **traces;
  size_t n_traces;
} parse_t;

typedef struct option_def {
  const char *name;
  char short_name; /* 0: none */
  bool takes_value;
  int (*apply)(parse_t *p, const char *value, sim_error_t *err);
} option_def_t;

/* ---- numbers ----------------------------------------------------------------
 */

/* A decimal with up to 6 fraction digits, in millionths: "1.5" is
 * 1500000. -1 if it is not one or does not fit. */
static int parse_fixed(const char *s, size_t n, uint64_t *out) {
  uint64_t whole = 0, frac = 0, scale = MICRO;
  size_t i = 0, digits = 0;
  for (; i < n && isdigit((unsigned char)s[i]); i++, digits++) {
    if (whole > (UINT64_MAX / MICRO - 9) / 10)
      return -1;
    whole = whole * 10 + (uint64_t)(s[i] - '0');
  }
  if (i < n && s[i] == '.')
    for (i++; i < n && isdigit((unsigned char)s[i]); i++, digits++) {
      if (scale == 1)
        return -1; /* more than 6 fraction digits */
      scale /= 10;
      frac += (uint64_t)(s[i] - '0') * scale;
    }
  if (i != n || digits == 0)
    return -1;
  *out = whole * MICRO + frac;
  return 0;
}

/* A whole number from 1 to max. */
static int parse_count(const char *s, uint64_t max, uint64_t *out) {
  if (*s == '\0')
    return -1;
  uint64_t v = 0;
  for (; *s; s++) {
    if (!isdigit((unsigned char)*s))
      return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (max - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  if (v == 0)
    return -1;
  *out = v;
  return 0;
}

/* ---- sizes ------------------------------------------------------------- */

static const struct {
  const char *name;
  uint64_t bytes;
} units[] = {
    {"B", 1},
    {"kB", 1000},
    {"KiB", 1024},
    {"MB", 1000000},
    {"MiB", 1024 * 1024},
    {"GB", 1000000000},
    {"GiB", 1024 * 1024 * 1024},
    {"TB", 1000000000000},
    {"TiB", (uint64_t)1024 * 1024 * 1024 * 1024},
};

/* The unit at the end of s, or 0; *n is shortened past it. */
static uint64_t unit_suffix(const char *s, size_t *n) {
  for (size_t u = sizeof units / sizeof units[0]; u-- > 0;) {
    size_t m = strlen(units[u].name);
    if (*n > m && strncasecmp(s + *n - m, units[u].name, m) == 0 &&
        !isalpha((unsigned char)s[*n - m - 1])) {
      *n -= m;
      return units[u].bytes;
    }
  }
  return 0;
}

/* micro (millionths) times unit, whole bytes, rounded down. */
static int scale_bytes(uint64_t micro, uint64_t unit, uint64_t *out) {
  uint64_t whole = micro / MICRO, frac = micro % MICRO;
  if (whole > UINT64_MAX / unit)
    return -1;
  uint64_t v = whole * unit, part = frac * unit / MICRO;
  if (v > UINT64_MAX - part)
    return -1;
  *out = v + part;
  return 0;
}

static int bad_size(const char *text, const char *why, sim_error_t *err) {
  sim_error_set(err,
                "bad size '%s': %s (sizes are 1000, 5%% or 64MiB: entries, "
                "percent of the distinct ids, or bytes)",
                text, why);
  return -1;
}

static int parse_size(char *text, bool bytes_mode, size_spec_t *s,
                      sim_error_t *err) {
  size_t n = strlen(text);
  s->text = text;
  uint64_t micro, unit;
  if (n > 0 && text[n - 1] == '%') {
    s->kind = SIZE_PERCENT;
    s->bytes = bytes_mode;
    if (parse_fixed(text, n - 1, &micro) != 0)
      return bad_size(text, "not a number before '%'", err);
    if (micro == 0 || micro > 100 * (uint64_t)MICRO)
      return bad_size(text, "a percent is above 0 and at most 100", err);
    s->value = micro;
  } else if ((unit = unit_suffix(text, &n)) != 0) {
    s->kind = SIZE_BYTES;
    s->bytes = true;
    while (n > 0 && text[n - 1] == ' ')
      n--; /* "64 MiB" */
    if (parse_fixed(text, n, &micro) != 0 ||
        scale_bytes(micro, unit, &s->value) != 0)
      return bad_size(text,
                      "not a number of bytes (units: B, kB, KiB, MB, "
                      "MiB, GB, GiB, TB, TiB)",
                      err);
    if (s->value == 0)
      return bad_size(text, "less than 1 byte", err);
  } else {
    s->kind = bytes_mode ? SIZE_BYTES : SIZE_ENTRIES;
    s->bytes = bytes_mode;
    if (parse_count(text, UINT64_MAX, &s->value) != 0)
      return bad_size(text, "not a whole number from 1 up", err);
  }
  return 0;
}

static char *trimmed(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

static int parse_sizes(parse_t *p, sim_error_t *err) {
  options_t *o = p->o;
  o->sizes_text = strdup(p->size_list ? p->size_list : DEFAULT_SIZES);
  size_t max = 1;
  for (const char *c = o->sizes_text; c && *c; c++)
    max += *c == ',';
  o->sizes = calloc(max, sizeof *o->sizes);
  if (o->sizes_text == NULL || o->sizes == NULL) {
    sim_error_set(err, "out of memory");
    return -1;
  }
  /* Split by hand: strtok would skip an empty element, which is a
   * mistake to report. */
  for (char *item = o->sizes_text; item != NULL;) {
    char *comma = strchr(item, ',');
    if (comma != NULL)
      *comma = '\0';
    char *text = trimmed(item);
    if (*text == '\0') {
      sim_error_set(err, "bad size list '%s': an empty element", p->size_list);
      return -1;
    }
    if (parse_size(text, o->bytes, &o->sizes[o->n_sizes++], err) != 0)
      return -1;
    item = comma != NULL ? comma + 1 : NULL;
  }
  return 0;
}

uint64_t size_capacity(const size_spec_t *s, const sim_trace_t *trace) {
  if (s->kind != SIZE_PERCENT)
    return s->value;
  uint64_t base = s->bytes ? trace->distinct_bytes : trace->distinct;
  /* base * value / (100 * MICRO), exactly and without overflow. */
  const uint64_t whole = 100 * (uint64_t)MICRO;
  uint64_t v = base / whole * s->value + base % whole * s->value / whole;
  return v > 0 ? v : 1;
}

/* ---- policies ---------------------------------------------------------- */

static void add_policy(options_t *o, int id) {
  for (size_t i = 0; i < o->n_policies; i++)
    if (o->policies[i] == id)
      return;
  o->policies[o->n_policies++] = id;
}

static void known_policies(char *buf, size_t size) {
  int ids[SIM_POLICY_ID_LIMIT];
  size_t n = sim_policies(ids, SIM_POLICY_ID_LIMIT);
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, "%s, ", sim_policy_text(ids[i]));
  }
  size_t used = strlen(buf);
  snprintf(buf + used, size - used, "all, default");
}

static int unknown_policy(const char *name, sim_error_t *err) {
  char known[256];
  known_policies(known, sizeof known);
  sim_error_set(err, "unknown policy '%s' (known: %s)", name, known);
  return -1;
}

/* One element of --policy. */
static int add_policy_name(options_t *o, const char *name, sim_error_t *err) {
  if (strcmp(name, "all") == 0) {
    int ids[SIM_POLICY_ID_LIMIT];
    size_t n = sim_policies(ids, SIM_POLICY_ID_LIMIT);
    for (size_t i = 0; i < n; i++)
      add_policy(o, ids[i]);
  } else if (strcmp(name, "default") == 0) {
    add_policy(o, sim_policy_default());
  } else {
    int id = sim_policy_by_name(name);
    if (id < 0)
      return unknown_policy(name, err);
    add_policy(o, id);
  }
  return 0;
}

static int parse_policies(parse_t *p, sim_error_t *err) {
  options_t *o = p->o;
  o->policies = calloc(SIM_POLICY_ID_LIMIT, sizeof *o->policies);
  char *list = strdup(p->policy_list ? p->policy_list : "all");
  int rc = o->policies != NULL && list != NULL ? 0 : -1;
  if (rc != 0)
    sim_error_set(err, "out of memory");
  for (char *item = list; rc == 0 && item != NULL;) {
    char *comma = strchr(item, ',');
    if (comma != NULL)
      *comma = '\0';
    rc = add_policy_name(o, trimmed(item), err);
    item = comma != NULL ? comma + 1 : NULL;
  }
  free(list);
  return rc;
}

/* ---- the options ------------------------------------------------------- */

static int set_policy(parse_t *p, const char *v, sim_error_t *err) {
  (void)err;
  p->policy_list = v;
  return 0;
}

static int set_size(parse_t *p, const char *v, sim_error_t *err) {
  (void)err;
  p->size_list = v;
  return 0;
}

static int set_bytes(parse_t *p, const char *v, sim_error_t *err) {
  (void)v, (void)err;
  p->o->bytes = true;
  return 0;
}

static int set_format(parse_t *p, const char *v, sim_error_t *err) {
  if (sim_format_parse(v, &p->o->read.format) == 0)
    return 0;
  sim_error_set(err, "unknown format '%s' (auto, ids, oracle, csv)", v);
  return -1;
}

static int set_column(unsigned *col, const char *name, const char *v,
                      sim_error_t *err) {
  uint64_t n;
  if (parse_count(v, 1000000, &n) != 0) {
    sim_error_set(err, "%s needs a column number from 1 up, not '%s'", name, v);
    return -1;
  }
  *col = (unsigned)n;
  return 0;
}

static int set_key_col(parse_t *p, const char *v, sim_error_t *err) {
  return set_column(&p->o->read.key_col, "--key-col", v, err);
}

static int set_size_col(parse_t *p, const char *v, sim_error_t *err) {
  return set_column(&p->o->read.size_col, "--size-col", v, err);
}

static int set_delim(parse_t *p, const char *v, sim_error_t *err) {
  if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0) {
    p->o->read.delim = '\t';
  } else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\n' && v[0] != '\r') {
    p->o->read.delim = v[0];
  } else {
    sim_error_set(err, "--delim needs one character (or \"tab\"), not '%s'", v);
    return -1;
  }
  return 0;
}

static int set_header(parse_t *p, const char *v, sim_error_t *err) {
  (void)v, (void)err;
  p->o->read.header = 1;
  return 0;
}

static int set_no_header(parse_t *p, const char *v, sim_error_t *err) {
  (void)v, (void)err;
  p->o->read.header = 0;
  return 0;
}

static int set_csv(parse_t *p, const char *v, sim_error_t *err) {
  (void)err;
  p->o->csv = v;
  return 0;
}

static int set_json(parse_t *p, const char *v, sim_error_t *err) {
  (void)err;
  p->o->json = v;
  return 0;
}

static int set_svg(parse_t *p, const char *v, sim_error_t *err) {
  (void)err;
  p->o->svg = v;
  return 0;
}

static int set_progress(parse_t *p, const char *v, sim_error_t *err) {
  (void)v, (void)err;
  p->o->progress = 1;
  return 0;
}

static int set_quiet(parse_t *p, const char *v, sim_error_t *err) {
  (void)v, (void)err;
  p->o->progress = 0;
  return 0;
}

static int set_help(parse_t *p, const char *v, sim_error_t *err) {
  (void)v, (void)err;
  p->o->help = true;
  return 0;
}

static int set_version(parse_t *p, const char *v, sim_error_t *err) {
  (void)v, (void)err;
  p->o->version = true;
  return 0;
}

static const option_def_t option_defs[] = {
    {"--policy", 'p', true, set_policy},
    {"--size", 's', true, set_size},
    {"--bytes", 0, false, set_bytes},
    {"--format", 'f', true, set_format},
    {"--key-col", 0, true, set_key_col},
    {"--size-col", 0, true, set_size_col},
    {"--delim", 0, true, set_delim},
    {"--header", 0, false, set_header},
    {"--no-header", 0, false, set_no_header},
    {"--csv", 0, true, set_csv},
    {"--json", 0, true, set_json},
    {"--svg", 0, true, set_svg},
    {"--progress", 0, false, set_progress},
    {"--quiet", 'q', false, set_quiet},
    {"--help", 'h', false, set_help},
    {"--version", 'V', false, set_version},
};

/* The option arg names ("--size" or "--size=5%", "-s"), or NULL; *inline
 * points past an "=". */
static const option_def_t *find_option(const char *arg, const char **inline_) {
  *inline_ = NULL;
  for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++) {
    const option_def_t *d = &option_defs[i];
    size_t n = strlen(d->name);
    if (strncmp(arg, d->name, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
      *inline_ = arg[n] == '=' ? arg + n + 1 : NULL;
      return d;
    }
    if (d->short_name != 0 && arg[0] == '-' && arg[1] == d->short_name &&
        arg[2] == '\0')
      return d;
  }
  return NULL;
}

/* Applies argv[*i] (and its value, argv[*i + 1] if it takes one). */
static int apply_option(parse_t *p, int argc, char **argv, int *i,
                        sim_error_t *err) {
  const char *arg = argv[*i], *value;
  const option_def_t *d = find_option(arg, &value);
  if (d == NULL) {
    sim_error_set(err, "unknown option '%s'", arg);
    return -1;
  }
  if (d->takes_value && value == NULL) {
    if (*i + 1 >= argc) {
      sim_error_set(err, "%s needs a value", d->name);
      return -1;
    }
    value = argv[++*i];
  } else if (!d->takes_value && value != NULL) {
    sim_error_set(err, "%s takes no value", d->name);
    return -1;
  }
  return d->apply(p, value, err);
}

int options_parse(int argc, char **argv, options_t *o, sim_error_t *err) {
  memset(o, 0, sizeof *o);
  sim_read_options_init(&o->read);
  o->progress = -1;
  parse_t p = {.o = o};
  p.traces = calloc((size_t)argc + 1, sizeof *p.traces);
  o->traces = p.traces;
  if (p.traces == NULL) {
    sim_error_set(err, "out of memory");
    return SIM_EXIT_USAGE;
  }
  bool only_files = false;
  for (int i = 1; i < argc; i++) {
    if (!only_files && strcmp(argv[i], "--") == 0)
      only_files = true;
    else if (!only_files && argv[i][0] == '-' && argv[i][1] != '\0') {
      if (apply_option(&p, argc, argv, &i, err) != 0)
        return SIM_EXIT_USAGE;
    } else
      p.traces[p.n_traces++] = argv[i];
  }
  o->n_traces = p.n_traces;
  if (o->help || o->version)
    return SIM_EXIT_OK;
  if (parse_policies(&p, err) != 0 || parse_sizes(&p, err) != 0)
    return SIM_EXIT_USAGE;
  if (o->read.key_col == o->read.size_col) {
    sim_error_set(err, "--key-col and --size-col name the same column");
    return SIM_EXIT_USAGE;
  }
  if (o->n_traces == 0) {
    sim_error_set(err, "no trace given");
    return SIM_EXIT_USAGE;
  }
  return SIM_EXIT_OK;
}

void options_free(options_t *o) {
  free((void *)o->traces);
  free(o->policies);
  free(o->sizes);
  free(o->sizes_text);
  memset(o, 0, sizeof *o);
}

void options_usage(FILE *out) {
  char known[256];
  known_policies(known, sizeof known);
  fprintf(
      out,
      "usage: cache-sim [OPTION]... TRACE...\n"
      "Replays each trace through libcache, once per policy and cache size,\n"
      "and prints the hit ratios. Each request is a cache_get(); a miss is\n"
      "followed by a cache_set(). No expiry.\n"
      "\n"
      "  -p, --policy LIST  policies, comma-separated: %s\n"
      "                     (default: all)\n"
      "  -s, --size LIST    cache sizes, comma-separated (default: %s):\n"
      "                       1000   entries\n"
      "                       5%%     of the trace's distinct ids, rounded "
      "down\n"
      "                       64MiB  bytes (B, kB, KiB, MB, MiB, GB, GiB, "
      "TB, TiB):\n"
      "                              a byte-bounded cache, whose values are "
      "as long\n"
      "                              as the trace's object sizes\n"
      "      --bytes        byte-bounded sizes: a plain number is bytes, N%% "
      "is of\n"
      "                     the bytes of the distinct objects\n"
      "  -f, --format FMT   auto, ids, oracle or csv (default: auto, by the "
      "file\n"
      "                     name, then by its first bytes)\n"
      "      --key-col N    csv: the key's column, from 1 (default: 1)\n"
      "      --size-col N   csv: the object size's column (default: none)\n"
      "      --delim C      csv: the field separator, or \"tab\" "
      "(default: ,)\n"
      "      --header       csv: the first line is a header\n"
      "      --no-header    csv: the first line is a request (default: "
      "guessed)\n"
      "      --csv FILE     write every result to FILE as CSV\n"
      "      --json FILE    write every result to FILE as a JSON array\n"
      "      --svg FILE     write a chart of each trace; with several "
      "traces,\n"
      "                     FILE-<trace>.svg (FILE without its .svg)\n"
      "      --progress     report progress on stderr even if it is not a "
      "terminal\n"
      "  -q, --quiet        no progress report\n"
      "  -h, --help         this text\n"
      "  -V, --version      the versions of cache-sim, libcache and zlib\n"
      "\n"
      "Formats (any of them may be gzip'ed):\n"
      "  ids     one decimal id per line; blank lines and '#' lines are "
      "skipped\n"
      "  oracle  libCacheSim's oracleGeneral: 24-byte little-endian records\n"
      "          {uint32 time; uint64 id; uint32 size; int64 next access}\n"
      "  csv     a key column, and an object size column for byte-bounded "
      "sizes\n"
      "The key of a request is its id in decimal, or the csv field's text.\n"
      "\n"
      "Exit status: 0 on success, 1 for a trace or file that cannot be "
      "read or\nwritten, 2 for a mistake on the command line.\n",
      known, DEFAULT_SIZES);
}
