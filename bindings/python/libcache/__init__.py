"""Python binding for libcache, the in-process key/value cache.

Standard library only: the C library is reached through ctypes.

Loading
    The shared library is taken from the environment variable
    LIBCACHE_LIBRARY (a path) when it is set; otherwise from
    ctypes.util.find_library("cache"), then "libcache.so.1". Only major
    version 1 of the library is accepted.

Keys and values
    Keys and values are bytes; a str is encoded as UTF-8 (bytearray and
    memoryview are copied to bytes). Values always come back as bytes.

Errors
    Every status of the C library other than CACHE_OK raises CacheError,
    with .status (the int), .name ("CACHE_EINVAL") and .message. The normal
    CACHE_NOT_FOUND outcome is not an error: get() returns its default,
    delete() and contains() return False.

Closed caches
    Cache.close() is idempotent. Any other call on a closed Cache raises
    CacheError with status CACHE_ECLOSED (the same error the C library
    reports for a handle closed by shutdown_all()). Closing while other
    threads are inside a call on the same Cache is safe: those calls finish
    (or fail with CACHE_ECLOSED) and the C handle is released once the last
    one has returned.
"""

import ctypes
import ctypes.util
import itertools
import json
import operator
import os
import threading

__all__ = [
    "Cache",
    "CacheError",
    "version",
    "version_number",
    "health_report",
    "health_json",
    "metrics_prometheus",
    "memory_usage",
    "memory_is_high",
    "memory_purge",
    "set_process_memory_limit",
    "install_signal_handlers",
    "shutdown_all",
    "strerror",
    "err_name",
]

# ---- constants (values of include/cache.h) ---------------------------------

# Status codes (CACHE_STATUS_MAP).
CACHE_OK = 0
CACHE_NOT_FOUND = 1
CACHE_EINVAL = -1
CACHE_ENOMEM = -2
CACHE_ECLOSED = -3
CACHE_ETOOSMALL = -4
CACHE_ETOOBIG = -5
CACHE_EBUSY = -6
CACHE_EIO = -7

# The status a loader of get_or_load() reports when it raised a Python
# exception. The caller that ran the loader gets the original exception
# back; callers in other threads waiting for the same key get a CacheError
# with this status. It is this binding's own code, not one of the library.
LOADER_FAILED = -1000

# Presets (CACHE_PRESET_MAP).
CACHE_PRESET_PROPOSAL = 0
CACHE_PRESET_USER = 1
CACHE_PRESET_MARKET_DATA = 2
CACHE_PRESET_CALCULATION = 3

# Eviction policies (CACHE_POLICY_MAP).
CACHE_POLICY_FIFO = 0
CACHE_POLICY_LRU = 1

# Removal reasons (CACHE_REMOVAL_MAP).
CACHE_REMOVED_EXPIRED = 1
CACHE_REMOVED_EVICTED = 2
CACHE_REMOVED_MEMORY = 3
CACHE_REMOVED_DELETED = 4
CACHE_REMOVED_REPLACED = 5
CACHE_REMOVED_CLEARED = 6

# Alert levels (CACHE_ALERT_LEVEL_MAP).
CACHE_ALERT_WARNING = 1
CACHE_ALERT_CRITICAL = 2
CACHE_ALERT_MESSAGE_MAX = 112
CACHE_ALERTS_KEPT = 64

# Health levels (CACHE_HEALTH_MAP).
CACHE_HEALTH_HEALTHY = 0
CACHE_HEALTH_WARNING = 1
CACHE_HEALTH_CRITICAL = 2
CACHE_HEALTH_WINDOW_MS = 300000

# Limits.
CACHE_KEY_MAX = 65535
CACHE_VALUE_MAX = 0xFFFFFFFF
CACHE_TTL_NEVER = 0xFFFFFFFFFFFFFFFF

# Bits of memory_usage()["sources"].
CACHE_MEMORY_PROC = 0x1
CACHE_MEMORY_CGROUP = 0x2
CACHE_MEMORY_ALLOCATOR = 0x4

_U64_MAX = 0xFFFFFFFFFFFFFFFF
_U32_MAX = 0xFFFFFFFF

# ---- struct mirrors --------------------------------------------------------

_c_u64_p = ctypes.POINTER(ctypes.c_uint64)


