"""Scratch databases (named after this run's test database) and the local S3 server."""

import boto3
import psycopg
import pytest
from django.db import connection
from moto.server import ThreadedMotoServer

BUCKET = "appeal-backups"
KEYS = {"ACCESS_KEY_ID": "testing-key", "SECRET_ACCESS_KEY": "testing-secret"}


def _admin_conn():
    s = connection.settings_dict
    params = {k: v for k, v in {"host": s.get("HOST"), "port": s.get("PORT"), "user": s.get("USER"),
                                "password": s.get("PASSWORD")}.items() if v}
    return psycopg.connect(dbname="postgres", autocommit=True, **params)


def scratch_name(suffix: str) -> str:
    return f"{connection.settings_dict['NAME']}_{suffix}"


@pytest.fixture
def scratch_db():
    """fn(suffix) -> the name of a new, empty database; every one is dropped at the end."""
    made = []

    def make(suffix: str) -> str:
        name = scratch_name(suffix)
        with _admin_conn() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return name

    yield make
    with _admin_conn() as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def db_exists(name: str) -> bool:
    with _admin_conn() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def count_rows(dbname: str, table: str) -> int:
    s = connection.settings_dict
    params = {k: v for k, v in {"host": s.get("HOST"), "port": s.get("PORT"), "user": s.get("USER"),
                                "password": s.get("PASSWORD")}.items() if v}
    with psycopg.connect(dbname=dbname, **params) as conn:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def backup_s3(settings, s3_endpoint):
    """The backup bucket on the local S3 server; BACKUP["S3"] points at it."""
    settings.BACKUP = {**settings.BACKUP, "S3": {**settings.BACKUP["S3"], "ENDPOINT_URL": s3_endpoint, **KEYS}}
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id=KEYS["ACCESS_KEY_ID"],
                          aws_secret_access_key=KEYS["SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=BUCKET)
    yield client
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)
