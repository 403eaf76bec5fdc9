'use strict';

/*
 * Node.js binding for libcache (see include/cache.h), built on koffi.
 *
 * The shared library is loaded from the path in the LIBCACHE_LIBRARY
 * environment variable, or by its soname 'libcache.so.1' through the dynamic
 * loader's search path.
 *
 * 64-bit counters from the C side are returned as JavaScript Numbers. They are
 * exact up to Number.MAX_SAFE_INTEGER (2^53 - 1), far beyond what a counter or
 * a byte count reaches in practice; the one exception, a cgroup memory limit of
 * UINT64_MAX ("no limit"), is reported as Infinity.
 */

const koffi = require('koffi');

const LIBRARY_PATH = process.env.LIBCACHE_LIBRARY || 'libcache.so.1';

function loadLibrary(path) {
  try {
    return koffi.load(path);
  } catch (err) {
    const hint = process.env.LIBCACHE_LIBRARY
      ? 'check the path in LIBCACHE_LIBRARY'
      : 'install libcache or set LIBCACHE_LIBRARY to the path of libcache.so.1';
    const e = new Error(`libcache: cannot load '${path}' (${err.message}); ${hint}`);
    e.cause = err;
    throw e;
  }
}

const lib = loadLibrary(LIBRARY_PATH);

/* ---- status codes (CACHE_STATUS_MAP) ------------------------------------ */

const Status = Object.freeze({
  OK: 0,
  NOT_FOUND: 1,
  EINVAL: -1,
  ENOMEM: -2,
  ECLOSED: -3,
  ETOOSMALL: -4,
  ETOOBIG: -5,
  EBUSY: -6,
  EIO: -7,
});

/* Status a loader callback hands back to the library when the JavaScript
 * loader threw; the binding then rethrows the original exception. */
const LOADER_THREW = -1000;

const POLICIES = Object.freeze({ fifo: 0, lru: 1, tinylfu: 2 });
const HEALTH_NAMES = ['healthy', 'warning', 'critical'];
const ALERT_NAMES = { 1: 'warning', 2: 'critical' };

const PRESETS = Object.freeze({
  proposal: 0,
  user: 1,
  marketData: 2,
  calculation: 3,
});

const UINT64_MAX = 0xffffffffffffffffn;
const ALERTS_KEPT = 64; /* CACHE_ALERTS_KEPT */
const ALERT_MESSAGE_MAX = 112; /* CACHE_ALERT_MESSAGE_MAX */
const KEY_MAX = 65535; /* CACHE_KEY_MAX */

/* ---- struct mirrors ------------------------------------------------------ */

/* Opaque handles, declared so that the prototypes below can name them. */
koffi.opaque('cache_t');
koffi.opaque('cache_load_t');

const cache_options_t = koffi.struct('cache_options_t', {
  struct_size: 'size_t',
  name: 'const char *',
  ttl_ms: 'uint64_t',
  max_entries: 'uint64_t',
  max_bytes: 'uint64_t',
  cleanup_interval_ms: 'uint64_t',
  max_retries: 'uint32_t',
  retry_base_ms: 'uint32_t',
  memory_threshold_mb: 'uint64_t',
  policy: 'int32_t',
  reserved0: 'int32_t',
  /* Function pointers and their contexts are not exposed: always NULL. */
  clock_ms: 'void *',
  clock_ctx: 'void *',
  on_remove: 'void *',
  on_remove_ctx: 'void *',
});

const cache_stats_t = koffi.struct('cache_stats_t', {
  struct_size: 'size_t',
  entries: 'uint64_t',
  bytes: 'uint64_t',
  hits: 'uint64_t',
  misses: 'uint64_t',
  sets: 'uint64_t',
  deletes: 'uint64_t',
  evictions: 'uint64_t',
  expirations: 'uint64_t',
  cleanup_runs: 'uint64_t',
  cleanup_errors: 'uint64_t',
  max_entries: 'uint64_t',
  max_bytes: 'uint64_t',
  alerts_warning: 'uint64_t',
  alerts_critical: 'uint64_t',
  table_bytes: 'uint64_t',
  arena_resident_bytes: 'uint64_t',
  memory_evictions: 'uint64_t',
  health: 'int32_t',
  reserved0: 'int32_t',
});

