/* wiharness cloud serve — the mock cloud identity plane in the foreground
 * (the local chain runs it as one of its processes). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wiharness/cli.h"
#include "wiharness/cloud.h"
#include "wiharness/yamljson.h"

typedef struct {
    const char *cert, *key, *decision_log, *ready_file, *admin_token_file, *signing_key_file, *registry_file,
        *minio_endpoint, *minio_root_file, *minio_client_id;
    long port;
} cserve_cfg;

#define O(n, t, f, m, h) {n, 0, t, offsetof(cserve_cfg, f), m, h, false}
static const wih_opt k_opts[] = {
    O("admin-token-file", WIH_OPT_STR, admin_token_file, "FILE",
      "the admin API's bearer token is read from FILE (at least 16 characters; default: generated, kept in memory)"),
    O("cert", WIH_OPT_STR, cert, "FILE", "HTTPS serving certificate (PEM), required"),
    O("decision-log", WIH_OPT_STR, decision_log, "FILE", "append one JSON line per decision"),
    O("key", WIH_OPT_STR, key, "FILE", "HTTPS serving key (PEM), required"),
    O("minio-client-id", WIH_OPT_STR, minio_client_id, "ID", "aud of the JWTs minted for MinIO (default wiharness-minio)"),
    O("minio-endpoint", WIH_OPT_STR, minio_endpoint, "URL", "the MinIO behind the cloud (http://127.0.0.1:PORT)"),
    O("minio-root-file", WIH_OPT_STR, minio_root_file, "FILE", "MinIO root credentials as JSON {\"user\",\"password\"} (mode 0600)"),
    O("port", WIH_OPT_PORT, port, "N", "listen on 127.0.0.1:N (default: a free port)"),
    O("ready-file", WIH_OPT_STR, ready_file, "FILE", "write {\"url\",\"port\",\"pid\"} here once listening"),
    O("registry-file", WIH_OPT_STR, registry_file, "FILE", "keep providers and roles in FILE across restarts"),
    O("signing-key-file", WIH_OPT_STR, signing_key_file, "FILE", "keep the token-signing key in FILE across restarts"),
};

static char *trimmed_file(const char *path, wih_err **err)
{
    char *s = wih_read_file(path, 4096, NULL, err);
    if (s) s[strcspn(s, "\r\n")] = '\0';
    return s;
}

static int run_cloud_serve(void *vcfg, int argc, char **argv)
{
    cserve_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    if (!c->cert || !c->key) {
        fprintf(stderr, "wiharness cloud serve: --cert and --key are required\n");
        return WIH_EXIT_INPUT;
    }
    wih_err *err = NULL;
    char *token = NULL, *user = NULL, *pass = NULL;
    cJSON *root = NULL;
    /* bad PEM is bad input naming the flag, not a TLS error at listen (issue 13) */
    if ((err = wih_pem_check_file(c->cert, WIH_PEM_CERT, "--cert")) ||
        (err = wih_pem_check_file(c->key, WIH_PEM_KEY, "--key")))
        return wih_err_report(err);
    struct stat st;
    if (c->minio_root_file && stat(c->minio_root_file, &st) == 0 && (st.st_mode & 077)) {
        fprintf(stderr, "wiharness cloud serve: --minio-root-file %s is mode %04o: it holds the MinIO root "
                        "password, make it 0600 (chmod 600)\n", c->minio_root_file, (unsigned)(st.st_mode & 07777));
        return WIH_EXIT_INPUT;
    }
    if (c->admin_token_file && !(token = trimmed_file(c->admin_token_file, &err))) return wih_err_report(err);
    if (token && strlen(token) < CLOUD_ADMIN_TOKEN_MIN) {
        /* an empty token would turn admin auth off: refuse to start */
        fprintf(stderr, "wiharness cloud serve: %s: the admin token has %zu characters, at least %d are required\n",
                c->admin_token_file, strlen(token), CLOUD_ADMIN_TOKEN_MIN);
        free(token);
        return WIH_EXIT_INPUT;
    }
    if (c->minio_root_file) {
        char *text = wih_read_file(c->minio_root_file, 4096, NULL, &err);
        if (text) root = wih_json_parse(c->minio_root_file, text, &err);
        free(text);
        const cJSON *u = cJSON_GetObjectItem(root, "user"), *p = cJSON_GetObjectItem(root, "password");
        if (!cJSON_IsString(u) || !cJSON_IsString(p)) {
            if (!err) err = wih_err_at(WIH_EXIT_INPUT, c->minio_root_file, 0, 0, "expected {\"user\",\"password\"}");
            cJSON_Delete(root);
            free(token);
            return wih_err_report(err);
        }
        user = u->valuestring;
        pass = p->valuestring;
    }
    cloud_opts o = {.cert_file = c->cert,
                    .key_file = c->key,
                    .port = (int)c->port,
                    .decision_log = c->decision_log,
                    .minio_client_id = c->minio_client_id,
                    .admin_token = token,
                    .signing_key_file = c->signing_key_file,
                    .registry_file = c->registry_file,
                    .minio_endpoint = c->minio_endpoint,
                    .minio_root_user = user,
                    .minio_root_password = pass};
    err = cloud_serve(&o, c->ready_file);
    cJSON_Delete(root);
    free(token);
    return err ? wih_err_report(err) : WIH_EXIT_OK;
}

const wih_cmd wih_cmd_cloud_serve = {
    .name = "cloud serve",
    .summary = "run the mock cloud identity plane (AWS STS, Entra, Google STS) until Ctrl-C",
    .details = "Serves over HTTPS on 127.0.0.1: AWS STS (POST /: AssumeRoleWithWebIdentity, and GetCallerIdentity\n"
               "signed with SigV4 by the session it issued), Entra (POST /{tenant}/oauth2/v2.0/token),\n"
               "Google STS (POST /v1/token), IAM Credentials and /tokeninfo, its own OpenID discovery and JWKS (MinIO\n"
               "trusts it), and the admin API (/admin/v1/…). 'wiharness up' runs it as part of the chain;\n"
               "docs/cloud.md describes every endpoint.",
    .opts = k_opts,
    .nopts = sizeof k_opts / sizeof k_opts[0],
    .cfg_size = sizeof(cserve_cfg),
    .max_args = 0,
    .run = run_cloud_serve,
};
