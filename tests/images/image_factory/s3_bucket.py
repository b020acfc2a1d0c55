"""A throwaway S3 bucket on the moto server (loopback), emptied and deleted afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import boto3

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5001")
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextlib.contextmanager
def s3_bucket(monkeypatch) -> Iterator[str]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, os.environ.get(name, value))
    s3 = boto3.client("s3", endpoint_url=ENDPOINT)
    name = f"totem-build-logs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
        s3.delete_bucket(Bucket=name)