const cache_alert_t = koffi.struct('cache_alert_t', {
  struct_size: 'size_t',
  level: 'int32_t',
  reserved0: 'int32_t',
  time_ms: 'uint64_t',
  message: koffi.array('char', ALERT_MESSAGE_MAX),
});

const cache_health_report_t = koffi.struct('cache_health_report_t', {
  struct_size: 'size_t',
  overall: 'int32_t',
  reserved0: 'int32_t',
  caches: 'uint64_t',
  healthy: 'uint64_t',
  warning: 'uint64_t',
  critical: 'uint64_t',
  total_bytes: 'uint64_t',
  rss_bytes: 'uint64_t',
});

const cache_memory_usage_t = koffi.struct('cache_memory_usage_t', {
  struct_size: 'size_t',
  sources: 'uint32_t',
  reserved0: 'uint32_t',
  rss_bytes: 'uint64_t',
  rss_peak_bytes: 'uint64_t',
  vm_size_bytes: 'uint64_t',
  data_bytes: 'uint64_t',
  cgroup_usage_bytes: 'uint64_t',
  cgroup_limit_bytes: 'uint64_t',
  je_allocated: 'uint64_t',
  je_active: 'uint64_t',
  je_resident: 'uint64_t',
  je_mapped: 'uint64_t',
  je_retained: 'uint64_t',
  purge_released_bytes: 'uint64_t',
});

const cache_loader_cb = koffi.proto(
  'int cache_loader_cb(const void *key, size_t key_len, cache_load_t *load, void *ctx)'
);

/* ---- functions ----------------------------------------------------------- */

const C = {
  version: lib.func('const char *cache_version(void)'),
  version_number: lib.func('unsigned int cache_version_number(void)'),
  strerror: lib.func('const char *cache_strerror(int status)'),
  err_name: lib.func('const char *cache_err_name(int status)'),

  options_init: lib.func('void cache_options_init(_Out_ cache_options_t *options)'),
  preset_options: lib.func('int cache_preset_options(int preset, _Out_ cache_options_t *options)'),

  create: lib.func('int cache_create(const cache_options_t *options, _Out_ cache_t **out)'),
  close: lib.func('int cache_close(cache_t *cache)'),
  destroy: lib.func('void cache_destroy(cache_t *cache)'),
  name: lib.func('const char *cache_name(const cache_t *cache)'),

  set: lib.func(
    'int cache_set(cache_t *cache, const void *key, size_t key_len, const void *value, size_t value_len, uint64_t ttl_ms)'
  ),
  get: lib.func(
    'int cache_get(cache_t *cache, const void *key, size_t key_len, void *buf, size_t buf_len, _Out_ size_t *value_len)'
  ),
  load_put: lib.func(
    'int cache_load_put(cache_load_t *load, const void *value, size_t value_len, uint64_t ttl_ms)'
  ),
  get_or_load: lib.func(
    'int cache_get_or_load(cache_t *cache, const void *key, size_t key_len, cache_loader_cb *loader, void *loader_ctx, void *buf, size_t buf_len, _Out_ size_t *value_len)'
  ),
  contains: lib.func('int cache_contains(cache_t *cache, const void *key, size_t key_len)'),
  delete: lib.func('int cache_delete(cache_t *cache, const void *key, size_t key_len)'),
  clear: lib.func('int cache_clear(cache_t *cache)'),
  count: lib.func('uint64_t cache_count(cache_t *cache)'),
  cleanup: lib.func('int cache_cleanup(cache_t *cache, _Out_ uint64_t *removed)'),

  stats: lib.func('int cache_stats(cache_t *cache, _Inout_ cache_stats_t *stats)'),
  alerts: lib.func('size_t cache_alerts(cache_t *cache, void *out, size_t max)'),
  health: lib.func('int cache_health(cache_t *cache)'),
  health_report: lib.func('int cache_health_report(_Inout_ cache_health_report_t *out)'),
  /* Declared as void * (not char *) so that the pointer can be freed. */
  health_json: lib.func('void *cache_health_json(void)'),
  metrics_prometheus: lib.func('void *cache_metrics_prometheus(void)'),
  free_string: lib.func('void cache_free_string(void *s)'),

  memory_usage: lib.func('int cache_memory_usage(_Inout_ cache_memory_usage_t *out)'),
  memory_is_high: lib.func('int cache_memory_is_high(uint64_t threshold_mb)'),
  memory_purge: lib.func('int cache_memory_purge(void)'),
  set_process_memory_limit: lib.func('int cache_set_process_memory_limit(uint64_t mb)'),

  shutdown_all: lib.func('void cache_shutdown_all(void)'),
};

