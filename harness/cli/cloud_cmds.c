/* wiharness cloud role set | role list | bucket create — manage the running
 * local chain's mock cloud through its admin API (docs/cloud.md).
 *
 * Where the cloud is comes from <state-dir>/state.json:
 *   "cloud": {"url", "admin_token_file", "ca_file", "decision_log"}
 * The admin token is read from its file (0600) and sent as a Bearer token; it
 * is never printed. Exit codes: 2 bad input (ours or the cloud's 400), 3 no
 * chain / no cloud / cloud unreachable / admin token refused. */
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/http.h"
#include "wiharness/cluster.h"

typedef struct {
    const char *state_dir;
    wih_strlist trust, grant;
    const char *audience, *issuer, *output;
} cloud_cfg;

#define STATE_OPT                                                                                                 \
    {"state-dir", 0, WIH_OPT_STR, offsetof(cloud_cfg, state_dir), "DIR",                                          \
     "the local chain's state dir (default ${XDG_STATE_HOME:-~/.local/state}/wiharness/local)", false}

/* ------------------------------------------------------------ the cloud */
typedef struct {
    char *url, *ca_file, *token, *issuer;
} cloud_target;

static void target_clear(cloud_target *t)
{
    free(t->url);
    free(t->ca_file);
    free(t->issuer);
    if (t->token) OPENSSL_cleanse(t->token, strlen(t->token));
    free(t->token);
    memset(t, 0, sizeof *t);
}

static wih_err *target_load(const char *state_dir, cloud_target *t)
{
    memset(t, 0, sizeof *t);
    char *dir = state_dir ? wih_strdup(state_dir) : cluster_local_default_dir();
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(dir, &e);
    if (!st) {
        free(dir);
        return e;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(st, "cloud");
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "url"));
    const char *tf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "admin_token_file"));
    const char *ca = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "ca_file"));
    if (!url || !tf) {
        e = wih_err_new(WIH_EXIT_INFRA,
                        "the local chain in %s has no mock cloud (state.json has no \"cloud\" url/admin_token_file): "
                        "run 'wiharness down --state-dir %s' and 'wiharness up --state-dir %s' with this wiharness",
                        dir, dir, dir);
        cJSON_Delete(st);
        free(dir);
        return e;
    }
    t->url = wih_strdup(url);
    t->ca_file = wih_strdup(ca);
    t->issuer = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "issuer")));
    free(dir);
    size_t n = 0;
    t->token = wih_read_file(tf, 4096, &n, &e);
    if (!t->token) {
        e->kind = WIH_EXIT_INFRA; /* a broken state dir, not the user's input */
        e = wih_err_wrap(e, "the mock cloud's admin token");
    } else {
        while (n && isspace((unsigned char)t->token[n - 1])) t->token[--n] = 0;
        if (!n) e = wih_err_new(WIH_EXIT_INFRA, "the admin token file %s is empty", tf);
    }
    cJSON_Delete(st);
    if (e) target_clear(t);
    return e;
}

/* One admin request. Returns the parsed JSON reply of a 2xx (or JSON null),
 * NULL + err otherwise: the cloud's own message; 400 → exit 2, the rest → 3. */
static cJSON *admin_call(const cloud_target *t, const char *method, const char *path, const char *body, long *status,
                         wih_err **err)
{
    static const char *const accept[] = {"Accept: application/json", NULL};
    char *url = wih_asprintf("%s/admin/v1/%s", t->url, path);
    wih_http_req rq = {.method = method, .url = url, .headers = accept, .bearer = t->token,
                       .body = body, .body_len = body ? strlen(body) : 0, .ca_file = t->ca_file,
                       .timeout_ms = 60000, .connect_timeout_ms = 3000, .max_body = (size_t)4 << 20};
    wih_http_resp rs;
    wih_err *te = NULL;
    int rc = wih_http_do(NULL, &rq, &rs, &te);
    long st = rc == 0 ? rs.status : -1;
    *status = st;
    cJSON *j = NULL;
    if (rc != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "the mock cloud at %s is unreachable: %s (is the chain up? 'wiharness status')",
                           t->url, rs.fail == WIH_HTTP_E_TOO_BIG ? wih_err_str(te) : rs.detail);
    } else {
        j = rs.body.len ? cJSON_ParseWithLength(rs.body.data, rs.body.len) : cJSON_CreateNull();
        if (st < 200 || st > 299) {
            const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
            *err = wih_err_new(st == 400 ? WIH_EXIT_INPUT : WIH_EXIT_INFRA, "the mock cloud refused %s %s: %s%s", method,
                               path, msg ? msg : "(no message)",
                               st == 401 ? " (the admin token in the state dir does not match the running cloud)" : "");
            (*err)->http_status = st;
            cJSON_Delete(j);
            j = NULL;
        } else if (!j) {
            *err = wih_err_new(WIH_EXIT_INFRA, "%s %s: the mock cloud's reply is not JSON", method, path);
        }
    }
    wih_err_free(te);
    wih_http_resp_free(&rs);
    free(url);
    return j;
}

