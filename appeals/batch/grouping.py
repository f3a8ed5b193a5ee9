"""Which open appeals look alike, pure: same incident kind and reason, ban times within one
window, a similar risk picture (Jaccard of the flagged log-analysis rules). No database here:
appeals.batch.selectors feeds it rows and signals."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Case:
    id: int
    kind: str
    reason: str
    banned_at: datetime
    rules: frozenset[str] = frozenset()


@dataclass
class Cluster:
    kind: str
    reason: str
    seed_rules: frozenset[str]
    cases: list[Case] = field(default_factory=list)

    @property
    def banned_from(self) -> datetime:
        return self.cases[0].banned_at

    @property
    def banned_to(self) -> datetime:
        return self.cases[-1].banned_at

    @property
    def rules(self) -> list[str]:
        return sorted(set().union(*(c.rules for c in self.cases)))


def normalise_reason(reason: str) -> str:
    return (reason or "").strip().lower() or "unknown"


def jaccard(a: frozenset | set, b: frozenset | set) -> float:
    """Overlap of two sets of flags; two empty sets (two clean logs) are alike."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def group_alike(cases: Iterable[Case], *, window: timedelta, jaccard_min: float, min_size: int,
                max_size: int) -> list[Cluster]:
    """Clusters of alike cases, largest first. Within one kind and reason, cases sorted by ban
    time are cut into runs no longer than `window` (from the run's first ban); within a run, each
    case joins the first cluster whose seed (its first case) it resembles, else seeds a new one."""
    by_key: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for case in cases:
        by_key[(case.kind, normalise_reason(case.reason))].append(case)
    out: list[Cluster] = []
    for (kind, reason), alike in by_key.items():
        alike.sort(key=lambda c: (c.banned_at, c.id))
        runs: list[list[Case]] = []
        for case in alike:
            if runs and case.banned_at - runs[-1][0].banned_at <= window and len(runs[-1]) < max_size:
                runs[-1].append(case)
            else:
                runs.append([case])
        for run in runs:
            clusters: list[Cluster] = []
            for case in run:
                home = next((c for c in clusters if jaccard(c.seed_rules, case.rules) >= jaccard_min), None)
                if home is None:
                    home = Cluster(kind=kind, reason=reason, seed_rules=case.rules)
                    clusters.append(home)
                home.cases.append(case)
            out.extend(c for c in clusters if len(c.cases) >= min_size)
    out.sort(key=lambda c: (-len(c.cases), c.banned_from))
    return out
