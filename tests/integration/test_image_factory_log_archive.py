"""Full build logs kept on disk or in S3 (the moto server on loopback, through boto3)."""

from __future__ import annotations

import pytest

from image_factory.log_archive import DiskArchive, S3Archive
from tests.images.image_factory.s3_bucket import ENDPOINT, s3_bucket


@pytest.fixture
def bucket(monkeypatch):
    with s3_bucket(monkeypatch) as name:
        yield name


def test_s3_archive_round_trip(bucket, tmp_path):
    archive = S3Archive(bucket, ENDPOINT)
    part = tmp_path / "b1.log.part"
    part.write_text("==> build\nStep 1/1 : FROM scratch\n")
    archive.save("b1", part)
    assert not part.exists()
    assert archive.load("b1") == "==> build\nStep 1/1 : FROM scratch\n"
    assert archive.load("b-missing") is None


def test_disk_archive_round_trip(tmp_path):
    archive = DiskArchive(tmp_path / "logs")
    part = tmp_path / "logs" / "b2.log.part"
    part.parent.mkdir()
    part.write_text("line\n")
    archive.save("b2", part)
    assert archive.load("b2") == "line\n" and archive.load("b3") is None
