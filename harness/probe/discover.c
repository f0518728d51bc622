/* Credential discovery in each SDK's default-chain order, pure: env through a
 * lookup function, files through a reader. The chains (docs/probe.md cites
 * the upstream code):
 *   boto3/botocore create_credential_resolver: EnvProvider (AWS_ACCESS_KEY_ID
 *     non-empty → static; an empty AWS_SECRET_ACCESS_KEY is a
 *     PartialCredentialsError, not a fall-through), AssumeRoleProvider (config
 *     file), AssumeRoleWithWebIdentityProvider (AWS_WEB_IDENTITY_TOKEN_FILE,
 *     then AWS_ROLE_ARN required), …, ContainerProvider, IMDS.
 *   azure-identity DefaultAzureCredential: EnvironmentCredential (client
 *     secret, certificate, username/password — each set when every variable
 *     "is not None", so an empty value counts), WorkloadIdentityCredential
 *     (AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE all
 *     non-empty), ManagedIdentityCredential, developer tools.
 *   google-auth default(): GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC
 *     file, GAE, the GCE metadata server. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wiharness/probe.h"

typedef struct dctx {
    bool go; /* aws-sdk-go-v2's env chain instead of boto3's */
    probe_getenv_fn getenv_fn;
    probe_readfile_fn readfile;
    void *ctx;
    probe_cred *c;
} dctx;

const char *probe_source_name(probe_source s)
{
    switch (s) {
    case PROBE_SRC_STATIC_ENV: return "static-env";
    case PROBE_SRC_WEB_IDENTITY: return "web-identity";
    case PROBE_SRC_CLIENT_SECRET: return "client-secret";
    case PROBE_SRC_WORKLOAD_IDENTITY: return "workload-identity";
    case PROBE_SRC_EXTERNAL_ACCOUNT: return "external-account";
    default: return "none";
    }
}

void probe_cred_clear(probe_cred *c)
{
    if (!c) return;
    char **all[] = {&c->detail, &c->why, &c->error, &c->fingerprint, &c->access_key, &c->secret_key,
                    &c->session_token, &c->role_arn, &c->session_name, &c->sts_endpoint, &c->s3_endpoint,
                    &c->region, &c->ca_file, &c->client_id, &c->tenant_id, &c->authority, &c->client_secret,
                    &c->audience, &c->subject_token_type, &c->token_url, &c->impersonation_url, &c->gsa,
                    &c->token_format_field, &c->token_file};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i]) wih_free_secret(*all[i]);
    }
    cJSON_Delete(c->env);
    memset(c, 0, sizeof *c);
}

/* A variable that holds a secret: shown only as a fingerprint. */
static bool secret_name(const char *n)
{
    size_t l = strlen(n);
    return strstr(n, "SECRET") || strstr(n, "PASSWORD") || (l > 6 && !strcmp(n + l - 6, "_TOKEN"));
}

/* Look a variable up and record it in c->env (NULL = unset; "" = set empty). */
static const char *env(dctx *d, const char *name)
{
    const char *v = d->getenv_fn(d->ctx, name);
    if (v && !cJSON_GetObjectItemCaseSensitive(d->c->env, name)) {
        if (secret_name(name) || !strncmp(v, "eyJ", 3)) {
            char *fp = wih_fingerprint(v);
            cJSON_AddStringToObject(d->c->env, name, fp);
            free(fp);
        } else {
            cJSON_AddStringToObject(d->c->env, name, v);
        }
    }
    return v;
}

static bool set(const char *v) { return v && *v; }

static char *dup_set(const char *v) { return set(v) ? wih_strdup(v) : NULL; }

/* The first non-empty of the variables, or NULL. */
static const char *first(dctx *d, const char *const *names)
{
    for (; *names; names++) {
        const char *v = env(d, *names);
        if (set(v)) return v;
    }
    return NULL;
}

static void decided(probe_cred *c, probe_source s, const char *detail, const char *why)
{
    c->source = s;
    c->detail = wih_strdup(detail);
    c->why = wih_strdup(why);
}

