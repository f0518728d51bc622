/* wiharness probe — the workload of a test pod (docs/probe.md): credentials
 * in the SDK's default-chain order, the exchange, who the cloud says we are,
 * each --access on MinIO, one verdict JSON (< 4096 bytes) to the
 * termination log and stdout. Exit 0 when the probe ran (the verdict says
 * what was allowed), 2 bad arguments, 3 when no verdict could be written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/probe.h"

#define VERDICT_MAX 4096 /* the kubelet's termination-message limit */

typedef struct {
    const char *profile, *sdk, *verdict_file, *store;
    wih_strlist access, expect_env;
    long timeout_s;
} probe_cfg;

static const wih_opt k_probe_opts[] = {
    {"profile", 0, WIH_OPT_CHOICE, offsetof(probe_cfg, profile), WIH_PROFILE_CHOICES,
     "the SDK chain to follow: aws-irsa, azure-wi or gcp-fleet (default: the first cloud whose credential "
     "variables are set)", false},
    {"sdk", 0, WIH_OPT_CHOICE, offsetof(probe_cfg, sdk), "boto3|go",
     "aws-irsa only: whose AWS chain, boto3 (default) or go (aws-sdk-go-v2)", false},
    {"access", 0, WIH_OPT_LIST, offsetof(probe_cfg, access), "OP:URL",
     "an access to try on MinIO, OP read|write|list|delete, URL s3://BUCKET/KEY", false},
    {"expect-env", 0, WIH_OPT_LIST, offsetof(probe_cfg, expect_env), "NAME",
     "record this variable in the verdict's env even when unset (secret values as fingerprints)", false},
    {"verdict-file", 0, WIH_OPT_STR, offsetof(probe_cfg, verdict_file), "PATH",
     "where the verdict goes besides stdout (default /dev/termination-log)", false},
    {"timeout", 0, WIH_OPT_INT, offsetof(probe_cfg, timeout_s), "SECONDS",
     "per HTTP request (default 15)", false},
    {"store", 0, WIH_OPT_CHOICE, offsetof(probe_cfg, store), "mock|real",
     "where the accesses go: MinIO after its STS (mock, default) or the real store's REST API with the identity "
     "that answered (real: S3 SigV4, Azure Blob, GCS; default $WIH_PROBE_STORE)", false},
};

static int write_verdict(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "wiharness: error: writing the verdict to %s: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok) fprintf(stderr, "wiharness: error: writing the verdict to %s: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

static int run_probe(void *vcfg, int argc, char **argv)
{
    probe_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < c->access.n; i++) {
        char *op, *b, *k;
        wih_err *e = NULL;
        if (probe_access_parse(c->access.v[i], &op, &b, &k, &e) != 0) return wih_err_report(e);
        free(op);
        free(b);
        free(k);
    }
    if (c->timeout_s < 0) return wih_err_report(wih_err_new(WIH_EXIT_INPUT, "--timeout must be positive"));
    probe_opts o = {.profile = c->profile,
                    .sdk = c->sdk,
                    .access = (const char *const *)c->access.v,
                    .naccess = c->access.n,
                    .expect_env = (const char *const *)c->expect_env.v,
                    .nexpect_env = c->expect_env.n,
                    .verdict_file = c->verdict_file,
                    .timeout_ms = c->timeout_s * 1000,
                    .store = c->store ? c->store : getenv("WIH_PROBE_STORE")};
    if (o.store && strcmp(o.store, "mock") && strcmp(o.store, "real"))
        return wih_err_report(wih_err_new(WIH_EXIT_INPUT, "WIH_PROBE_STORE=%s: expected mock or real", o.store));
    wih_err *e = NULL;
    cJSON *v = probe_run(&o, &e);
    if (!v) return wih_err_report(e);
    char *text = probe_verdict_print(v, VERDICT_MAX);
    cJSON_Delete(v);
    if (!text) return wih_err_report(wih_err_new(WIH_EXIT_INFRA, "printing the verdict"));
    printf("%s\n", text);
    fflush(stdout);
    int rc = write_verdict(c->verdict_file ? c->verdict_file : "/dev/termination-log", text);
    free(text);
    return rc == 0 ? WIH_EXIT_OK : WIH_EXIT_INFRA;
}

const wih_cmd wih_cmd_probe = {
    .name = "probe",
    .summary = "the test pod's workload: find credentials as the SDK would, exchange, try bucket access, "
               "write a verdict",
    .details = "Reads only the environment (as boto3, azure-identity and google-auth do) and the token and\n"
               "credential files it names. Endpoints: AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_S3 /\n"
               "AWS_ENDPOINT_URL, AZURE_AUTHORITY_HOST, the token_url of the Google credential file;\n"
               "Azure and Google reach MinIO (its STS, then S3) at WIH_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3.\n"
               "CA: AWS_CA_BUNDLE (AWS) or REQUESTS_CA_BUNDLE (Azure, Google), else SSL_CERT_FILE, else the\n"
               "system bundle. A public cloud endpoint is never called. No secret is printed: fingerprints.\n"
               "Exit 0 when the verdict was written (denials are in it), 2 bad arguments, 3 no verdict.",
    .opts = k_probe_opts,
    .nopts = sizeof k_probe_opts / sizeof k_probe_opts[0],
    .cfg_size = sizeof(probe_cfg),
    .max_args = 0,
    .run = run_probe,
};