/* ------------------------------------------------------- input checks */
/* S3 bucket naming (what MinIO enforces too): 3..63 of [a-z0-9.-], starting
 * and ending with a letter or digit, no "..". */
static bool bucket_name_ok(const char *b, const char **why)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63) {
        *why = "a bucket name has 3 to 63 characters";
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
            *why = "a bucket name has only lowercase letters, digits, '.' and '-'";
            return false;
        }
    }
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1])) {
        *why = "a bucket name starts and ends with a letter or digit";
        return false;
    }
    if (strstr(b, "..")) {
        *why = "a bucket name has no \"..\"";
        return false;
    }
    return true;
}

static const char *const k_levels[] = {"read", "write", "readwrite", "list"};

/* "BUCKET=LEVEL" → grants[BUCKET] = LEVEL; exit-2 error naming the argument. */
static wih_err *add_grant(cJSON *grants, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return wih_err_new(WIH_EXIT_INPUT, "--grant '%s': expected BUCKET=read|write|readwrite|list", arg);
    char *bucket = wih_asprintf("%.*s", (int)(eq - arg), arg);
    const char *level = eq + 1, *why = NULL;
    wih_err *e = NULL;
    bool known = false;
    for (size_t i = 0; i < sizeof k_levels / sizeof k_levels[0]; i++) known |= !strcmp(level, k_levels[i]);
    if (!bucket_name_ok(bucket, &why))
        e = wih_err_new(WIH_EXIT_INPUT, "--grant '%s': bucket '%s': %s", arg, bucket, why);
    else if (!known)
        e = wih_err_new(WIH_EXIT_INPUT, "--grant '%s': unknown access level '%s' (read, write, readwrite or list)", arg,
                        level);
    else if (cJSON_GetObjectItemCaseSensitive(grants, bucket))
        e = wih_err_new(WIH_EXIT_INPUT, "--grant '%s': bucket '%s' is granted twice", arg, bucket);
    else
        cJSON_AddStringToObject(grants, bucket, level);
    free(bucket);
    return e;
}

static const char *str_of(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

static void print_role_text(const cJSON *r, FILE *out)
{
    fprintf(out, "%s\n", str_of(r, "name"));
    fprintf(out, "  aws role arn:            %s\n", str_of(r, "aws_role_arn"));
    fprintf(out, "  entra client id:         %s\n", str_of(r, "entra_client_id"));
    fprintf(out, "  google service account:  %s\n", str_of(r, "google_service_account"));
    fprintf(out, "  minio policy:            %s\n", str_of(r, "minio_policy"));
    const cJSON *trust = cJSON_GetObjectItemCaseSensitive(r, "trust"), *s;
    fprintf(out, "  trusts issuer:           %s\n", str_of(trust, "issuer"));
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(trust, "subjects"))
        fprintf(out, "  trusts subject:          %s\n", cJSON_IsString(s) ? s->valuestring : "?");
    const char *aud = str_of(trust, "audience");
    fprintf(out, "  audience (AWS):          %s\n", *aud ? aud : "sts.amazonaws.com (default)");
    const cJSON *g;
    int n = 0;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(r, "grants"))
    {
        fprintf(out, "  grant:                   %s=%s\n", g->string, cJSON_IsString(g) ? g->valuestring : "?");
        n++;
    }
    if (!n) fprintf(out, "  grant:                   (none: its credentials can touch nothing)\n");
}

