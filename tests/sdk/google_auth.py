"""google-auth's external_account (identity pool, file-sourced subject token)
against the mock Google STS and IAM Credentials: token_url = the mock's
/v1/token, service_account_impersonation_url = the mock's generateAccessToken
(CA through REQUESTS_CA_BUNDLE). First question: does google-auth's URL
validation admit a local endpoint at all? If it refuses, say so (status
"rejected", with its exact message) — the driver skips that provider."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wihsdk  # noqa: E402

P = "google"
# the credential config's audience: the generic workload identity provider,
# or (WIH_GOOGLE_AUDIENCE) GKE Fleet's identitynamespace:<pool>:<provider>
WIF = os.environ.get("WIH_GOOGLE_AUDIENCE") or (
    "//iam.googleapis.com/projects/000000000000/locations/global/workloadIdentityPools/wiharness/"
    "providers/kubernetes")


def info(token_file, email):
    return {
        "type": "external_account",
        "audience": WIF,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": wihsdk.env("WIH_GOOGLE_STS_URL"),
        "service_account_impersonation_url": "%s/v1/projects/-/serviceAccounts/%s:generateAccessToken" % (
            wihsdk.env("WIH_GOOGLE_IAM_URL"), email),
        "credential_source": {"file": token_file, "format": {"type": "text"}},
    }


def main():
    try:
        import google.auth
        import google.auth.exceptions
        import google.auth.transport.requests
        import google.auth.version
        from google.auth import identity_pool
    except ImportError as e:
        wihsdk.verdict(P, "unavailable", reason="google-auth is not installed in this python (%s): run ci/setup" % e)
    token_file, email = wihsdk.env("WIH_GOOGLE_TOKEN_FILE"), wihsdk.env("WIH_GOOGLE_SA")
    with open(token_file) as f:
        wihsdk.remember(f.read().strip())
    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    # identity_pool.Credentials.from_info is what load_credentials_from_dict
    # builds for an external_account file; the latter would then also ask
    # cloudresourcemanager.googleapis.com for the project id (a real network
    # call the harness must never make), so the credentials are built directly.
    # google-auth releases of 2022 validated token_url / the impersonation URL
    # against *.googleapis.com patterns right here (upstream PR #1031); the
    # check was dropped in 2023, so the pinned release admits a local endpoint.
    try:
        creds = identity_pool.Credentials.from_info(info(token_file, email), scopes=scopes)
    except (ValueError, google.auth.exceptions.GoogleAuthError) as e:
        msg = str(e)
        if "url" in msg.lower():
            wihsdk.verdict(P, "rejected", reason="google-auth %s refuses a local token_url/impersonation URL: %s" % (
                google.auth.version.__version__, wihsdk.scrub(msg)))
        raise
    req = google.auth.transport.requests.Request()
    creds.refresh(req)  # STS token exchange, then generateAccessToken
    wihsdk.remember(creds.token)
    res = {"sdk": "google-auth %s" % google.auth.version.__version__, "credentials": type(creds).__module__,
           "token_issued": creds.token.count(".") == 2, "token_fp": wihsdk.fingerprint(creds.token),
           "expiry": creds.expiry.isoformat() if creds.expiry else None,
           "audience": "fleet" if WIF.startswith("identitynamespace:") else "provider"}
    # who the token is for, as Google's tokeninfo says (POST keeps the token out of the URL)
    import requests
    ti = requests.post(wihsdk.env("WIH_GOOGLE_IAM_URL").rstrip("/") + "/tokeninfo",
                       data={"access_token": creds.token}, timeout=30)
    res["tokeninfo_email"] = ti.json().get("email") if ti.status_code == 200 else "HTTP %d" % ti.status_code
    try:
        import boto3  # noqa: F401
        c = wihsdk.minio_sts(creds.token)
        res["minio_access_key"] = c.get("AccessKeyId")
        res.update(wihsdk.bucket_checks(wihsdk.s3_client(c), "google-auth"))
    except ImportError:
        res["buckets"] = "skipped: boto3 not installed"
    # a service account the mock does not have → 404 NOT_FOUND at generateAccessToken
    try:
        bad = identity_pool.Credentials.from_info(info(token_file, "nobody@wiharness.iam.gserviceaccount.com"),
                                                  scopes=scopes)
        bad.refresh(req)
        res["unknown_sa"] = "ISSUED"
    except google.auth.exceptions.RefreshError as e:
        res["unknown_sa"] = "NOT_FOUND" if "NOT_FOUND" in str(e) else "other: " + wihsdk.scrub(e)[:200]
    # a token of an untrusted ServiceAccount → 403 PERMISSION_DENIED
    untrusted = os.environ.get("WIH_UNTRUSTED_TOKEN_FILE")
    if untrusted:
        with open(untrusted) as f:
            wihsdk.remember(f.read().strip())
        try:
            bad = identity_pool.Credentials.from_info(info(untrusted, email), scopes=scopes)
            bad.refresh(req)
            res["untrusted_sa"] = "ISSUED"
        except google.auth.exceptions.RefreshError as e:
            res["untrusted_sa"] = ("PERMISSION_DENIED" if "PERMISSION_DENIED" in str(e)
                                   else "other: " + wihsdk.scrub(e)[:200])
    wihsdk.verdict(P, "ok", **res)


wihsdk.guard(P, main)