const SIZEOF_SIZE_T = koffi.sizeof('size_t');
const LITTLE_ENDIAN = require('os').endianness() === 'LE';
const SIZEOF_OPTIONS = koffi.sizeof(cache_options_t);
const SIZEOF_STATS = koffi.sizeof(cache_stats_t);
const SIZEOF_ALERT = koffi.sizeof(cache_alert_t);
const SIZEOF_HEALTH_REPORT = koffi.sizeof(cache_health_report_t);
const SIZEOF_MEMORY_USAGE = koffi.sizeof(cache_memory_usage_t);

/* ---- errors -------------------------------------------------------------- */

class CacheError extends Error {
  /**
   * @param {number} status a negative CACHE_E* status
   * @param {string} [message] overrides cache_strerror(status)
   */
  constructor(status, message) {
    const code = C.err_name(status);
    super(message || `${C.strerror(status)} (${code})`);
    this.name = 'CacheError';
    this.status = status;
    this.code = code;
  }
}

function fail(status, message) {
  throw new CacheError(status, message);
}

function check(status, what) {
  if (status < 0) fail(status, `${what}: ${C.strerror(status)} (${C.err_name(status)})`);
  return status;
}

/* Throws for a status a call should not have returned at this point: a
 * CacheError for that error, or CACHE_EINVAL for an unexpected non-negative
 * status. */
function unexpected(status, what) {
  check(status, what);
  fail(Status.EINVAL, `${what}: unexpected status ${status} (${C.err_name(status)})`);
}

/* ---- conversions --------------------------------------------------------- */

/* uint64 from koffi (Number, or BigInt when above 2^53) to Number. */
function num(v) {
  return typeof v === 'bigint' ? Number(v) : v;
}

/* A key or value as bytes: strings are UTF-8, Buffers and other ArrayBuffer
 * views are used as they are (the library copies them). */
function toBytes(v, what) {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  throw new CacheError(
    Status.EINVAL,
    `${what} must be a string, Buffer or Uint8Array, not ${v === null ? 'null' : typeof v}`
  );
}

/* A non-negative integer option or argument as a uint64 (Number or BigInt). */
function toU64(v, what, { infinity } = {}) {
  if (typeof v === 'bigint') {
    if (v < 0n || v > UINT64_MAX) fail(Status.EINVAL, `${what} is out of range`);
    return v;
  }
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0)
    fail(Status.EINVAL, `${what} must be a non-negative number`);
  if (v === Infinity) {
    if (infinity === undefined) fail(Status.EINVAL, `${what} must be finite`);
    return infinity;
  }
  const n = BigInt(Math.floor(v));
  if (n > UINT64_MAX) fail(Status.EINVAL, `${what} is out of range`);
  return n;
}

