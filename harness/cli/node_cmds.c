/* wiharness node relay — the local node's relay process (started by `up`);
 * wiharness node selftest — what a pod sees of its projected token (claims
 * only, never the token), for the node's own tests until the probe exists. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wiharness/cli.h"
#include "wiharness/jwt.h"
#include "wiharness/node.h"

extern char **environ;

typedef struct {
    const char *ip, *ready_file;
    wih_strlist ports;
} relay_cfg;

static const wih_opt k_opts[] = {
    {"ip", 0, WIH_OPT_STR, offsetof(relay_cfg, ip), "ADDR", "the bridge address to listen on (required)", false},
    {"port", 0, WIH_OPT_LIST, offsetof(relay_cfg, ports), "N", "relay ADDR:N to 127.0.0.1:N (repeatable)", true},
    {"ready-file", 0, WIH_OPT_STR, offsetof(relay_cfg, ready_file), "FILE", "written once listening", false},
};

static int run_relay(void *vcfg, int argc, char **argv)
{
    relay_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    if (!c->ip || !c->ports.n || c->ports.n > 16) {
        fprintf(stderr, "wiharness node relay: --ip and 1 to 16 --port are required\n");
        return WIH_EXIT_INPUT;
    }
    int ports[16];
    for (size_t i = 0; i < c->ports.n; i++) {
        char *end = NULL;
        long v = strtol(c->ports.v[i], &end, 10);
        if (!end || *end || v < 1 || v > 65535) {
            fprintf(stderr, "wiharness node relay: --port %s: not a port number (1-65535)\n", c->ports.v[i]);
            return WIH_EXIT_INPUT;
        }
        ports[i] = (int)v;
    }
    wih_err *e = node_relay_serve(c->ip, ports, (int)c->ports.n, c->ready_file);
    return e ? wih_err_report(e) : WIH_EXIT_OK;
}

const wih_cmd wih_cmd_node_relay = {
    .name = "node relay",
    .summary = "relay the node's bridge address to the host's loopback servers (started by up)",
    .details = "Pods reach the mock cloud and MinIO at https://<bridge address>:<port>; this copies each\n"
               "connection to 127.0.0.1:<port>, where they listen. TLS stays end to end.",
    .opts = k_opts,
    .nopts = sizeof k_opts / sizeof k_opts[0],
    .cfg_size = sizeof(relay_cfg),
    .max_args = 0,
    .run = run_relay,
};

/* ------------------------------------------------------------ selftest */
typedef struct {
    const char *token_file, *out;
} selftest_cfg;

static const wih_opt k_st_opts[] = {
    {"token-file", 0, WIH_OPT_STR, offsetof(selftest_cfg, token_file), "FILE",
     "the token (default: $AWS_WEB_IDENTITY_TOKEN_FILE, $AZURE_FEDERATED_TOKEN_FILE, or the file of\n"
     "$GOOGLE_APPLICATION_CREDENTIALS' credential_source)", false},
    {"message-file", 0, WIH_OPT_STR, offsetof(selftest_cfg, out), "FILE",
     "where to write (default /dev/termination-log)", false},
};

static char *token_path(const selftest_cfg *c)
{
    if (c->token_file) return wih_strdup(c->token_file);
    static const char *const vars[] = {"AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE", NULL};
    for (const char *const *v = vars; *v; v++)
        if (getenv(*v) && *getenv(*v)) return wih_strdup(getenv(*v));
    const char *g = getenv("GOOGLE_APPLICATION_CREDENTIALS");
    char *t = g ? wih_read_file(g, 1 << 20, NULL, NULL) : NULL;
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "credential_source"), "file"));
    char *r = f ? wih_strdup(f) : NULL;
    cJSON_Delete(j);
    return r;
}

