/// <reference types="node" />
/// <reference lib="esnext.disposable" />

/**
 * Node.js binding for libcache, an in-process key/value cache with bounded
 * memory, correct expiry and health reporting.
 *
 * The shared library is loaded from the LIBCACHE_LIBRARY environment variable
 * (a path) or as 'libcache.so.1' through the dynamic loader's search path.
 *
 * Keys and values are byte strings: strings are encoded as UTF-8, Buffers and
 * Uint8Arrays are used as they are. The library copies them in and out.
 *
 * 64-bit counters are returned as Numbers (exact up to 2^53 - 1).
 */

export type Key = string | Uint8Array;
export type Value = string | Uint8Array;
export type Policy = 'tinylfu' | 'lru' | 'fifo';
export type HealthLevel = 'healthy' | 'warning' | 'critical';
export type AlertLevel = 'warning' | 'critical';

export type StatusCode =
  | 'CACHE_OK'
  | 'CACHE_NOT_FOUND'
  | 'CACHE_EINVAL'
  | 'CACHE_ENOMEM'
  | 'CACHE_ECLOSED'
  | 'CACHE_ETOOSMALL'
  | 'CACHE_ETOOBIG'
  | 'CACHE_EBUSY'
  | 'CACHE_EIO'
  | 'CACHE_UNKNOWN';

/** The library's status values (CACHE_STATUS_MAP). */
export declare const Status: Readonly<{
  OK: 0;
  NOT_FOUND: 1;
  EINVAL: -1;
  ENOMEM: -2;
  ECLOSED: -3;
  ETOOSMALL: -4;
  ETOOBIG: -5;
  EBUSY: -6;
  EIO: -7;
}>;

/** Longest key in bytes (CACHE_KEY_MAX). */
export declare const KEY_MAX: number;

/** The path or name the shared library was loaded from. */
export declare const libraryPath: string;

export interface CacheOptions {
  /** Name for reports (health, metrics). Default ''. */
  name?: string;
  /** Default time to live of an entry in ms; 0 (default) or Infinity = no expiry. */
  ttl?: number | bigint;
  /** Bound on the number of entries (max_entries); 0 (default) = unbounded. */
  maxSize?: number | bigint;
  /** Bound on the bytes the entries occupy; 0 (default) = unbounded. */
  maxBytes?: number | bigint;
  /** Period of the background expiry pass in ms; 0 (default) = none. */
  cleanupInterval?: number | bigint;
  /** Retries of a failed background pass. Default 3. */
  maxRetries?: number;
  /** Base of the retry backoff in ms (retryBaseMs * 2^n). Default 1000. */
  retryBaseMs?: number;
  /** Footprint in MiB above which the cache raises alerts and sheds; 0 (default) = off. */
  memoryThreshold?: number | bigint;
  /** Eviction policy. Default 'tinylfu' (W-TinyLFU). */
  policy?: Policy;
}

export interface CacheStats {
  /** Entries held now. */
  entries: number;
  /** Bytes the entries occupy (key, value and header, as allocated). */
  bytes: number;
  /** Gets that found a live entry. */
  hits: number;
  /** Gets that did not; hits + misses = gets. */
  misses: number;
  /** Successful sets. */
  sets: number;
  /** Entries removed by delete(). */
  deletes: number;
  /** Entries removed to respect the bounds. */
  evictions: number;
  /** Expired entries removed (by any path). */
  expirations: number;
  /** Expiry passes completed. */
  cleanupRuns: number;
  /** Expiry passes that failed. */
  cleanupErrors: number;
  /** The entry bound in force; 0 = unbounded. */
  maxEntries: number;
  /** The byte bound in force; 0 = unbounded. */
  maxBytes: number;
  /** Warning alerts raised, ever. */
  alertsWarning: number;
  /** Critical alerts raised, ever. */
  alertsCritical: number;
  /** Bytes of the cache's own tables. */
  tableBytes: number;
  /** Resident bytes of the cache's allocator arena (0 with the libc build). */
  arenaResidentBytes: number;
  /** Evictions made to bring memory down (included in evictions). */
  memoryEvictions: number;
  /** Health level now: 0 healthy, 1 warning, 2 critical. */
  health: 0 | 1 | 2;
  /** The same as a name. */
  healthName: HealthLevel;
}

export interface CacheAlert {
  level: AlertLevel;
  /** The cache's clock (ms) when the alert was raised. */
  timeMs: number;
  message: string;
}

export interface HealthReport {
  /** The worst health of any open cache. */
  overall: HealthLevel;
  /** Open caches. */
  caches: number;
  healthy: number;
  warning: number;
  critical: number;
  /** Footprints of the open caches added up. */
  totalBytes: number;
  /** The process's resident set; 0 if unknown. */
  rssBytes: number;
}

export interface MemoryUsage {
  /** Which sources could be read. */
  sources: { proc: boolean; cgroup: boolean; allocator: boolean };
  rssBytes: number;
  rssPeakBytes: number;
  vmSizeBytes: number;
  dataBytes: number;
  cgroupUsageBytes: number;
  /** Infinity when the cgroup has no limit. */
  cgroupLimitBytes: number;
  jeAllocated: number;
  jeActive: number;
  jeResident: number;
  jeMapped: number;
  jeRetained: number;
  purgeReleasedBytes: number;
}

