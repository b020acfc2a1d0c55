"""Split changes into ChangeBatches within Route53's limits.

Per request: at most 1,000 ResourceRecord elements and 32,000 characters over
all Value elements, where an UPSERT counts twice. A group (a record set and its
ownership TXT record) always goes in one batch so they change together.
"""

from __future__ import annotations

MAX_RECORDS = 1000
MAX_VALUE_CHARS = 32000


def _cost(change: dict) -> tuple[int, int]:
    records = change["ResourceRecordSet"].get("ResourceRecords", [])
    factor = 2 if change["Action"] == "UPSERT" else 1
    return factor * len(records), factor * sum(len(r["Value"]) for r in records)


def batches(
    groups: list[list[dict]], max_records: int = MAX_RECORDS, max_chars: int = MAX_VALUE_CHARS
) -> list[list[dict]]:
    result: list[list[dict]] = []
    current: list[dict] = []
    records = chars = 0
    for group in groups:
        group_records = sum(_cost(c)[0] for c in group)
        group_chars = sum(_cost(c)[1] for c in group)
        if group_records > max_records or group_chars > max_chars:
            raise ValueError("one record set is larger than a Route53 change batch allows")
        if current and (records + group_records > max_records or chars + group_chars > max_chars):
            result.append(current)
            current, records, chars = [], 0, 0
        current.extend(group)
        records += group_records
        chars += group_chars
    if current:
        result.append(current)
    return result