class _Options(ctypes.Structure):
    """cache_options_t."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("name", ctypes.c_char_p),
        ("ttl_ms", ctypes.c_uint64),
        ("max_entries", ctypes.c_uint64),
        ("max_bytes", ctypes.c_uint64),
        ("cleanup_interval_ms", ctypes.c_uint64),
        ("max_retries", ctypes.c_uint32),
        ("retry_base_ms", ctypes.c_uint32),
        ("memory_threshold_mb", ctypes.c_uint64),
        ("policy", ctypes.c_int32),
        ("reserved0", ctypes.c_int32),
        ("clock_ms", ctypes.c_void_p),
        ("clock_ctx", ctypes.c_void_p),
        ("on_remove", ctypes.c_void_p),
        ("on_remove_ctx", ctypes.c_void_p),
    ]


class _Stats(ctypes.Structure):
    """cache_stats_t."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("entries", ctypes.c_uint64),
        ("bytes", ctypes.c_uint64),
        ("hits", ctypes.c_uint64),
        ("misses", ctypes.c_uint64),
        ("sets", ctypes.c_uint64),
        ("deletes", ctypes.c_uint64),
        ("evictions", ctypes.c_uint64),
        ("expirations", ctypes.c_uint64),
        ("cleanup_runs", ctypes.c_uint64),
        ("cleanup_errors", ctypes.c_uint64),
        ("max_entries", ctypes.c_uint64),
        ("max_bytes", ctypes.c_uint64),
        ("alerts_warning", ctypes.c_uint64),
        ("alerts_critical", ctypes.c_uint64),
        ("table_bytes", ctypes.c_uint64),
        ("arena_resident_bytes", ctypes.c_uint64),
        ("memory_evictions", ctypes.c_uint64),
        ("health", ctypes.c_int32),
        ("reserved0", ctypes.c_int32),
    ]


class _Alert(ctypes.Structure):
    """cache_alert_t."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("level", ctypes.c_int32),
        ("reserved0", ctypes.c_int32),
        ("time_ms", ctypes.c_uint64),
        ("message", ctypes.c_char * CACHE_ALERT_MESSAGE_MAX),
    ]


class _MemoryUsage(ctypes.Structure):
    """cache_memory_usage_t."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("sources", ctypes.c_uint32),
        ("reserved0", ctypes.c_uint32),
        ("rss_bytes", ctypes.c_uint64),
        ("rss_peak_bytes", ctypes.c_uint64),
        ("vm_size_bytes", ctypes.c_uint64),
        ("data_bytes", ctypes.c_uint64),
        ("cgroup_usage_bytes", ctypes.c_uint64),
        ("cgroup_limit_bytes", ctypes.c_uint64),
        ("je_allocated", ctypes.c_uint64),
        ("je_active", ctypes.c_uint64),
        ("je_resident", ctypes.c_uint64),
        ("je_mapped", ctypes.c_uint64),
        ("je_retained", ctypes.c_uint64),
        ("purge_released_bytes", ctypes.c_uint64),
    ]