function toU32(v, what) {
  const n = toU64(v, what);
  if (n > 0xffffffffn) fail(Status.EINVAL, `${what} is out of range`);
  return Number(n);
}

/* ---- options ------------------------------------------------------------- */

function applyOptions(opts, o) {
  if (o === undefined || o === null) return opts;
  if (typeof o !== 'object') fail(Status.EINVAL, 'options must be an object');
  if (o.name !== undefined) {
    if (typeof o.name !== 'string') fail(Status.EINVAL, 'options.name must be a string');
    if (o.name.includes('\0')) fail(Status.EINVAL, 'options.name must not contain NUL');
    opts.name = o.name;
  }
  /* ttl 0 or Infinity: entries never expire by default. */
  if (o.ttl !== undefined) opts.ttl_ms = toU64(o.ttl, 'options.ttl', { infinity: 0n });
  if (o.maxSize !== undefined) opts.max_entries = toU64(o.maxSize, 'options.maxSize', { infinity: 0n });
  if (o.maxBytes !== undefined) opts.max_bytes = toU64(o.maxBytes, 'options.maxBytes', { infinity: 0n });
  if (o.cleanupInterval !== undefined)
    opts.cleanup_interval_ms = toU64(o.cleanupInterval, 'options.cleanupInterval', { infinity: 0n });
  if (o.maxRetries !== undefined) opts.max_retries = toU32(o.maxRetries, 'options.maxRetries');
  if (o.retryBaseMs !== undefined) opts.retry_base_ms = toU32(o.retryBaseMs, 'options.retryBaseMs');
  if (o.memoryThreshold !== undefined)
    opts.memory_threshold_mb = toU64(o.memoryThreshold, 'options.memoryThreshold', { infinity: 0n });
  if (o.policy !== undefined) {
    const p = typeof o.policy === 'string' ? POLICIES[o.policy.toLowerCase()] : undefined;
    if (p === undefined) fail(Status.EINVAL, `options.policy must be 'tinylfu', 'lru' or 'fifo', not ${String(o.policy)}`);
    opts.policy = p;
  }
  return opts;
}

function defaultOptions() {
  const opts = {};
  C.options_init(opts);
  opts.struct_size = SIZEOF_OPTIONS;
  return opts;
}

function presetOptions(preset) {
  const opts = {};
  check(C.preset_options(preset, opts), 'cache_preset_options');
  opts.struct_size = SIZEOF_OPTIONS;
  return opts;
}

/* ---- copy-out ------------------------------------------------------------ */

/* Scratch buffer for copy-out. Values that fit are copied out of it into a
 * Buffer of their exact size; a larger value is fetched again into a buffer of
 * exactly its size (CACHE_ETOOSMALL gives the size), and the scratch buffer
 * grows, up to SCRATCH_MAX, so that the next read of such a value needs one
 * call. Reentrant use (a loader reading the cache) is safe: every call keeps
 * its own reference and copies out before returning. */
const SCRATCH_MIN = 16 * 1024;
const SCRATCH_MAX = 1024 * 1024;
let scratch = Buffer.allocUnsafeSlow(SCRATCH_MIN);

function growScratch(len) {
  if (len > scratch.length && len <= SCRATCH_MAX) {
    let size = scratch.length;
    while (size < len) size *= 2;
    scratch = Buffer.allocUnsafeSlow(Math.min(size, SCRATCH_MAX));
  }
}

/* Stores a size_t at the start of buf (a struct's struct_size). */
function writeSizeT(buf, value) {
  if (SIZEOF_SIZE_T === 8) {
    if (LITTLE_ENDIAN) buf.writeBigUInt64LE(BigInt(value), 0);
    else buf.writeBigUInt64BE(BigInt(value), 0);
  } else if (LITTLE_ENDIAN) buf.writeUInt32LE(value, 0);
  else buf.writeUInt32BE(value, 0);
}

