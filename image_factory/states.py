"""The image factory's build statuses (the vocabulary itself is a contract: totem/contracts/build.py)."""

from __future__ import annotations

from totem.contracts.build import BuildStatus

STATUSES = tuple(BuildStatus)
FINISHED = (BuildStatus.SUCCEEDED, BuildStatus.FAILED, BuildStatus.SUPERSEDED)