class _HealthReport(ctypes.Structure):
    """cache_health_report_t."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("overall", ctypes.c_int32),
        ("reserved0", ctypes.c_int32),
        ("caches", ctypes.c_uint64),
        ("healthy", ctypes.c_uint64),
        ("warning", ctypes.c_uint64),
        ("critical", ctypes.c_uint64),
        ("total_bytes", ctypes.c_uint64),
        ("rss_bytes", ctypes.c_uint64),
    ]


def _sized(struct_type):
    """A zeroed instance with struct_size set to the size of the mirror."""
    s = struct_type()
    s.struct_size = ctypes.sizeof(struct_type)
    return s


def _public_fields(struct_type):
    return tuple(
        name
        for name, _ in struct_type._fields_
        if name != "struct_size" and not name.startswith("reserved")
    )


# int (*cache_loader_cb)(const void *key, size_t key_len, cache_load_t *load,
#                        void *ctx)
_LOADER_CB = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
    ctypes.c_void_p)

# ---- loading the library ---------------------------------------------------


def _candidates():
    path = os.environ.get("LIBCACHE_LIBRARY")
    if path:
        return [path]
    names = []
    found = ctypes.util.find_library("cache")
    if found:
        names.append(found)
    if "libcache.so.1" not in names:
        names.append("libcache.so.1")
    return names


def _load_library():
    problems = []
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            problems.append("%s: %s" % (name, e))
            continue
        try:
            fn = lib.cache_version_number
        except AttributeError:
            problems.append("%s: no cache_version_number()" % name)
            continue
        fn.argtypes = []
        fn.restype = ctypes.c_uint
        number = fn()
        if number // 10000 != 1:
            problems.append("%s: libcache %d.%d.%d, need major version 1" % (
                name, number // 10000, number // 100 % 100, number % 100))
            continue
        return lib
    raise ImportError(
        "libcache: cannot load the C library (%s); set LIBCACHE_LIBRARY to "
        "the path of libcache.so.1" % "; ".join(problems))


_lib = _load_library()


def _declare(name, restype, *argtypes, optional=False):
    try:
        fn = getattr(_lib, name)
    except AttributeError:
        if optional:
            return None
        raise ImportError("libcache: the loaded library lacks %s()" % name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_vp = ctypes.c_void_p
_int = ctypes.c_int
_sz = ctypes.c_size_t
_u64 = ctypes.c_uint64
_cstr = ctypes.c_char_p  # const void * for bytes we pass in

_cache_version = _declare("cache_version", ctypes.c_char_p)
_cache_version_number = _declare("cache_version_number", ctypes.c_uint)
_cache_strerror = _declare("cache_strerror", ctypes.c_char_p, _int)
_cache_err_name = _declare("cache_err_name", ctypes.c_char_p, _int)
_cache_policy_name = _declare("cache_policy_name", ctypes.c_char_p, _int)
_cache_alert_level_name = _declare(
    "cache_alert_level_name", ctypes.c_char_p, _int)
_cache_health_name = _declare("cache_health_name", ctypes.c_char_p, _int)

_cache_options_init = _declare(
    "cache_options_init", None, ctypes.POINTER(_Options))
_cache_options_init_sized = _declare(
    "cache_options_init_sized", _int, ctypes.POINTER(_Options), _sz,
    optional=True)
_cache_preset_options = _declare(
    "cache_preset_options", _int, _int, ctypes.POINTER(_Options))
_cache_preset_options_sized = _declare(
    "cache_preset_options_sized", _int, _int, ctypes.POINTER(_Options), _sz,
    optional=True)

_cache_create = _declare(
    "cache_create", _int, ctypes.POINTER(_Options), ctypes.POINTER(_vp))
_cache_create_proposal = _declare(
    "cache_create_proposal", _int, ctypes.POINTER(_vp))
_cache_create_user = _declare("cache_create_user", _int, ctypes.POINTER(_vp))
_cache_create_market_data = _declare(
    "cache_create_market_data", _int, ctypes.POINTER(_vp))
_cache_create_calculation = _declare(
    "cache_create_calculation", _int, ctypes.POINTER(_vp))
_cache_close = _declare("cache_close", _int, _vp)
_cache_destroy = _declare("cache_destroy", None, _vp)
_cache_name = _declare("cache_name", ctypes.c_char_p, _vp)

_cache_set = _declare("cache_set", _int, _vp, _cstr, _sz, _cstr, _sz, _u64)
# The output buffer and *value_len of these two are passed as plain
# addresses (void *): converting ints is the cheapest path through ctypes.
_cache_get = _declare("cache_get", _int, _vp, _cstr, _sz, _vp, _sz, _vp)
_cache_load_put = _declare("cache_load_put", _int, _vp, _cstr, _sz, _u64)
_cache_get_or_load = _declare(
    "cache_get_or_load", _int, _vp, _cstr, _sz, _LOADER_CB, _vp, _vp, _sz,
    _vp)
_cache_contains = _declare("cache_contains", _int, _vp, _cstr, _sz)
_cache_delete = _declare("cache_delete", _int, _vp, _cstr, _sz)
_cache_clear = _declare("cache_clear", _int, _vp)
_cache_count = _declare("cache_count", _u64, _vp)
_cache_cleanup = _declare("cache_cleanup", _int, _vp, _c_u64_p)

_cache_stats = _declare("cache_stats", _int, _vp, ctypes.POINTER(_Stats))
_cache_alerts = _declare(
    "cache_alerts", _sz, _vp, ctypes.POINTER(_Alert), _sz)
_cache_health = _declare("cache_health", _int, _vp)
_cache_health_report = _declare(
    "cache_health_report", _int, ctypes.POINTER(_HealthReport))
# These two return a malloc'ed string the caller frees: declared as void *
# (not char *, which ctypes would turn into bytes and lose the pointer).
_cache_health_json = _declare("cache_health_json", _vp)
_cache_metrics_prometheus = _declare("cache_metrics_prometheus", _vp)
_cache_free_string = _declare("cache_free_string", None, _vp)

_cache_memory_usage = _declare(
    "cache_memory_usage", _int, ctypes.POINTER(_MemoryUsage))
_cache_memory_is_high = _declare("cache_memory_is_high", _int, _u64)
_cache_memory_purge = _declare("cache_memory_purge", _int)
_cache_set_process_memory_limit = _declare(
    "cache_set_process_memory_limit", _int, _u64)
_cache_shutdown_all = _declare("cache_shutdown_all", None)
_cache_install_signal_handlers = _declare(
    "cache_install_signal_handlers", _int)


def _text(raw):
    return None if raw is None else raw.decode("utf-8", "replace")


# ---- errors ----------------------------------------------------------------


def strerror(status):
    """The library's message for a status ("invalid argument")."""
    if status == LOADER_FAILED:
        return "the loader raised an exception"
    return _text(_cache_strerror(int(status)))