/* A Buffer of exactly len bytes with the start of buf: buf itself when it is
 * a private buffer of that size, else a copy (never the shared scratch). */
function copyOut(buf, len) {
  if (len === buf.length && buf !== scratch) return buf;
  const out = Buffer.allocUnsafe(len);
  buf.copy(out, 0, 0, len);
  return out;
}

/* ---- the cache ----------------------------------------------------------- */

/* Caches dropped without close() are closed and released on collection. */
const finalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry((handle) => {
        C.close(handle);
        C.destroy(handle);
      })
    : null;

const kHandle = Symbol('handle');
const kName = Symbol('name');
const kPreset = Symbol('preset');

/* The C handle of an open cache; CACHE_ECLOSED once it is closed. */
function handleOf(cache) {
  const h = cache[kHandle];
  if (h === null) fail(Status.ECLOSED, `cache '${cache[kName]}' is closed (CACHE_ECLOSED)`);
  return h;
}

class Cache {
  /**
   * @param {object} [options] see index.d.ts (CacheOptions)
   */
  constructor(options) {
    this[kHandle] = null;
    this[kName] = '';
    let opts;
    if (options && typeof options === 'object' && options[kPreset] !== undefined) {
      opts = presetOptions(options[kPreset]);
      applyOptions(opts, options.overrides);
    } else {
      opts = applyOptions(defaultOptions(), options);
    }
    const out = [null];
    check(C.create(opts, out), 'cache_create');
    this[kHandle] = out[0];
    this[kName] = C.name(out[0]) || '';
    if (finalizer) finalizer.register(this, out[0], this);
  }

  /** proposalCache: 10 min TTL, 500 entries, 60 s cleanup, 3 retries, 50 MB. */
  static proposal(overrides) {
    return new Cache({ [kPreset]: PRESETS.proposal, overrides });
  }

  /** userCache: 30 min TTL, 200 entries, 60 s cleanup, 3 retries, 30 MB. */
  static user(overrides) {
    return new Cache({ [kPreset]: PRESETS.user, overrides });
  }

  /** marketDataCache: 60 min TTL, 100 entries, 60 s cleanup, 3 retries, 20 MB. */
  static marketData(overrides) {
    return new Cache({ [kPreset]: PRESETS.marketData, overrides });
  }

  /** calculationCache: 5 min TTL, 1000 entries, 60 s cleanup, 3 retries, 100 MB. */
  static calculation(overrides) {
    return new Cache({ [kPreset]: PRESETS.calculation, overrides });
  }

  /** The name given at creation ('' if none). Still readable after close(). */
  get name() {
    return this[kName];
  }

  /** True once close() has been called. */
  get closed() {
    return this[kHandle] === null;
  }

  /**
   * The value stored under key, copied into a new Buffer, or undefined.
   * @param {string|Uint8Array} key
   * @returns {Buffer|undefined}
   */
  get(key) {
    const h = handleOf(this);
    const k = toBytes(key, 'key');
    let buf = scratch;
    const len = [0];
    for (;;) {
      const rc = C.get(h, k, k.length, buf, buf.length, len);
      if (rc === Status.OK) return copyOut(buf, num(len[0]));
      if (rc === Status.NOT_FOUND) return undefined;
      if (rc !== Status.ETOOSMALL) unexpected(rc, 'cache_get');
      /* The value is larger than buf: ask again with exactly its size (it
       * may have been replaced meanwhile, hence the loop). */
      const size = num(len[0]);
      growScratch(size);
      buf = Buffer.allocUnsafeSlow(size);
    }
  }

  /**
   * The value under key decoded as UTF-8, or undefined.
   * @param {string|Uint8Array} key
   * @returns {string|undefined}
   */
  getString(key) {
    const v = this.get(key);
    return v === undefined ? undefined : v.toString('utf8');
  }

