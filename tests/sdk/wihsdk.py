"""Shared by the SDK checks (tests/sdk/*.py), run by tests/integration/test_sdk.c
with the venv python and the env of `wiharness env`.

Rules: each script prints exactly ONE JSON verdict line on stdout and never a
secret (tokens, keys): only sha256 fingerprints. Secrets the harness must scan
the logs for are written to $WIH_SECRETS_FILE (0600), never printed.
"""
import hashlib
import json
import os
import re
import sys
import traceback
import uuid

_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_secrets = []


def fingerprint(s):
    return "sha256:" + hashlib.sha256(s.encode()).hexdigest()[:12]


def remember(secret):
    """A secret the harness must not find in any log (kept in a 0600 file)."""
    if not secret:
        return
    _secrets.append(secret)
    path = os.environ.get("WIH_SECRETS_FILE")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(secret + "\n")


def scrub(text):
    """A message safe to print: no remembered secret, nothing JWT-shaped."""
    text = str(text)
    for s in _secrets:
        text = text.replace(s, "<" + fingerprint(s) + ">")
    return _JWT.sub("<jwt>", text)[:600]


def verdict(provider, status, **kw):
    """Print the one verdict line and exit 0 (the verdict carries the result)."""
    out = {"provider": provider, "status": status}
    out.update(kw)
    print(scrub(json.dumps(out, sort_keys=True)))
    sys.stdout.flush()
    sys.exit(0)


def guard(provider, fn):
    """Run fn; any unexpected exception becomes a 'fail' verdict (scrubbed)."""
    try:
        fn()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - a verdict, never a traceback with secrets
        tb = traceback.extract_tb(e.__traceback__)
        where = "%s:%d" % (os.path.basename(tb[-1].filename), tb[-1].lineno) if tb else "?"
        verdict(provider, "fail", error="%s: %s" % (type(e).__name__, scrub(e)), where=where)


def env(name):
    v = os.environ.get(name)
    if not v:
        verdict(os.environ.get("WIH_PROVIDER", "?"), "fail", error="the driver did not set %s" % name)
    return v


def minio_sts(access_token, duration=900):
    """Exchange a cloud access token (a JWT the mock cloud minted for MinIO) at
    MinIO's own STS AssumeRoleWithWebIdentity (docs/cloud.md) → S3 credentials."""
    import xml.etree.ElementTree as ET

    import requests

    r = requests.post(env("WIH_MINIO_URL") + "/", data={
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
        "WebIdentityToken": access_token, "DurationSeconds": str(duration)}, timeout=30)
    if r.status_code != 200:
        raise RuntimeError("MinIO STS answered HTTP %d: %s" % (r.status_code, scrub(r.text)))
    root = ET.fromstring(r.text)
    c = {}
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
            c[tag] = el.text
    remember(c.get("SecretAccessKey"))
    remember(c.get("SessionToken"))
    return c


def s3_client(creds=None):
    """boto3's S3 client on MinIO (AWS_ENDPOINT_URL_S3, path-style addressing);
    with creds, those static session credentials, else the default chain."""
    import boto3
    from botocore.config import Config

    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
    if creds is None:
        return boto3.session.Session().client("s3", config=cfg)
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"]).client("s3", config=cfg)


def bucket_checks(s3, who):
    """Write then read in the allowed bucket; write and read in the other one
    must be refused by MinIO with AccessDenied. Returns the verdict fields."""
    from botocore.exceptions import ClientError

    ok_b, no_b = env("WIH_BUCKET_OK"), env("WIH_BUCKET_DENIED")
    key = "sdk/%s/%s.txt" % (who, uuid.uuid4().hex[:8])
    body = ("written by %s\n" % who).encode()
    s3.put_object(Bucket=ok_b, Key=key, Body=body)
    got = s3.get_object(Bucket=ok_b, Key=key)["Body"].read()
    res = {"put_ok": True, "get_ok": got == body}
    for op in ("put", "get"):
        try:
            if op == "put":
                s3.put_object(Bucket=no_b, Key=key, Body=body)
            else:
                s3.get_object(Bucket=no_b, Key=key)
            res["denied_" + op] = "ALLOWED"
        except ClientError as e:
            res["denied_" + op] = e.response.get("Error", {}).get("Code", "?")
    return res