def err_name(status):
    """The symbolic name of a status ("CACHE_EINVAL")."""
    if status == LOADER_FAILED:
        return "LOADER_FAILED"
    return _text(_cache_err_name(int(status)))


class CacheError(Exception):
    """A libcache status other than CACHE_OK.

    Attributes: status (int), name (cache_err_name, e.g. "CACHE_EINVAL")
    and message (cache_strerror).
    """

    def __init__(self, status, message=None):
        status = int(status)
        if message is None:
            message = strerror(status)
        super().__init__(status, message)
        self.status = status
        self.name = err_name(status)
        self.message = message

    def __str__(self):
        return "%s (%s, status %d)" % (self.message, self.name, self.status)


def _check(rc):
    if rc != CACHE_OK:
        raise CacheError(rc)


# ---- argument conversion ---------------------------------------------------


def _as_bytes(x, what):
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, (bytearray, memoryview)):
        return bytes(x)
    raise TypeError("%s must be bytes or str, not %s" % (
        what, type(x).__name__))


def _uint(value, what, limit=_U64_MAX):
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, not %s" % (
            what, type(value).__name__)) from None
    if v < 0 or v > limit:
        raise ValueError("%s must be between 0 and %d, not %d" % (
            what, limit, v))
    return v


def _policy_table():
    table = {}
    for value in range(64):
        name = _cache_policy_name(value)
        if name is not None:
            table[name.decode("ascii").lower()] = value
    return table


_POLICIES = _policy_table()

_PRESETS = {
    "proposal": CACHE_PRESET_PROPOSAL,
    "proposalcache": CACHE_PRESET_PROPOSAL,
    "user": CACHE_PRESET_USER,
    "usercache": CACHE_PRESET_USER,
    "market_data": CACHE_PRESET_MARKET_DATA,
    "marketdata": CACHE_PRESET_MARKET_DATA,
    "marketdatacache": CACHE_PRESET_MARKET_DATA,
    "calculation": CACHE_PRESET_CALCULATION,
    "calculationcache": CACHE_PRESET_CALCULATION,
}


def _preset_value(preset):
    if isinstance(preset, str):
        key = preset.strip().lower().replace("-", "_")
        if key.startswith("cache_preset_"):
            key = key[len("cache_preset_"):]
        try:
            return _PRESETS[key]
        except KeyError:
            raise ValueError("unknown preset %r (known: proposal, user, "
                             "market_data, calculation)" % preset) from None
    return operator.index(preset)


def _policy_value(policy):
    if isinstance(policy, str):
        try:
            return _POLICIES[policy.strip().lower()]
        except KeyError:
            raise ValueError("unknown policy %r (known: %s)" % (
                policy, ", ".join(sorted(_POLICIES)))) from None
    return operator.index(policy)


def _default_options():
    o = _Options()
    if _cache_options_init_sized is not None:
        _check(_cache_options_init_sized(o, ctypes.sizeof(o)))
    else:
        # A library without the sized variant writes its own whole struct:
        # let it write into a scratch area that is surely large enough and
        # keep the part this mirror knows.
        scratch = (ctypes.c_char * 4096)()
        _cache_options_init(ctypes.cast(scratch, ctypes.POINTER(_Options)))
        ctypes.memmove(ctypes.addressof(o), scratch, ctypes.sizeof(o))
        o.struct_size = ctypes.sizeof(o)
    return o


def _preset_options(preset):
    o = _Options()
    if _cache_preset_options_sized is not None:
        _check(_cache_preset_options_sized(preset, o, ctypes.sizeof(o)))
    else:
        scratch = (ctypes.c_char * 4096)()
        _check(_cache_preset_options(
            preset, ctypes.cast(scratch, ctypes.POINTER(_Options))))
        ctypes.memmove(ctypes.addressof(o), scratch, ctypes.sizeof(o))
        o.struct_size = ctypes.sizeof(o)
    return o


_OPTION_LIMITS = {
    "ttl_ms": _U64_MAX,
    "max_entries": _U64_MAX,
    "max_bytes": _U64_MAX,
    "cleanup_interval_ms": _U64_MAX,
    "memory_threshold_mb": _U64_MAX,
    "max_retries": _U32_MAX,
    "retry_base_ms": _U32_MAX,
}
_OPTION_NAMES = frozenset(_OPTION_LIMITS) | {"name", "policy"}