  /**
   * Stores value under key. ttlMs: undefined or 0 = the cache's default TTL,
   * Infinity = never expires.
   * @param {string|Uint8Array} key
   * @param {string|Uint8Array} value
   * @param {number} [ttlMs]
   * @returns {this}
   */
  set(key, value, ttlMs) {
    const h = handleOf(this);
    const k = toBytes(key, 'key');
    const v = toBytes(value, 'value');
    const ttl = ttlMs === undefined ? 0n : toU64(ttlMs, 'ttlMs', { infinity: UINT64_MAX });
    check(C.set(h, k, k.length, v, v.length, ttl), 'cache_set');
    return this;
  }

  /**
   * Removes the entry for key; true if there was a live one.
   * @param {string|Uint8Array} key
   * @returns {boolean}
   */
  delete(key) {
    const h = handleOf(this);
    const k = toBytes(key, 'key');
    return check(C.delete(h, k, k.length), 'cache_delete') === Status.OK;
  }

  /**
   * True if a live entry exists for key (counts neither a hit nor a miss).
   * @param {string|Uint8Array} key
   * @returns {boolean}
   */
  has(key) {
    const h = handleOf(this);
    const k = toBytes(key, 'key');
    return check(C.contains(h, k, k.length), 'cache_contains') === Status.OK;
  }

  /** Removes every entry. */
  clear() {
    check(C.clear(handleOf(this)), 'cache_clear');
  }

  /** Number of entries held (expired ones not yet removed included); 0 once closed. */
  get size() {
    const h = this[kHandle];
    return h === null ? 0 : num(C.count(h));
  }

  /**
   * The cache's statistics: every cache_stats_t field, camelCased, as a
   * Number (health is the CACHE_HEALTH_* level, 0 to 2; healthName its name).
   * @returns {CacheStats}
   */
  stats() {
    const s = { struct_size: SIZEOF_STATS };
    check(C.stats(handleOf(this), s), 'cache_stats');
    return {
      entries: num(s.entries),
      bytes: num(s.bytes),
      hits: num(s.hits),
      misses: num(s.misses),
      sets: num(s.sets),
      deletes: num(s.deletes),
      evictions: num(s.evictions),
      expirations: num(s.expirations),
      cleanupRuns: num(s.cleanup_runs),
      cleanupErrors: num(s.cleanup_errors),
      maxEntries: num(s.max_entries),
      maxBytes: num(s.max_bytes),
      alertsWarning: num(s.alerts_warning),
      alertsCritical: num(s.alerts_critical),
      tableBytes: num(s.table_bytes),
      arenaResidentBytes: num(s.arena_resident_bytes),
      memoryEvictions: num(s.memory_evictions),
      health: s.health,
      healthName: HEALTH_NAMES[s.health] || 'critical',
    };
  }

  /**
   * 'healthy', 'warning' or 'critical'.
   * @returns {'healthy'|'warning'|'critical'}
   */
  health() {
    const level = check(C.health(handleOf(this)), 'cache_health');
    return HEALTH_NAMES[level] || 'critical';
  }

  /**
   * The cache's most recent alerts (at most 64), newest first.
   * @returns {CacheAlert[]}
   */
  alerts() {
    const h = handleOf(this);
    const buf = Buffer.alloc(SIZEOF_ALERT * ALERTS_KEPT);
    writeSizeT(buf, SIZEOF_ALERT); /* out[0].struct_size: the stride */
    const n = num(C.alerts(h, buf, ALERTS_KEPT));
    const out = [];
    for (let i = 0; i < n; i++) {
      const a = koffi.decode(buf, i * SIZEOF_ALERT, cache_alert_t);
      out.push({
        level: ALERT_NAMES[a.level] || String(a.level),
        timeMs: num(a.time_ms),
        message: typeof a.message === 'string' ? a.message : decodeCString(a.message),
      });
    }
    return out;
  }

