"""boto3's DEFAULT credential chain against the mock cloud, as osmo-ctrl uses it:
AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (the IRSA env) → STS
AssumeRoleWithWebIdentity at AWS_ENDPOINT_URL_STS (CA: AWS_CA_BUNDLE) →
S3 at AWS_ENDPOINT_URL_S3 (MinIO, path-style). No key is given to boto3."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wihsdk  # noqa: E402

P = "aws"


def main():
    try:
        import boto3
        import botocore
    except ImportError as e:
        wihsdk.verdict(P, "unavailable", reason="boto3 is not installed in this python (%s): run ci/setup" % e)
    for v in ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_S3",
              "AWS_CA_BUNDLE"):
        wihsdk.env(v)
    with open(os.environ["AWS_WEB_IDENTITY_TOKEN_FILE"]) as f:
        wihsdk.remember(f.read().strip())
    session = boto3.session.Session()
    creds = session.get_credentials()
    if creds is None:
        wihsdk.verdict(P, "fail", error="boto3's default chain found no credentials")
    method = creds.method  # which provider of the chain answered
    frozen = creds.get_frozen_credentials()  # forces the STS call
    wihsdk.remember(frozen.secret_key)
    wihsdk.remember(frozen.token)
    expiry = getattr(creds, "_expiry_time", None)
    res = wihsdk.bucket_checks(wihsdk.s3_client(), "boto3")
    # who STS says we are: GetCallerIdentity, SigV4-signed by botocore with the session credentials
    caller = session.client("sts", region_name=session.region_name or "us-east-1").get_caller_identity()
    # a token for an untrusted ServiceAccount: boto3 surfaces STS's AccessDenied
    denied_sts = None
    bad = os.environ.get("WIH_UNTRUSTED_TOKEN_FILE")
    if bad:
        os.environ["AWS_WEB_IDENTITY_TOKEN_FILE"] = bad
        with open(bad) as f:
            wihsdk.remember(f.read().strip())
        try:
            boto3.session.Session().get_credentials().get_frozen_credentials()
            denied_sts = "ISSUED"
        except botocore.exceptions.ClientError as e:
            denied_sts = e.response.get("Error", {}).get("Code", "?")
    wihsdk.verdict(P, "ok", sdk="boto3 %s / botocore %s" % (boto3.__version__, botocore.__version__),
                   credential_method=method, access_key=frozen.access_key,
                   secret_fp=wihsdk.fingerprint(frozen.secret_key),
                   expiration=expiry.isoformat() if expiry else None, untrusted_sa=denied_sts,
                   caller_arn=caller.get("Arn"), caller_account=caller.get("Account"), **res)


wihsdk.guard(P, main)
