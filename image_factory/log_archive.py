"""Where full build logs are kept once a build ends: a local directory, or S3 through boto3."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class LogArchive(Protocol):
    def save(self, build_id: str, path: Path) -> None: ...
    def load(self, build_id: str) -> str | None: ...


class DiskArchive:
    def __init__(self, directory: Path):
        self.directory = directory

    def _path(self, build_id: str) -> Path:
        return self.directory / f"{build_id}.log"

    def save(self, build_id: str, path: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if path != self._path(build_id):
            path.replace(self._path(build_id))

    def load(self, build_id: str) -> str | None:
        try:
            return self._path(build_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None


class S3Archive:
    def __init__(self, bucket: str, endpoint_url: str | None = None, prefix: str = "build-logs/"):
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def save(self, build_id: str, path: Path) -> None:
        self.client.upload_file(
            str(path),
            self.bucket,
            f"{self.prefix}{build_id}.log",
            ExtraArgs={"ContentType": "text/plain; charset=utf-8"},
        )
        path.unlink(missing_ok=True)

    def load(self, build_id: str) -> str | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}{build_id}.log")["Body"]
        except self.client.exceptions.NoSuchKey:
            return None
        return body.read().decode("utf-8", "replace")


def archive_for(config, settings) -> LogArchive:
    if config.log_bucket:
        return S3Archive(config.log_bucket, settings.aws_endpoint_url)
    return DiskArchive(config.workdir / "logs")