def _apply_options(o, settings):
    unknown = set(settings) - _OPTION_NAMES
    if unknown:
        raise TypeError("unknown cache option(s): %s" % ", ".join(
            sorted(unknown)))
    for key, value in settings.items():
        if key == "name":
            if value is None:
                continue
            raw = _as_bytes(value, "name")
            if b"\0" in raw:
                raise ValueError("name must not contain NUL")
            o.name = raw  # the Structure keeps the bytes alive
        elif key == "policy":
            if value is not None:
                o.policy = _policy_value(value)
        else:
            setattr(o, key, _uint(value, key, _OPTION_LIMITS[key]))
    return o


# ---- copy-out of values ----------------------------------------------------

_INITIAL_BUFFER = 4096
_KEEP_BUFFER_MAX = 1 << 20


class _Scratch(threading.local):
    """Per-thread output buffer and length for cache_get().

    Nesting (a loader that calls get() on the same thread) is fine: each
    call reads the buffer right after the C call that filled it returns,
    and holds its own reference to the buffer it passed.
    """

    def __init__(self):
        self.length = ctypes.c_size_t()
        self.len_addr = ctypes.addressof(self.length)
        self.keep(ctypes.create_string_buffer(_INITIAL_BUFFER))

    def keep(self, buf):
        self.buf = buf
        self.size = len(buf)
        self.addr = ctypes.addressof(buf)
        self.view = memoryview(buf)


_scratch = _Scratch()


def _bigger_buffer(s, n):
    """(address, size, view) of a new n-byte buffer; the view keeps the
    buffer alive. Kept as this thread's buffer if not too large."""
    buf = ctypes.create_string_buffer(n)
    if n <= _KEEP_BUFFER_MAX:
        s.keep(buf)
    return ctypes.addressof(buf), n, memoryview(buf)


# ---- get_or_load -----------------------------------------------------------


class _LoadCall(object):
    __slots__ = ("loader", "value", "error")

    def __init__(self, loader):
        self.loader = loader
        self.value = None
        self.error = None


_load_calls = {}
_load_tokens = itertools.count(1)


def _loader_result(result):
    if isinstance(result, tuple):
        if len(result) != 2:
            raise TypeError("a loader returns a value or (value, ttl_ms)")
        value, ttl = result
        return _as_bytes(value, "loaded value"), _uint(ttl, "ttl_ms")
    return _as_bytes(result, "loaded value"), 0


def _run_loader(key, key_len, load, ctx):
    call = _load_calls.get(ctx)
    if call is None:  # cannot happen: the caller registers it first
        return CACHE_EINVAL
    try:
        result = call.loader(ctypes.string_at(key, key_len))
        if result is None:
            return CACHE_NOT_FOUND  # nothing to cache: callers get None
        value, ttl = _loader_result(result)
        rc = _cache_load_put(load, value, len(value), ttl)
        if rc == CACHE_OK:
            call.value = value
        return rc
    except BaseException as e:  # re-raised in the caller
        call.error = e
        return LOADER_FAILED


# One C callback for every load; the per-call state travels in loader_ctx.
# It lives as long as the module, so it outlives every call.
_loader_trampoline = _LOADER_CB(_run_loader)

# ---- the cache -------------------------------------------------------------