/* ------------------------------------------------------------- commands */
static int run_role_set(void *vcfg, int argc, char **argv)
{
    cloud_cfg *c = vcfg;
    (void)argc;
    const char *name = argv[0];
    wih_err *e = NULL;
    if (!c->trust.n) {
        fprintf(stderr, "wiharness cloud role set: at least one --trust system:serviceaccount:NS:SA is needed\n");
        return WIH_EXIT_INPUT;
    }
    cJSON *role = cJSON_CreateObject();
    cJSON *trust = cJSON_AddObjectToObject(role, "trust");
    cJSON *subs = cJSON_AddArrayToObject(trust, "subjects");
    for (size_t i = 0; i < c->trust.n && !e; i++) {
        const char *s = c->trust.v[i];
        if (!*s) e = wih_err_new(WIH_EXIT_INPUT, "--trust: an empty subject");
        else if (strncmp(s, "system:serviceaccount:", 22))
            /* allowed on purpose: reproducing a misconfigured trust starts here */
            fprintf(stderr, "wiharness: warning: --trust '%s' is not a ServiceAccount subject "
                            "(system:serviceaccount:NS:SA): no Kubernetes token will match it\n", s);
        if (!e) cJSON_AddItemToArray(subs, cJSON_CreateString(s));
    }
    if (c->audience) {
        if (!*c->audience) e = e ? e : wih_err_new(WIH_EXIT_INPUT, "--audience: empty");
        cJSON_AddStringToObject(trust, "audience", c->audience);
    }
    cJSON *grants = cJSON_AddObjectToObject(role, "grants");
    for (size_t i = 0; i < c->grant.n && !e; i++) e = add_grant(grants, c->grant.v[i]);
    if (e) {
        cJSON_Delete(role);
        return wih_err_report(e);
    }
    cloud_target t;
    if ((e = target_load(c->state_dir, &t))) {
        cJSON_Delete(role);
        return wih_err_report(e);
    }
    const char *issuer = c->issuer ? c->issuer : t.issuer;
    if (!issuer || !*issuer) {
        target_clear(&t);
        cJSON_Delete(role);
        return wih_err_report(
            wih_err_new(WIH_EXIT_INFRA, "state.json names no cluster issuer: give the issuer with --issuer URL"));
    }
    cJSON_AddStringToObject(trust, "issuer", issuer);
    if (!c->grant.n) fprintf(stderr, "wiharness: note: role %s has no --grant: its credentials can touch nothing\n", name);
    char *body = cJSON_PrintUnformatted(role);
    cJSON_Delete(role);
    char *path = wih_asprintf("roles/%s", name);
    long st;
    cJSON *list = admin_call(&t, "PUT", path, body, &st, &e);
    free(path);
    free(body);
    target_clear(&t);
    if (!list) return wih_err_report(e);
    const cJSON *r;
    cJSON_ArrayForEach(r, list) if (!strcmp(str_of(r, "name"), name)) print_role_text(r, stdout);
    cJSON_Delete(list);
    return WIH_EXIT_OK;
}

static int run_role_list(void *vcfg, int argc, char **argv)
{
    cloud_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    bool json = c->output && !strcmp(c->output, "json");
    if (c->output && !json && strcmp(c->output, "text")) {
        fprintf(stderr, "wiharness cloud role list: --output must be text or json, not '%s'\n", c->output);
        return WIH_EXIT_INPUT;
    }
    cloud_target t;
    wih_err *e = target_load(c->state_dir, &t);
    if (e) return wih_err_report(e);
    long st;
    cJSON *list = admin_call(&t, "GET", "roles", NULL, &st, &e);
    target_clear(&t);
    if (!list) return wih_err_report(e);
    if (json) {
        char *s = cJSON_Print(list);
        printf("%s\n", s);
        free(s);
    } else if (!cJSON_GetArraySize(list)) {
        printf("no roles (add one with 'wiharness cloud role set')\n");
    } else {
        const cJSON *r;
        cJSON_ArrayForEach(r, list) print_role_text(r, stdout);
    }
    cJSON_Delete(list);
    return WIH_EXIT_OK;
}

