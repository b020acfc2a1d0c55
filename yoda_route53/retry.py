"""Retry Route53 calls that were throttled, with capped exponential backoff and full jitter."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

log = logging.getLogger("yoda_route53.retry")
T = TypeVar("T")

RETRYABLE = {
    "Throttling",
    "ThrottlingException",
    "PriorRequestNotComplete",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "TooManyRequestsException",
}


def throttled(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    return error.get("Code") in RETRYABLE or "rate exceeded" in str(error.get("Message", "")).lower()


def with_backoff(
    call: Callable[[], T],
    attempts: int = 8,
    base: float = 0.2,
    cap: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClientError as exc:
            if not throttled(exc) or attempt == attempts:
                raise
            pause = random.uniform(0, min(cap, base * 2**attempt))
            log.info(
                "route53 throttled (%s); retry %d/%d in %.2fs",
                exc.response["Error"].get("Code"),
                attempt,
                attempts - 1,
                pause,
            )
            sleep(pause)
    raise AssertionError("unreachable")