/* ------------------------------------------------------------------ AWS */
static void aws_endpoints(dctx *d)
{
    probe_cred *c = d->c;
    const char *ign = env(d, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    bool ignore = ign && !strcasecmp(ign, "true");
    const char *sts[] = {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", NULL};
    const char *s3[] = {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", NULL};
    /* botocore's region variable is AWS_DEFAULT_REGION only (configprovider.py);
     * aws-sdk-go-v2 reads AWS_REGION, then AWS_DEFAULT_REGION */
    const char *reg_go[] = {"AWS_REGION", "AWS_DEFAULT_REGION", NULL}, *reg_py[] = {"AWS_DEFAULT_REGION", NULL};
    const char *const *reg = d->go ? reg_go : reg_py;
    const char *ca[] = {"AWS_CA_BUNDLE", "SSL_CERT_FILE", NULL};
    c->sts_endpoint = ignore ? NULL : dup_set(first(d, sts));
    c->s3_endpoint = ignore ? NULL : dup_set(first(d, s3));
    const char *r = first(d, reg);
    c->region = wih_strdup(r ? r : "us-east-1");
    c->ca_file = dup_set(first(d, ca));
}

/* aws-sdk-go-v2 config.NewEnvConfig: AWS_ACCESS_KEY_ID|AWS_ACCESS_KEY and
 * AWS_SECRET_ACCESS_KEY|AWS_SECRET_KEY, used only when both are there
 * (Credentials.HasKeys), session token AWS_SESSION_TOKEN. */
static bool aws_static_go(dctx *d)
{
    probe_cred *c = d->c;
    const char *akn[] = {"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", NULL};
    const char *skn[] = {"AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", NULL};
    const char *ak = first(d, akn), *sk = first(d, skn);
    if (!ak || !sk) return false;
    const char *st = env(d, "AWS_SESSION_TOKEN");
    decided(c, PROBE_SRC_STATIC_ENV, set(st) ? "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY + AWS_SESSION_TOKEN"
                                             : "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY",
            "aws-sdk-go-v2 resolveCredentialChain: static keys in the environment (HasKeys) come before web identity");
    c->access_key = wih_strdup(ak);
    c->secret_key = wih_strdup(sk);
    c->session_token = dup_set(st);
    c->fingerprint = wih_fingerprint(sk);
    return true;
}

static void aws_chain(dctx *d)
{
    probe_cred *c = d->c;
    c->cloud = "aws";
    aws_endpoints(d);
    if (d->go && aws_static_go(d)) return;
    const char *ak = d->go ? NULL : env(d, "AWS_ACCESS_KEY_ID");
    if (set(ak)) {
        const char *sk = env(d, "AWS_SECRET_ACCESS_KEY");
        const char *sec = env(d, "AWS_SECURITY_TOKEN"), *ses = env(d, "AWS_SESSION_TOKEN"); /* botocore's order */
        const char *st = set(sec) ? sec : set(ses) ? ses : NULL;
        decided(c, PROBE_SRC_STATIC_ENV,
                !st ? "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY"
                : st == sec ? "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY + AWS_SECURITY_TOKEN"
                            : "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY + AWS_SESSION_TOKEN",
                "boto3 EnvProvider: static keys in the environment come first in the chain, before web identity");
        c->access_key = wih_strdup(ak);
        c->secret_key = dup_set(sk);
        c->session_token = dup_set(st);
        if (!set(sk)) c->error = wih_strdup("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not "
                                            "(botocore raises PartialCredentialsError)");
        else c->fingerprint = wih_fingerprint(sk);
        return;
    }
    const char *tf = env(d, "AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *arn = env(d, "AWS_ROLE_ARN");
    const char *sess = env(d, "AWS_ROLE_SESSION_NAME");
    if (set(tf)) {
        decided(c, PROBE_SRC_WEB_IDENTITY, "AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE",
                d->go ? "aws-sdk-go-v2 resolveCredentialChain: no complete static keys in the environment, "
                        "AWS_WEB_IDENTITY_TOKEN_FILE is set"
                      : "boto3 AssumeRoleWithWebIdentityProvider: no static keys in the environment, a web identity "
                        "token file is configured");
        c->token_file = wih_strdup(tf);
        c->role_arn = dup_set(arn);
        c->session_name = dup_set(sess);
        if (!set(arn)) c->error = wih_strdup(d->go ? "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not "
                                                     "(aws-sdk-go-v2: role ARN is not set)"
                                                   : "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not "
                                                     "(botocore raises InvalidConfigError: no role ARN configured)");
        return;
    }
    const char *full = env(d, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *rel = env(d, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (set(full) || set(rel)) {
        decided(c, PROBE_SRC_NONE, set(full) ? "AWS_CONTAINER_CREDENTIALS_FULL_URI" : "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "boto3 ContainerProvider (EKS Pod Identity / ECS)");
        c->error = wih_strdup("container credentials (EKS Pod Identity, ECS) are not implemented by the probe");
        return;
    }
    decided(c, PROBE_SRC_NONE, set(arn) ? "AWS_ROLE_ARN without AWS_WEB_IDENTITY_TOKEN_FILE" : "no AWS credential variables",
            "boto3 finds no static keys and no web identity token file; it would ask the EC2 instance metadata "
            "service next, which the probe never does");
}

/* ---------------------------------------------------------------- Azure */
static bool all_present(dctx *d, const char *const *names) /* "is not None" */
{
    bool ok = true;
    for (; *names; names++) ok = env(d, *names) != NULL && ok;
    return ok;
}

static void azure_common(dctx *d)
{
    probe_cred *c = d->c;
    const char *ca[] = {"REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", NULL};
    const char *s3[] = {"WIH_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", NULL};
    c->ca_file = dup_set(first(d, ca));
    c->s3_endpoint = dup_set(first(d, s3));
    const char *a = env(d, "AZURE_AUTHORITY_HOST");
    c->authority = wih_strdup(set(a) ? a : "https://login.microsoftonline.com/");
}

static void azure_chain(dctx *d)
{
    probe_cred *c = d->c;
    c->cloud = "azure";
    azure_common(d);
    const char *secret[] = {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", NULL};
    const char *cert[] = {"AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_TENANT_ID", NULL};
    const char *user[] = {"AZURE_CLIENT_ID", "AZURE_USERNAME", "AZURE_PASSWORD", NULL};
    const char *why_env = "DefaultAzureCredential: EnvironmentCredential comes before WorkloadIdentityCredential";
    if (all_present(d, secret)) {
        decided(c, PROBE_SRC_CLIENT_SECRET, "AZURE_CLIENT_SECRET + AZURE_CLIENT_ID + AZURE_TENANT_ID", why_env);
        c->client_id = wih_strdup(env(d, "AZURE_CLIENT_ID"));
        c->tenant_id = wih_strdup(env(d, "AZURE_TENANT_ID"));
        c->client_secret = wih_strdup(env(d, "AZURE_CLIENT_SECRET"));
        c->fingerprint = wih_fingerprint(c->client_secret);
        return;
    }
    if (all_present(d, cert) || all_present(d, user)) {
        bool is_cert = all_present(d, cert);
        decided(c, PROBE_SRC_CLIENT_SECRET,
                is_cert ? "AZURE_CLIENT_CERTIFICATE_PATH + AZURE_CLIENT_ID + AZURE_TENANT_ID"
                        : "AZURE_USERNAME + AZURE_PASSWORD + AZURE_CLIENT_ID",
                why_env);
        c->client_id = wih_strdup(env(d, "AZURE_CLIENT_ID"));
        c->error = wih_asprintf("EnvironmentCredential with a %s is not implemented by the probe",
                                is_cert ? "certificate" : "username and password");
        return;
    }
    const char *wi[] = {"AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", NULL};
    bool all = true;
    for (const char *const *n = wi; *n; n++) all = set(env(d, *n)) && all;
    const char *cid = env(d, "AZURE_CLIENT_ID");
    if (all) {
        decided(c, PROBE_SRC_WORKLOAD_IDENTITY,
                "AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID + AZURE_AUTHORITY_HOST",
                "DefaultAzureCredential: EnvironmentCredential is not configured; the workload identity "
                "webhook's variables are set");
        c->token_file = wih_strdup(env(d, "AZURE_FEDERATED_TOKEN_FILE"));
        c->tenant_id = wih_strdup(env(d, "AZURE_TENANT_ID"));
        c->client_id = dup_set(cid);
        if (!set(cid)) c->error = wih_strdup("AZURE_CLIENT_ID is not set (WorkloadIdentityCredential raises "
                                             "ValueError: 'client_id' is required)");
        return;
    }
    decided(c, PROBE_SRC_NONE, "no complete Azure credential variables",
            "DefaultAzureCredential: neither EnvironmentCredential nor WorkloadIdentityCredential is configured; "
            "it would try the managed identity endpoint next, which the probe never does");
}

/* --------------------------------------------------------------- Google */
static char *jdup(const cJSON *j, const char *k)
{
    return dup_set(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, k)));
}

/* serviceAccounts/<email>:generateAccessToken → email */
static char *gsa_of(const char *url)
{
    const char *p = url ? strstr(url, "serviceAccounts/") : NULL;
    if (!p) return NULL;
    p += strlen("serviceAccounts/");
    const char *e = strstr(p, ":generateAccessToken");
    return e && e > p ? wih_asprintf("%.*s", (int)(e - p), p) : NULL;
}

static void google_external(probe_cred *c, const cJSON *j, const char *path, const char *var)
{
    c->detail = wih_asprintf("%s → external_account", var);
    c->source = PROBE_SRC_EXTERNAL_ACCOUNT;
    c->audience = jdup(j, "audience");
    c->subject_token_type = jdup(j, "subject_token_type");
    c->token_url = jdup(j, "token_url");
    c->impersonation_url = jdup(j, "service_account_impersonation_url");
    c->gsa = gsa_of(c->impersonation_url);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "credential_source");
    c->token_file = jdup(src, "file");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(src, "format");
    const char *ft = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fmt, "type"));
    if (ft && !strcmp(ft, "json")) c->token_format_field = jdup(fmt, "subject_token_field_name");
    const char *missing = !c->audience ? "audience" : !c->subject_token_type ? "subject_token_type"
                        : !c->token_url ? "token_url (google-auth would use https://sts.googleapis.com/v1/token)"
                        : !c->token_file ? "credential_source.file (url, executable and aws sources are not "
                                           "implemented by the probe)"
                        : ft && !strcmp(ft, "json") && !c->token_format_field ? "credential_source.format.subject_token_field_name"
                        : NULL;
    if (missing) c->error = wih_asprintf("%s: external_account credential without %s", path, missing);
}

static void google_file(dctx *d, const char *path, const char *var, const char *why)
{
    probe_cred *c = d->c;
    wih_err *e = NULL;
    size_t len = 0;
    char *text = d->readfile(d->ctx, path, &len, &e);
    c->why = wih_strdup(why);
    if (!text) {
        c->detail = wih_asprintf("%s (unreadable)", var);
        c->error = wih_asprintf("%s=%s: %s (google-auth raises DefaultCredentialsError)", var, path,
                                e ? wih_err_str(e) : "cannot read");
        wih_err_free(e);
        return;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
    if (!cJSON_IsObject(j)) {
        c->detail = wih_asprintf("%s (not JSON)", var);
        c->error = wih_asprintf("%s: not a JSON credential file", path);
    } else if (type && !strcmp(type, "external_account")) {
        google_external(c, j, path, var);
    } else if (type && !strcmp(type, "service_account")) {
        c->source = PROBE_SRC_STATIC_ENV;
        c->detail = wih_asprintf("%s → service_account key file", var);
        const char *pk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "private_key"));
        c->fingerprint = pk ? wih_fingerprint(pk) : NULL;
        c->gsa = jdup(j, "client_email");
        c->error = wih_strdup("a service-account key is exchanged at Google's OAuth endpoint, which the probe "
                              "never calls");
    } else {
        c->detail = wih_asprintf("%s → %s", var, type ? type : "(no type)");
        c->error = wih_asprintf("%s: credential type \"%s\" is not implemented by the probe", path,
                                type ? type : "(none)");
    }
    cJSON_Delete(j);
    wih_free_secret(text);
}

static void google_chain(dctx *d)
{
    probe_cred *c = d->c;
    c->cloud = "google";
    const char *ca[] = {"REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", NULL};
    const char *s3[] = {"WIH_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", NULL};
    c->ca_file = dup_set(first(d, ca));
    c->s3_endpoint = dup_set(first(d, s3));
    const char *gac = env(d, "GOOGLE_APPLICATION_CREDENTIALS");
    if (set(gac)) {
        google_file(d, gac, "GOOGLE_APPLICATION_CREDENTIALS",
                    "google-auth default(): GOOGLE_APPLICATION_CREDENTIALS is checked first");
        return;
    }
    /* the gcloud ADC file: $CLOUDSDK_CONFIG or ~/.config/gcloud */
    const char *cfg = env(d, "CLOUDSDK_CONFIG"), *home = d->getenv_fn(d->ctx, "HOME");
    char *adc = set(cfg) ? wih_asprintf("%s/application_default_credentials.json", cfg)
              : set(home) ? wih_asprintf("%s/.config/gcloud/application_default_credentials.json", home)
                          : NULL;
    size_t len = 0;
    wih_err *e = NULL;
    char *probe = adc ? d->readfile(d->ctx, adc, &len, &e) : NULL;
    wih_err_free(e);
    if (probe) {
        wih_free_secret(probe);
        google_file(d, adc, "gcloud ADC file", "google-auth default(): no GOOGLE_APPLICATION_CREDENTIALS; the "
                                              "gcloud application-default credentials file exists");
    } else {
        decided(c, PROBE_SRC_NONE, "no GOOGLE_APPLICATION_CREDENTIALS",
                "google-auth default(): no credential file; it would ask the GCE metadata server next, which "
                "the probe never does");
    }
    free(adc);
}

/* -------------------------------------------------------------- dispatch */
static const char *cloud_of(const char *profile)
{
    static const char *const map[][2] = {{"aws-irsa", "aws"}, {"aws", "aws"}, {"azure-wi", "azure"},
                                         {"azure", "azure"}, {"gcp-fleet", "google"}, {"gcp-pfnet", "google"},
                                         {"gcp", "google"}, {"google", "google"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(profile, map[i][0])) return map[i][1];
    return NULL;
}

static const char *detect(dctx *d)
{
    const char *aws[] = {"AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", NULL};
    const char *az[] = {"AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID", NULL};
    for (const char *const *n = aws; *n; n++) if (set(d->getenv_fn(d->ctx, *n))) return "aws";
    for (const char *const *n = az; *n; n++) if (set(d->getenv_fn(d->ctx, *n))) return "azure";
    if (set(d->getenv_fn(d->ctx, "GOOGLE_APPLICATION_CREDENTIALS"))) return "google";
    return "aws";
}

int probe_discover(const char *profile, const char *sdk, probe_getenv_fn getenv_fn, probe_readfile_fn readfile,
                   void *ctx, probe_cred *out, wih_err **err)
{
    memset(out, 0, sizeof *out);
    dctx d = {sdk && !strcmp(sdk, "go"), getenv_fn, readfile, ctx, out};
    const char *cloud = profile ? cloud_of(profile) : detect(&d);
    if (!cloud) {
        *err = wih_err_new(WIH_EXIT_INPUT, "unknown profile \"%s\" (aws-irsa, azure-wi, gcp-fleet)", profile);
        return -1;
    }
    if (sdk && strcmp(sdk, "boto3") && strcmp(sdk, "go")) {
        *err = wih_err_new(WIH_EXIT_INPUT, "unknown --sdk \"%s\" (boto3, go)", sdk);
        return -1;
    }
    if (sdk && strcmp(cloud, "aws")) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--sdk %s: only the AWS chain has SDK variants (the %s chain is "
                           "azure-identity's / google-auth's)", sdk, cloud);
        return -1;
    }
    out->env = cJSON_CreateObject();
    if (!strcmp(cloud, "aws")) aws_chain(&d);
    else if (!strcmp(cloud, "azure")) azure_chain(&d);
    else google_chain(&d);
    /* every identity variable that is set, whichever chain ran: a webhook's
     * IRSA variables beside the static key that won, or AWS keys in an Azure
     * pod, are facts diagnosis needs (only set ones, secrets fingerprinted) */
    static const char *const seen[] = {
        "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_STS_REGIONAL_ENDPOINTS",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_PROFILE", "AZURE_CLIENT_ID", "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
        "GOOGLE_APPLICATION_CREDENTIALS", NULL};
    for (const char *const *n = seen; *n; n++) env(&d, *n);
    return 0;
}

static void add(cJSON *j, const char *k, const char *v)
{
    if (v) cJSON_AddStringToObject(j, k, v);
    else cJSON_AddNullToObject(j, k);
}

cJSON *probe_cred_describe(const probe_cred *c)
{
    cJSON *j = cJSON_CreateObject();
    add(j, "cloud", c->cloud);
    add(j, "source", probe_source_name(c->source));
    add(j, "detail", c->detail);
    add(j, "why", c->why);
    add(j, "error", c->error);
    add(j, "fingerprint", c->fingerprint);
    add(j, "token_file", c->token_file);
    add(j, "access_key", c->access_key);
    add(j, "role_arn", c->role_arn);
    add(j, "session_name", c->session_name);
    add(j, "client_id", c->client_id);
    add(j, "tenant_id", c->tenant_id);
    add(j, "gsa", c->gsa);
    add(j, "audience", c->audience);
    cJSON *e = cJSON_AddObjectToObject(j, "endpoints");
    add(e, "sts", c->sts_endpoint);
    add(e, "s3", c->s3_endpoint);
    add(e, "authority", c->authority);
    add(e, "token_url", c->token_url);
    add(e, "impersonation_url", c->impersonation_url);
    add(j, "region", c->region);
    add(j, "ca_file", c->ca_file);
    cJSON_AddItemToObject(j, "env", cJSON_Duplicate(c->env, true));
    return j;
}
