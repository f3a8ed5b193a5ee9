"""The evidence bucket exists before anything is served (a deployment check, run at start-up).

With evidence on S3 (settings.STORAGES["evidence"] is django-storages' S3Storage), a missing
bucket is an Error naming the bucket and the endpoint, or is created when
settings.AWS_AUTO_CREATE_BUCKET is on. Run by `manage.py check --deploy` (scripts/serve.sh),
by gunicorn's start (gunicorn.conf.py) and by a Celery worker's start (config/celery.py), so
the first upload never finds the bucket missing.
"""

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core import checks
from django.core.files.storage import storages

TAG = "evidence_storage"


def _is_s3(storage) -> bool:
    return storage.__class__.__module__.startswith("storages.backends.s3")


def evidence_bucket_ensure() -> str:
    """'local', 'exists' or 'created'; raises RuntimeError with the reason otherwise."""
    # A throwaway instance: nothing (no connection) is left behind in a process that forks next.
    storage = storages.create_storage(settings.STORAGES["evidence"])
    if not _is_s3(storage):
        return "local"
    client = storage.connection.meta.client
    bucket, endpoint = storage.bucket_name, storage.endpoint_url or "AWS S3"
    try:
        client.head_bucket(Bucket=bucket)
        return "exists"
    except ClientError as exc:
        status = str(exc.response.get("Error", {}).get("Code", ""))
        if status not in ("404", "NoSuchBucket", "NotFound"):
            raise RuntimeError(f"evidence bucket {bucket!r} at {endpoint} cannot be used: {exc}") from exc
    except BotoCoreError as exc:
        raise RuntimeError(f"evidence storage at {endpoint} is unreachable: {exc}") from exc
    if not settings.AWS_AUTO_CREATE_BUCKET:
        raise RuntimeError(f"evidence bucket {bucket!r} does not exist at {endpoint}: create it, or set "
                           "AWS_AUTO_CREATE_BUCKET=true to have it created at start-up")
    region = storage.region_name or "us-east-1"
    extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        client.create_bucket(Bucket=bucket, **extra)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise RuntimeError(f"evidence bucket {bucket!r} could not be created at {endpoint}: {exc}") from exc
        client.head_bucket(Bucket=bucket)  # another process created it; ours to use only if we can reach it
    except BotoCoreError as exc:
        raise RuntimeError(f"evidence bucket {bucket!r} could not be created at {endpoint}: {exc}") from exc
    return "created"


def check_evidence_bucket(app_configs=None, **kwargs):
    try:
        evidence_bucket_ensure()
    except RuntimeError as exc:
        return [checks.Error(str(exc), id="appeals.E501")]
    return []
