"""Counts of the most frequent keys in bounded memory (unknown contract ids).

A plain counter grows with every distinct key: a million distinct unknown
contract ids cost hundreds of megabytes and a report as large. :class:`TopCounter`
keeps at most ``2 * keep`` keys; when it holds that many it drops all but the
``keep`` most counted (ties: the earliest seen stay). Until the first drop every
count and the distinct count are exact. After it, a key that keeps coming back is
still listed (its count is at least the count since it was last dropped), rare
keys come and go, and ``distinct`` may count a returning key twice, so it is an
upper bound; ``exact`` tells which case the numbers are in.
"""

from __future__ import annotations

from typing import Any, Final

DEFAULT_KEEP: Final = 1000


class TopCounter:
    __slots__ = ("counts", "distinct", "exact", "keep")

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self.keep = keep
        self.counts: dict[str, int] = {}
        self.distinct = 0
        self.exact = True

    def add(self, key: str) -> None:
        counts = self.counts
        count = counts.get(key)
        if count is not None:
            counts[key] = count + 1
            return
        self.distinct += 1
        if len(counts) >= 2 * self.keep:
            self._drop_the_least_counted()
        counts[key] = 1

    def _drop_the_least_counted(self) -> None:
        """Amortized O(log keep) per new key: one sort per ``keep`` new keys."""
        ranked = sorted(self.counts.items(), key=lambda item: -item[1])  # stable: first seen win
        self.counts = dict(ranked[: self.keep])
        self.exact = False

    def top(self, n: int) -> list[tuple[str, int]]:
        """The ``n`` most counted keys, most counted first (ties by key)."""
        return sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:n]

    def to_state(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "distinct": self.distinct, "exact": self.exact}

    @classmethod
    def from_state(cls, state: dict[str, Any], keep: int = DEFAULT_KEEP) -> TopCounter:
        """Also reads the plain ``{key: count}`` mapping of earlier snapshots."""
        counter = cls(keep)
        if "counts" in state and isinstance(state["counts"], dict):
            counter.counts = {str(k): int(v) for k, v in state["counts"].items()}
            counter.distinct = int(state["distinct"])
            counter.exact = bool(state["exact"])
        else:
            counter.counts = {str(k): int(v) for k, v in state.items()}
            counter.distinct = len(counter.counts)
        return counter


__all__ = ["DEFAULT_KEEP", "TopCounter"]