static void add_claims(cJSON *o, const char *path)
{
    char *tok = wih_read_file(path, WIH_JWT_MAX_LEN, NULL, NULL);
    if (!tok) {
        cJSON_AddStringToObject(o, "error", "cannot read the token file");
        return;
    }
    size_t n = strlen(tok);
    while (n && (tok[n - 1] == '\n' || tok[n - 1] == ' ')) tok[--n] = '\0';
    char *fp = wih_fingerprint(tok);
    cJSON_AddStringToObject(o, "fingerprint", fp);
    free(fp);
    wih_jwt_code code;
    wih_err *e = NULL;
    wih_jwt *t = wih_jwt_parse(tok, &code, &e);
    wih_err_free(e);
    if (!t) {
        cJSON_AddStringToObject(o, "error", wih_jwt_code_name(code));
        free(tok);
        return;
    }
    const cJSON *p = t->payload;
    static const char *const keep[] = {"iss", "sub", "aud", NULL};
    for (const char *const *k = keep; *k; k++) {
        const cJSON *v = cJSON_GetObjectItem(p, *k);
        if (v) cJSON_AddItemToObject(o, *k, cJSON_Duplicate(v, 1));
    }
    int64_t iat = 0, exp = 0;
    if (wih_jwt_claim_int(t, "iat", &iat) && wih_jwt_claim_int(t, "exp", &exp))
        cJSON_AddNumberToObject(o, "lifetime_s", (double)(exp - iat));
    const cJSON *k8s = cJSON_GetObjectItem(p, "kubernetes.io");
    const char *pod = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(k8s, "pod"), "name"));
    if (pod) cJSON_AddStringToObject(o, "pod", pod);
    const char *kid = cJSON_GetStringValue(cJSON_GetObjectItem(t->header, "kid"));
    if (kid) cJSON_AddStringToObject(o, "kid", kid);
    /* the signature against the JWKS the test hands in (public keys only) */
    const char *jw = getenv("WIH_SELFTEST_JWKS");
    cJSON *jwks = jw ? cJSON_Parse(jw) : NULL;
    if (jwks) {
        wih_jwt_code vc = wih_jwt_verify(t, jwks, (int64_t)(wih_wall_ms() / 1000), 60, &e);
        wih_err_free(e);
        cJSON_AddStringToObject(o, "verified", vc == WIH_JWT_OK ? "ok" : wih_jwt_code_name(vc));
        cJSON_Delete(jwks);
    }
    wih_jwt_free(t);
    free(tok);
}

static int run_selftest(void *vcfg, int argc, char **argv)
{
    selftest_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "selftest", 1);
    cJSON_AddNumberToObject(o, "uid", (double)getuid());
    cJSON_AddNumberToObject(o, "gid", (double)getgid());
    char *path = token_path(c);
    cJSON *tok = cJSON_AddObjectToObject(o, "token");
    if (path) {
        cJSON_AddStringToObject(tok, "path", path);
        struct stat st;
        if (stat(path, &st) == 0) {
            char mode[8];
            snprintf(mode, sizeof mode, "%04o", (unsigned)(st.st_mode & 07777));
            cJSON_AddStringToObject(tok, "mode", mode);
            cJSON_AddNumberToObject(tok, "uid", (double)st.st_uid);
            cJSON_AddNumberToObject(tok, "gid", (double)st.st_gid);
        }
        cJSON_AddBoolToObject(tok, "readable", access(path, R_OK) == 0);
        if (access(path, R_OK) == 0) add_claims(tok, path);
    } else
        cJSON_AddStringToObject(tok, "error", "no token file in the environment");
    /* identity-related env the pod got (no secrets among these names) */
    cJSON *env = cJSON_AddObjectToObject(o, "env");
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "AWS_", 4) && strncmp(*e, "AZURE_", 6) && strncmp(*e, "GOOGLE_", 7) && strncmp(*e, "CLOUDSDK_", 9))
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        char *k = wih_asprintf("%.*s", (int)(eq - *e), *e);
        if (strstr(k, "SECRET") || strstr(k, "SESSION_TOKEN")) {
            char *fp = wih_fingerprint(eq + 1);
            cJSON_AddStringToObject(env, k, fp);
            free(fp);
        } else
            cJSON_AddStringToObject(env, k, eq + 1);
        free(k);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(path);
    printf("%s\n", text);
    const char *out = c->out ? c->out : "/dev/termination-log";
    FILE *f = fopen(out, "w");
    int rc = WIH_EXIT_OK;
    if (!f || fputs(text, f) < 0) rc = WIH_EXIT_INFRA;
    if (f && fclose(f) != 0) rc = WIH_EXIT_INFRA;
    if (rc) fprintf(stderr, "wiharness node selftest: cannot write %s\n", out);
    free(text);
    return rc;
}

const wih_cmd wih_cmd_node_selftest = {
    .name = "node selftest",
    .summary = "in a pod: report the projected token's claims (never the token) and the identity env as JSON",
    .details = "Writes one JSON object to /dev/termination-log and stdout: uid/gid, the token's path, mode,\n"
               "owner, readability, claims iss/sub/aud/pod/kid, lifetime_s = exp - iat, its fingerprint,\n"
               "'verified' against $WIH_SELFTEST_JWKS when set, and the AWS_/AZURE_/GOOGLE_ env.\n"
               "The node's integration tests run it; the probe (wiharness probe) is the real client.",
    .opts = k_st_opts,
    .nopts = sizeof k_st_opts / sizeof k_st_opts[0],
    .cfg_size = sizeof(selftest_cfg),
    .max_args = 0,
    .run = run_selftest,
};
