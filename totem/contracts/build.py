"""Build statuses, as the image factory stores and serves them and the orchestrator reads them
(its missing-hook check asks the image factory about a commit's build).

A StrEnum: a member is its string, so records hold, compare and serialise the plain names.
A build's steps use the same words (running, then succeeded or failed).
"""

from __future__ import annotations

from enum import StrEnum


class BuildStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a newer commit of the same ref was queued first
