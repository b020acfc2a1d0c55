"""Config in S3: `s3://<bucket>/<prefix>/<env>/<owner>/<repo>/<ref>/totem.yml` at every prefix level."""

from __future__ import annotations

import functools

from botocore.exceptions import BotoCoreError, ClientError

from orchestrator.config.providers.base import Location, Provider, ProviderUnavailable


class S3Provider(Provider):
    name = "s3"

    def __init__(self, bucket: str, prefix: str = "totem/config", endpoint_url: str | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url

    @functools.cached_property
    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url)

    def load(self, location: Location, level: tuple[str, ...], file_name: str) -> str | None:
        key = "/".join(part for part in (self.prefix, *level, file_name) if part)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()
        except (self.client.exceptions.NoSuchKey, self.client.exceptions.NoSuchBucket):
            return None
        except (BotoCoreError, ClientError) as exc:
            raise ProviderUnavailable(f"s3://{self.bucket}/{key}: {type(exc).__name__}") from None