class Cache(object):
    """One libcache cache.

    Cache(name=None, ttl_ms=0, max_entries=0, max_bytes=0,
          cleanup_interval_ms=0, policy=None, memory_threshold_mb=0,
          max_retries=3, retry_base_ms=1000)

    Starts from cache_options_init() and overrides the fields given.
    policy is "tinylfu", "lru", "fifo" or a CACHE_POLICY_* int (None: the
    library's default, tinylfu). Times are in
    milliseconds, 0 meaning "none" as in the C API. Use as a context
    manager, or call close(), to release the C cache.
    """

    # Defaults so that close()/__del__ work on a half-built instance.
    _handle = None
    _pending = None
    _inflight = ()

    # Held on the class so that __del__ still finds them while the
    # interpreter is tearing the module down.
    _c_close = _cache_close
    _c_destroy = _cache_destroy

    def __init__(self, name=None, ttl_ms=0, max_entries=0, max_bytes=0,
                 cleanup_interval_ms=0, policy=None, memory_threshold_mb=0,
                 max_retries=3, retry_base_ms=1000):
        o = _apply_options(_default_options(), {
            "name": name,
            "ttl_ms": ttl_ms,
            "max_entries": max_entries,
            "max_bytes": max_bytes,
            "cleanup_interval_ms": cleanup_interval_ms,
            "policy": policy,
            "memory_threshold_mb": memory_threshold_mb,
            "max_retries": max_retries,
            "retry_base_ms": retry_base_ms,
        })
        self._open(lambda out: _cache_create(o, out))

    # -- construction ---------------------------------------------------

    def _open(self, create):
        self._lock = threading.Lock()
        self._inflight = []
        self._pending = None
        out = ctypes.c_void_p()
        _check(create(ctypes.byref(out)))
        if not out.value:
            raise CacheError(CACHE_ENOMEM)
        self._handle = out.value

    @classmethod
    def _new(cls, create):
        self = cls.__new__(cls)
        self._open(create)
        return self

    @classmethod
    def from_preset(cls, preset, **overrides):
        """A cache from cache_preset_options(), with options overridden.

        preset is a CACHE_PRESET_* int or a name: "proposal", "user",
        "market_data", "calculation" (the cache names such as
        "proposalCache" work too). overrides take the constructor's
        keyword arguments.
        """
        o = _apply_options(_preset_options(_preset_value(preset)), overrides)
        return cls._new(lambda out: _cache_create(o, out))

    @classmethod
    def proposal(cls, **overrides):
        """cache_create_proposal(): "proposalCache", 500 entries, 10 min."""
        if overrides:
            return cls.from_preset(CACHE_PRESET_PROPOSAL, **overrides)
        return cls._new(_cache_create_proposal)

    @classmethod
    def user(cls, **overrides):
        """cache_create_user(): "userCache", 200 entries, 30 min."""
        if overrides:
            return cls.from_preset(CACHE_PRESET_USER, **overrides)
        return cls._new(_cache_create_user)

    @classmethod
    def market_data(cls, **overrides):
        """cache_create_market_data(): "marketDataCache", 100 entries, 1 h."""
        if overrides:
            return cls.from_preset(CACHE_PRESET_MARKET_DATA, **overrides)
        return cls._new(_cache_create_market_data)

    @classmethod
    def calculation(cls, **overrides):
        """cache_create_calculation(): "calculationCache", 1000 entries,
        5 min."""
        if overrides:
            return cls.from_preset(CACHE_PRESET_CALCULATION, **overrides)
        return cls._new(_cache_create_calculation)

    # -- life cycle -----------------------------------------------------

    def _enter(self):
        """The C handle, counted as in use until _exit()."""
        self._inflight.append(None)
        h = self._handle
        if h is None:
            self._exit()
            raise CacheError(CACHE_ECLOSED)
        return h

    def _exit(self):
        self._inflight.pop()
        if self._pending is not None:
            self._reap()

    def _reap(self):
        # Destroys the closed handle once no call is using it.
        with self._lock:
            h = self._pending
            if h is None or self._inflight:
                return
            self._pending = None
        self._c_destroy(h)

    def close(self):
        """cache_close() then cache_destroy(). Idempotent.

        Afterwards every other method raises CacheError(CACHE_ECLOSED).
        Calls in other threads that are under way when close() runs finish
        first (or fail with CACHE_ECLOSED); the handle is destroyed after
        the last of them.
        """
        lock = self.__dict__.get("_lock")
        if lock is None:
            return
        with lock:
            h = self._handle
            if h is None:
                return
            self._handle = None
        # CACHE_ECLOSED here means shutdown_all() closed it already.
        self._c_close(h)
        with lock:
            self._pending = h
        self._reap()

    @property
    def closed(self):
        """True once close() has been called."""
        return self._handle is None

    def __enter__(self):
        if self._handle is None:
            raise CacheError(CACHE_ECLOSED)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __del__(self):
        # Runs only when nothing references the cache, so no call is under
        # way: close and destroy whatever is left.
        try:
            h = self._handle
            if h is not None:
                self._handle = None
                self._c_close(h)
                self._c_destroy(h)
            h = self._pending
            if h is not None:
                self._pending = None
                self._c_destroy(h)
        except Exception:
            pass

    def __repr__(self):
        if self._handle is None:
            return "<libcache.Cache closed>"
        return "<libcache.Cache %r entries=%d>" % (self.name, len(self))

    # -- entries --------------------------------------------------------

    # The methods below inline _enter()/_exit(): they are the hot path.

    def set(self, key, value, ttl_ms=0):
        """Stores value under key. ttl_ms: 0 = the cache's default,
        CACHE_TTL_NEVER = never expires."""
        if type(key) is not bytes:
            key = (key.encode() if type(key) is str
                   else _as_bytes(key, "key"))
        if type(value) is not bytes:
            value = (value.encode() if type(value) is str
                     else _as_bytes(value, "value"))
        if ttl_ms.__class__ is not int or ttl_ms < 0 or ttl_ms > _U64_MAX:
            ttl_ms = _uint(ttl_ms, "ttl_ms")
        inflight = self._inflight
        inflight.append(None)
        try:
            h = self._handle
            if h is None:
                raise CacheError(CACHE_ECLOSED)
            rc = _cache_set(h, key, len(key), value, len(value), ttl_ms)
        finally:
            inflight.pop()
            if self._pending is not None:
                self._reap()
        if rc != CACHE_OK:
            raise CacheError(rc)

    def get(self, key, default=None):
        """The value stored under key (bytes), or default if there is none
        or it has expired."""
        if type(key) is not bytes:
            key = (key.encode() if type(key) is str
                   else _as_bytes(key, "key"))
        s = _scratch
        addr, size, view = s.addr, s.size, s.view
        inflight = self._inflight
        inflight.append(None)
        try:
            h = self._handle
            if h is None:
                raise CacheError(CACHE_ECLOSED)
            while True:
                rc = _cache_get(h, key, len(key), addr, size, s.len_addr)
                if rc == CACHE_OK:
                    return view[:s.length.value].tobytes()
                if rc == CACHE_NOT_FOUND:
                    return default
                if rc != CACHE_ETOOSMALL:
                    raise CacheError(rc)
                # Again with the exact size (it may change meanwhile: loop).
                addr, size, view = _bigger_buffer(s, s.length.value)
        finally:
            inflight.pop()
            if self._pending is not None:
                self._reap()

    def get_or_load(self, key, loader, default=None):
        """The value under key; on a miss, loader(key_bytes) produces it.

        Exactly one caller per key runs its loader while the others (in
        other threads) wait for that result. loader returns bytes or str,
        or (value, ttl_ms), to store and return that value; or None to
        store nothing and return default. If it raises, nothing is cached,
        the exception propagates to this caller, and callers waiting for
        the same key get CacheError(LOADER_FAILED).
        """
        if not callable(loader):
            raise TypeError("loader must be callable")
        if type(key) is not bytes:
            key = (key.encode() if type(key) is str
                   else _as_bytes(key, "key"))
        s = _scratch
        addr, size, view = s.addr, s.size, s.view
        call = _LoadCall(loader)
        token = next(_load_tokens)
        _load_calls[token] = call
        inflight = self._inflight
        inflight.append(None)
        try:
            h = self._handle
            if h is None:
                raise CacheError(CACHE_ECLOSED)
            while True:
                rc = _cache_get_or_load(h, key, len(key), _loader_trampoline,
                                        token, addr, size, s.len_addr)
                if call.error is not None:
                    raise call.error
                if rc == CACHE_OK:
                    return view[:s.length.value].tobytes()
                if rc == CACHE_NOT_FOUND:
                    return default
                if rc != CACHE_ETOOSMALL:
                    raise CacheError(rc)
                if call.value is not None:
                    return call.value  # our loader made it: no second look
                addr, size, view = _bigger_buffer(s, s.length.value)
        finally:
            inflight.pop()
            del _load_calls[token]
            call.error = None  # no cycle through the traceback's frames
            if self._pending is not None:
                self._reap()

    def _found(self, cfunc, key):
        """Runs cache_contains or cache_delete: True on CACHE_OK, False on
        CACHE_NOT_FOUND, CacheError otherwise."""
        if type(key) is not bytes:
            key = (key.encode() if type(key) is str
                   else _as_bytes(key, "key"))
        inflight = self._inflight
        inflight.append(None)
        try:
            h = self._handle
            if h is None:
                raise CacheError(CACHE_ECLOSED)
            rc = cfunc(h, key, len(key))
        finally:
            inflight.pop()
            if self._pending is not None:
                self._reap()
        if rc == CACHE_OK:
            return True
        if rc == CACHE_NOT_FOUND:
            return False
        raise CacheError(rc)

    def contains(self, key):
        """True if a live entry exists for key (counts no hit or miss)."""
        return self._found(_cache_contains, key)

    def delete(self, key):
        """Removes key; True if an entry was removed, False if none."""
        return self._found(_cache_delete, key)

    def clear(self):
        """Removes every entry."""
        h = self._enter()
        try:
            rc = _cache_clear(h)
        finally:
            self._exit()
        _check(rc)

    def cleanup(self):
        """Runs one expiry pass now; returns the number of entries removed.
        Raises CacheError(CACHE_EBUSY) if a pass is already running."""
        removed = ctypes.c_uint64()
        h = self._enter()
        try:
            rc = _cache_cleanup(h, ctypes.byref(removed))
        finally:
            self._exit()
        _check(rc)
        return removed.value

    def __len__(self):
        """cache_count(): entries held, expired ones not yet removed
        included."""
        h = self._enter()
        try:
            return _cache_count(h)
        finally:
            self._exit()

    def __contains__(self, key):
        return self.contains(key)

    _MISSING = object()

    def __getitem__(self, key):
        value = self.get(key, self._MISSING)
        if value is self._MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        self.set(key, value)

    def __delitem__(self, key):
        if not self.delete(key):
            raise KeyError(key)

    __iter__ = None  # the C API has no iteration

    # -- introspection --------------------------------------------------

    @property
    def name(self):
        """The cache's name ("" if none)."""
        h = self._enter()
        try:
            return _text(_cache_name(h)) or ""
        finally:
            self._exit()

    _STATS_FIELDS = _public_fields(_Stats)

    def stats(self):
        """Every field of cache_stats_t, as a dict (health is the
        CACHE_HEALTH_* int; health() gives its name)."""
        st = _sized(_Stats)
        h = self._enter()
        try:
            rc = _cache_stats(h, st)
        finally:
            self._exit()
        _check(rc)
        return {f: getattr(st, f) for f in self._STATS_FIELDS}

    def health(self):
        """"healthy", "warning" or "critical"."""
        h = self._enter()
        try:
            level = _cache_health(h)
        finally:
            self._exit()
        if level < 0:
            raise CacheError(level)
        return _text(_cache_health_name(level)) or str(level)

    def alerts(self, max=CACHE_ALERTS_KEPT):
        """The most recent alerts, newest first, as dicts with "level"
        ("warning"/"critical"), "time_ms" and "message"."""
        count = _uint(max, "max", _U32_MAX)
        if count == 0:
            return []
        arr = (_Alert * count)()
        arr[0].struct_size = ctypes.sizeof(_Alert)
        h = self._enter()
        try:
            n = _cache_alerts(h, arr, count)
        finally:
            self._exit()
        result = []
        for a in arr[:min(n, count)]:
            result.append({
                "level": _text(_cache_alert_level_name(a.level))
                or str(a.level),
                "time_ms": a.time_ms,
                "message": _text(a.message),
            })
        return result