  /**
   * Runs one expiry pass now; returns how many expired entries it removed.
   * Throws CacheError CACHE_EBUSY if a pass is already running.
   * @returns {number}
   */
  cleanup() {
    const removed = [0];
    check(C.cleanup(handleOf(this), removed), 'cache_cleanup');
    return num(removed[0]);
  }

  /**
   * The value under key; on a miss, loader(keyBuffer) produces it (a Buffer,
   * Uint8Array or string, synchronously), it is stored (ttlMs as in set())
   * and returned. If the loader throws, nothing is cached and the exception
   * propagates to the caller.
   * @param {string|Uint8Array} key
   * @param {(key: Buffer) => string|Uint8Array} loader
   * @param {number} [ttlMs]
   * @returns {Buffer}
   */
  getOrLoad(key, loader, ttlMs) {
    const h = handleOf(this);
    const k = toBytes(key, 'key');
    if (typeof loader !== 'function') fail(Status.EINVAL, 'loader must be a function');
    const ttl = ttlMs === undefined ? 0n : toU64(ttlMs, 'ttlMs', { infinity: UINT64_MAX });

    let thrown = null;
    let loaded = null; /* what the loader produced, if it ran in this call */
    const trampoline = (_keyPtr, _keyLen, load) => {
      try {
        /* The library hands the loader the key it was given: pass the
         * loader its own copy of those bytes. */
        const v = toBytes(loader(Buffer.from(k)), 'loader result');
        const rc = C.load_put(load, v, v.length, ttl);
        if (rc !== Status.OK) fail(rc, `cache_load_put: ${C.strerror(rc)} (${C.err_name(rc)})`);
        loaded = v;
        return Status.OK;
      } catch (err) {
        thrown = err;
        return LOADER_THREW;
      }
    };

    const cb = koffi.register(trampoline, koffi.pointer(cache_loader_cb));
    try {
      let buf = scratch;
      const len = [0];
      for (;;) {
        const rc = C.get_or_load(h, k, k.length, cb, null, buf, buf.length, len);
        if (thrown !== null) throw thrown;
        if (rc === Status.OK) return copyOut(buf, num(len[0]));
        if (rc === Status.ETOOSMALL) {
          /* The loader ran in this call and its value was stored: hand back
           * a copy of those bytes rather than reading the cache again. */
          if (loaded !== null) return Buffer.from(loaded);
          const size = num(len[0]);
          growScratch(size);
          buf = Buffer.allocUnsafeSlow(size);
          continue;
        }
        unexpected(rc, 'cache_get_or_load');
      }
    } finally {
      koffi.unregister(cb);
    }
  }

  /** getOrLoad() decoded as UTF-8. */
  getOrLoadString(key, loader, ttlMs) {
    return this.getOrLoad(key, loader, ttlMs).toString('utf8');
  }

  /**
   * Closes the cache (frees every entry) and releases the handle. Idempotent;
   * afterwards every method throws CacheError CACHE_ECLOSED (size is 0).
   */
  close() {
    const h = this[kHandle];
    if (h === null) return;
    this[kHandle] = null;
    if (finalizer) finalizer.unregister(this);
    C.close(h); /* CACHE_ECLOSED after shutdownAll() is fine */
    C.destroy(h);
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `Cache { name: '${this[kName]}', size: ${this.size}${this.closed ? ', closed' : ''} }`;
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Cache.prototype, Symbol.dispose, {
    value: function dispose() {
      this.close();
    },
    writable: true,
    configurable: true,
  });
}

function decodeCString(chars) {
  /* char[] decoded as an array of numbers: stop at the NUL. */
  const bytes = Buffer.from(Array.from(chars, (c) => c & 0xff));
  const nul = bytes.indexOf(0);
  return bytes.toString('utf8', 0, nul < 0 ? bytes.length : nul);
}

/* ---- module functions ---------------------------------------------------- */

/** The version of the loaded library, as "1.0.0". */
function version() {
  return C.version();
}

/** The version of the loaded library as major * 10000 + minor * 100 + patch. */
function versionNumber() {
  return C.version_number();
}