static int run_bucket_create(void *vcfg, int argc, char **argv)
{
    cloud_cfg *c = vcfg;
    (void)argc;
    const char *bucket = argv[0], *why = NULL;
    if (!bucket_name_ok(bucket, &why)) {
        fprintf(stderr, "wiharness cloud bucket create: '%s': %s\n", bucket, why);
        return WIH_EXIT_INPUT;
    }
    cloud_target t;
    wih_err *e = target_load(c->state_dir, &t);
    if (e) return wih_err_report(e);
    char *path = wih_asprintf("buckets/%s", bucket);
    long st;
    cJSON *j = admin_call(&t, "PUT", path, NULL, &st, &e);
    free(path);
    target_clear(&t);
    if (!j && st == 409) { /* MinIO: BucketAlreadyOwnedByYou — creating is idempotent */
        wih_err_free(e);
        printf("bucket %s already exists\n", bucket);
        return WIH_EXIT_OK;
    }
    if (!j) return wih_err_report(e);
    cJSON_Delete(j);
    printf("bucket %s created\n", bucket);
    return WIH_EXIT_OK;
}

static const wih_opt k_set_opts[] = {
    {"audience", 0, WIH_OPT_STR, offsetof(cloud_cfg, audience), "AUD",
     "the audience AWS STS accepts for this role (default sts.amazonaws.com)", false},
    {"grant", 0, WIH_OPT_LIST, offsetof(cloud_cfg, grant), "BUCKET=ACCESS",
     "access to a bucket: read, write, readwrite or list", false},
    {"issuer", 0, WIH_OPT_STR, offsetof(cloud_cfg, issuer), "URL",
     "the OIDC issuer the role trusts (default: the chain's cluster issuer)", false},
    STATE_OPT,
    {"trust", 0, WIH_OPT_LIST, offsetof(cloud_cfg, trust), "SUBJECT",
     "a trusted subject, system:serviceaccount:NS:SA; fnmatch patterns (NS:*) allowed", false},
};
static const wih_opt k_list_opts[] = {
    {"output", 'o', WIH_OPT_CHOICE, offsetof(cloud_cfg, output), "text|json", "text (default) or json", false},
    STATE_OPT,
};
static const wih_opt k_bucket_opts[] = {STATE_OPT};

#define NOPTS(a) (sizeof a / sizeof a[0])
const wih_cmd wih_cmd_cloud_role_set = {
    .name = "cloud role set",
    .summary = "create or replace a role in the local chain's mock cloud (trust + bucket grants)",
    .args = "NAME",
    .details = "The role trusts the chain's cluster issuer and the given subjects, and gets a MinIO policy\n"
               "from its grants. Prints the identifiers each provider uses for it (AWS role ARN, Entra\n"
               "application client id, Google service account). Exit 2 for bad input (a bad --grant, an\n"
               "unknown access level, or the cloud's 400 with its message), 3 when there is no chain or\n"
               "the cloud cannot be reached.",
    .opts = k_set_opts,
    .nopts = NOPTS(k_set_opts),
    .cfg_size = sizeof(cloud_cfg),
    .min_args = 1,
    .max_args = 1,
    .run = run_role_set,
};
const wih_cmd wih_cmd_cloud_role_list = {
    .name = "cloud role list",
    .summary = "list the mock cloud's roles with their AWS ARN, Entra client id and Google service account",
    .opts = k_list_opts,
    .nopts = NOPTS(k_list_opts),
    .cfg_size = sizeof(cloud_cfg),
    .max_args = 0,
    .run = run_role_list,
};
const wih_cmd wih_cmd_cloud_bucket_create = {
    .name = "cloud bucket create",
    .summary = "create a bucket in the local chain's MinIO (through the mock cloud; idempotent)",
    .args = "NAME",
    .opts = k_bucket_opts,
    .nopts = NOPTS(k_bucket_opts),
    .cfg_size = sizeof(cloud_cfg),
    .min_args = 1,
    .max_args = 1,
    .run = run_bucket_create,
};
