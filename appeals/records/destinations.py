"""Where snapshots go: a local folder or an S3 bucket (`s3://bucket/prefix`).

A snapshot is a folder `<destination>/snapshot-<UTC time>/` holding `db.dump` (pg_dump custom
format), `objects/<storage name>` (every evidence object) and `manifest.json`, written last: a
folder without a manifest is an unfinished snapshot and is never listed or restored.
"""

import shutil
from pathlib import Path, PurePosixPath

from django.conf import settings

MANIFEST = "manifest.json"
SNAPSHOT_PREFIX = "snapshot-"


class DestinationError(Exception):
    pass


def safe_relative(name: str) -> str:
    """A storage name as a relative POSIX path that cannot climb out of the snapshot."""
    path = PurePosixPath(name)
    if path.is_absolute() or not name or any(part in ("..", "") for part in path.parts) or "\\" in name:
        raise DestinationError(f"unsafe object name in snapshot: {name!r}")
    return str(path)


class LocalDestination:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.url = str(self.root)

    def __str__(self) -> str:
        return self.url

    def snapshot_url(self, name: str) -> str:
        return str(self.root / name)

    def put_tree(self, staging: Path, name: str, *, move: bool = False) -> str:
        """Copy (or move) a finished staging folder in as `name`; the manifest lands last."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / name
        if move and staging.stat().st_dev == self.root.stat().st_dev:
            staging.rename(target)
            return str(target)
        partial = self.root / f".{name}.partial"
        shutil.copytree(staging, partial, ignore=shutil.ignore_patterns(MANIFEST))
        shutil.copy2(staging / MANIFEST, partial / MANIFEST)
        partial.rename(target)
        return str(target)

    def snapshots(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.name.startswith(SNAPSHOT_PREFIX) and (p / MANIFEST).is_file())


class LocalSnapshot:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.url = str(self.path)

    def exists(self, rel: str) -> bool:
        return (self.path / rel).is_file()

    def open(self, rel: str):
        return open(self.path / safe_relative(rel), "rb")

    def fetch(self, rel: str, local: Path) -> Path:
        return self.path / rel  # already local: read in place


def s3_client():
    import boto3
    from botocore.config import Config

    conf = settings.BACKUP["S3"]
    return boto3.client(
        "s3", endpoint_url=conf["ENDPOINT_URL"] or None, region_name=conf["REGION"],
        aws_access_key_id=conf["ACCESS_KEY_ID"] or None, aws_secret_access_key=conf["SECRET_ACCESS_KEY"] or None,
        config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required",
                      signature_version="s3v4", s3={"addressing_style": conf["ADDRESSING_STYLE"]},
                      max_pool_connections=max(10, settings.BACKUP["WORKERS"] * 2)),
    )


def _split_s3(url: str) -> tuple[str, str]:
    rest = url[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise DestinationError(f"no bucket in {url!r}")
    return bucket, prefix.strip("/")


class S3Destination:
    def __init__(self, url: str):
        self.bucket, self.prefix = _split_s3(url)
        self.url = url.rstrip("/")
        self.client = s3_client()

    def __str__(self) -> str:
        return self.url

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def snapshot_url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self._key(name)}"

    def put_tree(self, staging: Path, name: str, *, move: bool = False) -> str:
        from concurrent.futures import ThreadPoolExecutor

        files = [p for p in staging.rglob("*") if p.is_file() and p.relative_to(staging).as_posix() != MANIFEST]

        def upload(path: Path):
            self.client.upload_file(str(path), self.bucket, self._key(name, path.relative_to(staging).as_posix()))

        with ThreadPoolExecutor(max_workers=settings.BACKUP["WORKERS"]) as pool:
            list(pool.map(upload, files))
        self.client.upload_file(str(staging / MANIFEST), self.bucket, self._key(name, MANIFEST))
        return self.snapshot_url(name)

    def snapshots(self) -> list[str]:
        names = set()
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = self._key("") + "/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(prefix):].strip("/")
                if name.startswith(SNAPSHOT_PREFIX):
                    names.add(name)
        done = []
        for name in sorted(names):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self._key(name, MANIFEST))
                done.append(name)
            except self.client.exceptions.ClientError:
                continue
        return done


class S3Snapshot:
    def __init__(self, url: str):
        self.bucket, self.prefix = _split_s3(url)
        self.url = url.rstrip("/")
        self.client = s3_client()

    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{safe_relative(rel)}" if self.prefix else safe_relative(rel)

    def exists(self, rel: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(rel))
            return True
        except self.client.exceptions.ClientError:
            return False

    def open(self, rel: str):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(rel))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(rel) from None

    def fetch(self, rel: str, local: Path) -> Path:
        local.parent.mkdir(parents=True, exist_ok=True)
        self.client.download_file(self.bucket, self._key(rel), str(local))
        return local


def destination(url: str):
    return S3Destination(url) if url.startswith("s3://") else LocalDestination(url)


def snapshot_source(url: str):
    return S3Snapshot(url) if url.startswith("s3://") else LocalSnapshot(url)
