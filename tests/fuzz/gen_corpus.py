#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_api into tests/fuzz/corpus/.

Each seed is a 4-byte header and a list of operations, encoded as
fuzz_api.c decodes them (see configure() and LLVMFuzzerTestOneInput()).
Run it again after changing the input format; files named regress-* are
kept as they are.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

# header flags (second byte)
LRU, TTL_SMALL, TTL_NEVER, TTL_HUGE = 0x01, 0x02, 0x04, 0x06
CLOCK_END, BYTES, REENTER = 0x08, 0x10, 0x20
OTHER_POLICY = 0x40  # the header's third policy (TinyLFU), if it has one

LONG_KEY = 0xFF


def header(b0, flags=0, b2=0, b3=0):
    return bytes([b0, flags, b2, b3])


def one_shard(max_entries, flags=0, b2=0, b3=0):
    """max_entries 1..64 (modes 0/1)."""
    return header(max_entries - 1, flags, b2, b3)


# ttl bytes (low 3 bits select the kind)
TTL_DEFAULT = 0
def ttl_small(ms):  # 1..32
    return 2 | ((ms - 1) << 3)
TTL_NEVER_B = 5
TTL_HUGE_B = 6
TTL_END = 7 | (1 << 3)  # exactly the end of the clock


def set_(key, vlen, ttl=TTL_DEFAULT, seed=1):
    if vlen > 64:  # big values (modes 2/3): 0x80 flag, then 16 bits
        return bytes([0, key, 0x80, vlen & 0xFF, vlen >> 8, seed, ttl])
    return bytes([0, key, vlen, seed, ttl])


def fill(first, n, ttl_kind=1, step=0, vseed=3):
    """Sets keys first, first+1, ... (n of them, 1..16); ttl_kind 0 default,
    1 scattered, 2 decreasing, 3 every other one never."""
    return bytes([2, first | ((n - 1) << 4), ttl_kind | (step << 2), vseed])


def get(key, bufmode=3):  # %6: 0 NULL, 1 exact, 2 one short, 3 large,
    # 4 (byte >> 3) * 4 bytes, 5 empty
    return bytes([3, key, bufmode])


def contains(key):
    return bytes([5, key])


def delete(key):
    return bytes([6, key])


def clear():
    return bytes([7])


def cleanup(count=True):
    return bytes([8, 1 if count else 0])


def advance(ms):  # 0..255
    return bytes([9, ms])


def advance_huge(kind, arg=0):  # 0 +arg*1000+256, 1 2^(20+arg), 2 near end, 3 end
    return bytes([11, kind | (arg << 2)])


def stats(kind):  # 0 v1 size, 1 newer size, 2 too small, 3 NULL
    return bytes([12, kind])


def get_or_load(key, mode, vlen=8, bufmode=3, ttl=TTL_DEFAULT, seed=7):
    return bytes([13, key, bufmode, mode, vlen, seed, ttl])


def invalid(which, key=0):  # which: 0..15
    return bytes([14, (key << 4) | which])


def count():
    return bytes([15, 0])


def close():
    return bytes([15, 0xC1])