# ---- process-wide functions ------------------------------------------------


def version():
    """The version of the loaded library, e.g. "1.0.0"."""
    return _text(_cache_version())


def version_number():
    """The same as major * 10000 + minor * 100 + patch."""
    return _cache_version_number()


_HEALTH_REPORT_FIELDS = _public_fields(_HealthReport)
_MEMORY_FIELDS = _public_fields(_MemoryUsage)


def health_report():
    """cache_health_report() as a dict; "overall" is a name ("healthy",
    "warning", "critical"), the rest are counts and bytes."""
    r = _sized(_HealthReport)
    _check(_cache_health_report(r))
    out = {f: getattr(r, f) for f in _HEALTH_REPORT_FIELDS}
    out["overall"] = _text(_cache_health_name(r.overall)) or str(r.overall)
    return out


def _take_string(ptr):
    if not ptr:
        raise CacheError(CACHE_ENOMEM)
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        _cache_free_string(ptr)


def health_json():
    """cache_health_json(), parsed with json.loads."""
    return json.loads(_take_string(_cache_health_json()))


def metrics_prometheus():
    """cache_metrics_prometheus(): the Prometheus text exposition."""
    return _take_string(_cache_metrics_prometheus())


def memory_usage():
    """cache_memory_usage() as a dict (fields of a source missing from
    "sources" are 0)."""
    m = _sized(_MemoryUsage)
    _check(_cache_memory_usage(m))
    return {f: getattr(m, f) for f in _MEMORY_FIELDS}


def memory_is_high(threshold_mb):
    """True if the process's resident memory is above threshold_mb MiB."""
    rc = _cache_memory_is_high(_uint(threshold_mb, "threshold_mb"))
    if rc < 0:
        raise CacheError(rc)
    return bool(rc)


def memory_purge():
    """Returns the allocator's unused dirty pages to the system."""
    _check(_cache_memory_purge())


def set_process_memory_limit(mb):
    """Process-wide memory limit in MiB (0 = none); see cache.h."""
    _check(_cache_set_process_memory_limit(_uint(mb, "mb")))


def install_signal_handlers():
    """cache_install_signal_handlers(): shut every cache down on SIGTERM,
    SIGINT, SIGUSR1 and SIGUSR2, then re-raise the signal to the handler
    that was installed before (Python's own, if it had one)."""
    _check(_cache_install_signal_handlers())


def shutdown_all():
    """Closes every cache of the process (cache_shutdown_all()). Cache
    objects stay valid: their calls raise CacheError(CACHE_ECLOSED), and
    close() still releases them."""
    _cache_shutdown_all()