/** The health of every open cache of the process, summed up. */
function healthReport() {
  const r = { struct_size: SIZEOF_HEALTH_REPORT };
  check(C.health_report(r), 'cache_health_report');
  return {
    overall: HEALTH_NAMES[r.overall] || 'critical',
    caches: num(r.caches),
    healthy: num(r.healthy),
    warning: num(r.warning),
    critical: num(r.critical),
    totalBytes: num(r.total_bytes),
    rssBytes: num(r.rss_bytes),
  };
}

function takeString(ptr, what) {
  if (ptr === null || ptr === 0n) fail(Status.ENOMEM, `${what}: out of memory (CACHE_ENOMEM)`);
  try {
    return koffi.decode(ptr, 'char', -1);
  } finally {
    C.free_string(ptr);
  }
}

/** The JSON health document of every open cache, as the C text. */
function healthJsonText() {
  return takeString(C.health_json(), 'cache_health_json');
}

/** The JSON health document of every open cache, parsed. */
function healthJson() {
  return JSON.parse(healthJsonText());
}

/** Every open cache's statistics in the Prometheus text exposition format. */
function metricsPrometheus() {
  return takeString(C.metrics_prometheus(), 'cache_metrics_prometheus');
}

/** The process's memory figures (see cache_memory_usage_t). */
function memoryUsage() {
  const m = { struct_size: SIZEOF_MEMORY_USAGE };
  check(C.memory_usage(m), 'cache_memory_usage');
  const limit = m.cgroup_limit_bytes;
  return {
    sources: {
      proc: (m.sources & 0x1) !== 0,
      cgroup: (m.sources & 0x2) !== 0,
      allocator: (m.sources & 0x4) !== 0,
    },
    rssBytes: num(m.rss_bytes),
    rssPeakBytes: num(m.rss_peak_bytes),
    vmSizeBytes: num(m.vm_size_bytes),
    dataBytes: num(m.data_bytes),
    cgroupUsageBytes: num(m.cgroup_usage_bytes),
    cgroupLimitBytes: BigInt(limit) === UINT64_MAX ? Infinity : num(limit),
    jeAllocated: num(m.je_allocated),
    jeActive: num(m.je_active),
    jeResident: num(m.je_resident),
    jeMapped: num(m.je_mapped),
    jeRetained: num(m.je_retained),
    purgeReleasedBytes: num(m.purge_released_bytes),
  };
}

/** True if the process's resident memory is above thresholdMb MiB. */
function memoryIsHigh(thresholdMb) {
  return check(C.memory_is_high(toU64(thresholdMb, 'thresholdMb')), 'cache_memory_is_high') === 1;
}

/** Gives the allocator's unused dirty pages back to the operating system. */
function memoryPurge() {
  check(C.memory_purge(), 'cache_memory_purge');
}

/** Process memory limit in MiB above which every cache sheds entries; 0 = none. */
function setProcessMemoryLimit(mb) {
  check(C.set_process_memory_limit(toU64(mb, 'mb', { infinity: 0n })), 'cache_set_process_memory_limit');
}

/** Closes every cache of the process (their handles then throw CACHE_ECLOSED). */
function shutdownAll() {
  C.shutdown_all();
}

/** The symbolic name of a status ('CACHE_EINVAL'). */
function errName(status) {
  return C.err_name(status);
}

/** The message of a status ('invalid argument'). */
function strerror(status) {
  return C.strerror(status);
}

module.exports = {
  Cache,
  CacheError,
  Status,
  KEY_MAX,
  libraryPath: LIBRARY_PATH,
  version,
  versionNumber,
  healthReport,
  healthJson,
  healthJsonText,
  metricsPrometheus,
  memoryUsage,
  memoryIsHigh,
  memoryPurge,
  setProcessMemoryLimit,
  shutdownAll,
  errName,
  strerror,
};