SEEDS = {
    "fifo-evict": one_shard(3) + b"".join(set_(k, 4 + k) for k in range(5))
    + b"".join(get(k) for k in range(5)),
    "lru-evict": one_shard(3, LRU) + set_(0, 3) + set_(1, 3) + set_(2, 3)
    + get(0) + set_(3, 3) + contains(0) + set_(4, 3)
    + b"".join(get(k) for k in range(5)),
    "ttl-expiry": one_shard(8, TTL_SMALL, 0, 9) + set_(0, 5) + set_(1, 5, ttl_small(3))
    + advance(2) + get(1) + advance(1) + get(1) + contains(0) + advance(7)
    + get(0) + delete(0),
    "ttl-saturation": one_shard(8, CLOCK_END, 0, 4) + set_(0, 1, TTL_HUGE_B)
    + set_(1, 1, TTL_END) + set_(2, 1, TTL_NEVER_B) + set_(3, 1, ttl_small(20))
    + advance_huge(2, 3) + get(0) + get(1) + get(3) + advance_huge(3) + get(2)
    + get(0) + cleanup(),
    "replace": one_shard(2) + set_(0, 10) + set_(1, 0) + set_(0, 60, seed=2)
    + set_(0, 0, seed=3) + set_(1, 33, seed=4) + get(0) + get(1) + count(),
    "get-buffers": one_shard(4) + set_(5, 20) + get(5, 0) + get(5, 1) + get(5, 2)
    + get(5, 3) + get(5, 28) + get(5, 5) + set_(6, 0) + get(6, 0)
    + get(6, 5),
    "delete-contains": one_shard(4) + set_(2, 4) + contains(2) + delete(2)
    + contains(2) + delete(2) + get(2) + set_(2, 4) + contains(2),
    "clear-cleanup": one_shard(16) + set_(0, 4, ttl_small(1)) + set_(1, 4, ttl_small(2))
    + set_(2, 4, ttl_small(30)) + set_(3, 4) + advance(3) + cleanup() + cleanup(False)
    + clear() + get(3),
    "expired-victim": one_shard(2) + set_(0, 4, ttl_small(2)) + set_(1, 4, TTL_NEVER_B)
    + advance(5) + set_(2, 4) + get(0) + get(1) + get(2),
    "max-bytes": one_shard(64, BYTES | LRU, 30) + set_(0, 60) + set_(1, 60) + set_(2, 60)
    + get(0) + set_(3, 60) + set_(LONG_KEY, 1) + set_(4, 10) + set_(0, 64),
    "many-shards": header(0xC0 | 4, BYTES | LRU, 200) + b"".join(
        set_(k, 16000, seed=k) for k in range(12)) + get(0) + get(11) + clear(),
    "unbounded": header(0x80, TTL_SMALL, 0, 50) + b"".join(
        set_(k, 8 * k) for k in range(16)) + set_(LONG_KEY, 100) + get(LONG_KEY)
    + advance(51) + cleanup(),
    "get-or-load": one_shard(4, LRU) + b"".join(
        get_or_load(k, k) for k in range(7)) + get_or_load(0, 0)
    + get_or_load(7, 0, 20, bufmode=2),
    "invalid-args": one_shard(4) + set_(1, 2) + b"".join(
        invalid(w, 1) for w in range(16)) + get(1),
    "stats": one_shard(4) + set_(1, 2) + get(1) + get(2) + b"".join(
        stats(k) for k in range(4)),
    "close": one_shard(4) + set_(0, 3) + set_(1, 3) + close() + get(0) + set_(2, 1)
    + contains(0) + delete(1) + clear() + cleanup() + stats(0) + stats(2)
    + get_or_load(3, 0) + invalid(1) + close(),
    "fill-heap": one_shard(12, LRU) + fill(0, 12, 1, 2) + advance(9) + delete(3)
    + delete(7) + get(5) + fill(8, 6, 2, 1) + advance(5) + cleanup() + fill(0, 16, 3)
    + advance(30) + fill(4, 8, 0),
    "other-policy": one_shard(4, OTHER_POLICY) + fill(0, 4, 0) + get(0) + get(0)
    + get(1) + fill(4, 8, 1) + get(0) + get(5) + set_(9, 10) + advance(20)
    + fill(0, 6, 2, 3),
    "other-policy-shards": header(0xC0 | 8, BYTES | OTHER_POLICY, 255) + b"".join(
        set_(k, 16000, seed=k) for k in range(16)) + get(3) + get(3) + get(15)
    + set_(0, 16000) + set_(1, 16000),
    "listener-reenter": one_shard(2, REENTER | TTL_SMALL, 0, 3) + set_(0, 2)
    + set_(0, 3) + set_(1, 3) + set_(2, 3) + advance(5) + get(1) + set_(3, 1)
    + delete(3) + clear() + set_(4, 1),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if not name.startswith("regress-"):
            os.remove(os.path.join(OUT, name))
    for name, data in SEEDS.items():
        assert len(data) < 1024, name
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