/** The health document of cache_health_json(), parsed (snake_case as in C). */
export interface HealthJson {
  overall: HealthLevel;
  cache_count: number;
  total_bytes: number;
  rss_bytes: number;
  health_window_ms: number;
  caches: Array<{
    name: string;
    id: number;
    policy: Policy;
    health: HealthLevel;
    /** cache_stats_t fields by their C names (entries, bytes, hits, ...). */
    stats: Record<string, number>;
    alerts: Array<{ level: AlertLevel; message: string; [field: string]: unknown }>;
    [field: string]: unknown;
  }>;
  [field: string]: unknown;
}

/**
 * Produces the value for a key on a miss of getOrLoad(). Must return
 * synchronously; a thrown exception is passed on to the caller of
 * getOrLoad() and nothing is cached.
 */
export type Loader = (key: Buffer) => Value;

/** An error status of the library. */
export declare class CacheError extends Error {
  constructor(status: number, message?: string);
  readonly name: 'CacheError';
  /** The negative CACHE_E* status, e.g. -1. */
  readonly status: number;
  /** Its symbolic name, e.g. 'CACHE_EINVAL'. */
  readonly code: StatusCode;
}

export declare class Cache implements Disposable {
  /** Creates a cache from the library defaults overridden by options. */
  constructor(options?: CacheOptions);

  /** proposalCache: 10 min TTL, 500 entries, 60 s cleanup, 3 retries, 50 MB. */
  static proposal(overrides?: CacheOptions): Cache;
  /** userCache: 30 min TTL, 200 entries, 60 s cleanup, 3 retries, 30 MB. */
  static user(overrides?: CacheOptions): Cache;
  /** marketDataCache: 60 min TTL, 100 entries, 60 s cleanup, 3 retries, 20 MB. */
  static marketData(overrides?: CacheOptions): Cache;
  /** calculationCache: 5 min TTL, 1000 entries, 60 s cleanup, 3 retries, 100 MB. */
  static calculation(overrides?: CacheOptions): Cache;

  /** The name given at creation ('' if none). */
  readonly name: string;
  /** True once close() has been called. */
  readonly closed: boolean;
  /** Entries held (expired ones not yet removed included); 0 once closed. */
  readonly size: number;

  /** A copy of the value under key, or undefined on a miss. */
  get(key: Key): Buffer | undefined;
  /** The value under key decoded as UTF-8, or undefined on a miss. */
  getString(key: Key): string | undefined;
  /**
   * Stores value under key. ttlMs: omitted or 0 = the cache's default,
   * Infinity = never expires.
   */
  set(key: Key, value: Value, ttlMs?: number | bigint): this;
  /** Removes the entry; true if a live one was removed. */
  delete(key: Key): boolean;
  /** True if a live entry exists (counts neither a hit nor a miss). */
  has(key: Key): boolean;
  /** Removes every entry. */
  clear(): void;
  /** Statistics, in constant time. */
  stats(): CacheStats;
  /** The cache's health now. */
  health(): HealthLevel;
  /** The most recent alerts (up to 64), newest first. */
  alerts(): CacheAlert[];
  /** Runs one expiry pass now; returns the number of expired entries removed. */
  cleanup(): number;
  /**
   * The value under key; on a miss, loader(key) produces it, it is stored
   * (with ttlMs as in set()) and returned. Concurrent callers on other threads
   * of the process share one load.
   */
  getOrLoad(key: Key, loader: Loader, ttlMs?: number | bigint): Buffer;
  /** getOrLoad() decoded as UTF-8. */
  getOrLoadString(key: Key, loader: Loader, ttlMs?: number | bigint): string;
  /** Frees every entry and releases the handle. Idempotent. */
  close(): void;
  /** close(), for `using cache = new Cache(...)`. */
  [Symbol.dispose](): void;
}

/** The version of the loaded library, e.g. '1.0.0'. */
export declare function version(): string;
/** The version as major * 10000 + minor * 100 + patch. */
export declare function versionNumber(): number;
/** The health of every open cache of the process, summed up. */
export declare function healthReport(): HealthReport;
/** The health document of every open cache (names, health, stats, alerts). */
export declare function healthJson(): HealthJson;
/** The same document as the unparsed JSON text. */
export declare function healthJsonText(): string;
/** Every open cache's statistics in the Prometheus text exposition format. */
export declare function metricsPrometheus(): string;
/** The process's memory figures. */
export declare function memoryUsage(): MemoryUsage;
/** True if the process's resident memory is above thresholdMb MiB. */
export declare function memoryIsHigh(thresholdMb: number | bigint): boolean;
/** Returns the allocator's unused dirty pages to the operating system. */
export declare function memoryPurge(): void;
/** Process memory limit in MiB above which every cache sheds entries; 0 = none. */
export declare function setProcessMemoryLimit(mb: number | bigint): void;
/** Closes every cache of the process; their later calls throw CACHE_ECLOSED. */
export declare function shutdownAll(): void;
/** The symbolic name of a status, e.g. 'CACHE_EINVAL'. */
export declare function errName(status: number): StatusCode;
/** The message of a status, e.g. 'invalid argument'. */
export declare function strerror(status: number): string;
