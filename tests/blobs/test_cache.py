"""The read cache of a node stays within its bound, dropping the least recently used first."""

from __future__ import annotations

from pathlib import Path

from o16n.blobs.cache import ReadCache


def test_the_least_recently_used_copies_go_past_the_bound(tmp_path: Path) -> None:
    cache = ReadCache(tmp_path / "cache", max_bytes=10)
    cache.add("a" * 64, b"1111")
    cache.add("b" * 64, b"2222")
    assert cache.get("a" * 64) == b"1111"  # now b is the least recently used
    cache.add("c" * 64, b"3333")
    assert cache.get("b" * 64) is None
    assert cache.get("a" * 64) == b"1111" and cache.get("c" * 64) == b"3333"
    cache.add("d" * 64, b"too large for the cache")
    assert cache.get("d" * 64) is None

    reopened = ReadCache(tmp_path / "cache", max_bytes=10)  # a restart keeps the copies
    reopened.add("e" * 64, b"5555")
    assert sorted(path.name[0] for path in (tmp_path / "cache").iterdir()) == ["c", "e"]
