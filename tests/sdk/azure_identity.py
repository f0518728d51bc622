"""azure-identity's WorkloadIdentityCredential against the mock Entra, as
osmo-ctrl uses it: AZURE_TENANT_ID + AZURE_CLIENT_ID (the role's Entra client
id) + AZURE_FEDERATED_TOKEN_FILE + AZURE_AUTHORITY_HOST (the mock; CA through
REQUESTS_CA_BUNDLE, which requests honours). MSAL's instance discovery would
go to login.microsoftonline.com, so disable_instance_discovery=True.
The access token is what the mock mints for MinIO: exchanged at MinIO's STS
(docs/cloud.md), the credentials then write/read the buckets with boto3."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wihsdk  # noqa: E402

P = "azure"
SCOPE = "https://storage.azure.com/.default"


def main():
    try:
        import azure.identity
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import WorkloadIdentityCredential
    except ImportError as e:
        wihsdk.verdict(P, "unavailable", reason="azure-identity is not installed in this python (%s): run ci/setup" % e)
    for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
              "REQUESTS_CA_BUNDLE"):
        wihsdk.env(v)
    with open(os.environ["AZURE_FEDERATED_TOKEN_FILE"]) as f:
        wihsdk.remember(f.read().strip())
    # tenant, client id, token file and authority come from the env, as in a pod
    cred = WorkloadIdentityCredential(disable_instance_discovery=True)
    at = cred.get_token(SCOPE)
    wihsdk.remember(at.token)
    res = {"token_issued": at.token.count(".") == 2, "token_fp": wihsdk.fingerprint(at.token),
           "expires_on": at.expires_on}
    try:
        import boto3  # noqa: F401  (bucket access goes through MinIO's S3 API)
        creds = wihsdk.minio_sts(at.token)
        res["minio_access_key"] = creds.get("AccessKeyId")
        res.update(wihsdk.bucket_checks(wihsdk.s3_client(creds), "azure-identity"))
    except ImportError:
        res["buckets"] = "skipped: boto3 not installed"
    # an application the mock does not know: AADSTS700016 from the SDK
    wrong = "11111111-2222-3333-4444-555555555555"
    try:
        WorkloadIdentityCredential(client_id=wrong, disable_instance_discovery=True).get_token(SCOPE)
        res["wrong_client_id"] = "ISSUED"
    except ClientAuthenticationError as e:
        msg = str(e)
        res["wrong_client_id"] = "AADSTS700016" if "AADSTS700016" in msg else "other: " + wihsdk.scrub(msg)[:200]
    # a token of an untrusted ServiceAccount: no matching federated identity record
    bad = os.environ.get("WIH_UNTRUSTED_TOKEN_FILE")
    if bad:
        with open(bad) as f:
            wihsdk.remember(f.read().strip())
        try:
            WorkloadIdentityCredential(token_file_path=bad, disable_instance_discovery=True).get_token(SCOPE)
            res["untrusted_sa"] = "ISSUED"
        except ClientAuthenticationError as e:
            msg = str(e)
            res["untrusted_sa"] = "AADSTS70021" if "AADSTS70021" in msg else "other: " + wihsdk.scrub(msg)[:200]
    wihsdk.verdict(P, "ok", sdk="azure-identity %s" % azure.identity.__version__, **res)


wihsdk.guard(P, main)
