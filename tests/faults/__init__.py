"""Fault scenarios, shared by the fault tests (which assert on them) and `bench/faults.py` (which
prints them): each injects one fault into real services while a `tests.load.Load` runs, and
returns what the load saw and what was left stuck."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FaultOutcome:
    fault: str
    sent: int  # requests the load sent while the fault happened and was recovered from
    failed: int
    recovered_s: float  # seconds from the fault to the last failed or stalled answer (0 when none)
    stuck: list[str] = field(default_factory=list)  # what was left stuck afterwards (should be nothing)

    def line(self) -> str:
        stuck = "; ".join(self.stuck) or "nothing"
        return (
            f"{self.fault:<36} sent {self.sent:>6}  failed {self.failed:>5}  "
            f"recovered {self.recovered_s:>5.2f} s after the fault  stuck: {stuck}"
        )
