/* See playground.h. */
#include "playground.h"

#include <check.h>
#include <dirent.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/cluster.h"

void pg_require_programs(void)
{
    for (int t = 0; t < WIH_TOOL_KUBECTL; t++) {
        wih_err *e = NULL;
        char *path = wih_tool_path((wih_tool)t, &e);
        if (!path) wih_test_skip("%s", wih_err_str(e));
        free(path);
    }
}

static void append_log(pg *p, const char *what, const char *text)
{
    FILE *f = fopen(p->stderr_log, "a");
    ck_assert_msg(f, "cannot append to %s", p->stderr_log);
    fprintf(f, "--- %s\n%s%s", what, text ? text : "", text && *text && text[strlen(text) - 1] != '\n' ? "\n" : "");
    fclose(f);
    p->ncommands++;
}

/* p->env with env_add overriding same-named entries (NULL-terminated, borrowed strings). */
static char **merged(const pg *p, char *const *env_add)
{
    size_t na = 0;
    while (env_add && env_add[na]) na++;
    char **v = calloc(p->nenv + na + 1, sizeof *v);
    ck_assert_ptr_nonnull(v);
    size_t k = 0;
    for (size_t i = 0; i < p->nenv; i++) {
        size_t kl = strcspn(p->env[i], "=");
        bool over = false;
        for (size_t j = 0; j < na; j++)
            if (!strncmp(env_add[j], p->env[i], kl) && env_add[j][kl] == '=') over = true;
        if (!over) v[k++] = p->env[i];
    }
    for (size_t j = 0; j < na; j++) v[k++] = env_add[j];
    return v;
}

int pg_run(pg *p, char *const *argv, char *const *env_add, const char *stdin_data, int64_t timeout_ms, char **out,
           char **errout)
{
    char **env = merged(p, env_add);
    char *o = NULL, *er = NULL;
    wih_err *e = NULL;
    int rc = wih_run_capture(argv, env, stdin_data, timeout_ms, &o, &er, &e);
    free(env);
    ck_assert_msg(rc >= 0, "running %s: %s", argv[0], wih_err_str(e));
    char *what = wih_asprintf("%s %s (exit %d)", argv[0], argv[1] ? argv[1] : "", rc);
    append_log(p, what, er);
    free(what);
    if (out)
        *out = o ? o : wih_strdup("");
    else
        free(o);
    if (errout)
        *errout = er ? er : wih_strdup("");
    else
        free(er);
    return rc;
}

static int cli_v(pg *p, char **out, char **errout, const char *stdin_data, va_list ap)
{
    char *argv[40];
    int n = 0;
    argv[n++] = WIH_BINARY;
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 36) argv[n++] = (char *)a;
    argv[n++] = "--state-dir";
    argv[n++] = p->state_dir;
    argv[n] = NULL;
    return pg_run(p, argv, NULL, stdin_data, 300000, out, errout);
}

int pg_cli(pg *p, char **out, const char *stdin_data, ...)
{
    va_list ap;
    va_start(ap, stdin_data);
    int rc = cli_v(p, out, NULL, stdin_data, ap);
    va_end(ap);
    return rc;
}

int pg_kubectl(pg *p, char **out, ...)
{
    ck_assert_ptr_nonnull(p->kubectl);
    char *argv[40];
    int n = 0;
    argv[n++] = p->kubectl;
    va_list ap;
    va_start(ap, out);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 38) argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    return pg_run(p, argv, NULL, NULL, 60000, out, NULL);
}

const char *pg_env(const pg *p, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < p->nenv; i++)
        if (!strncmp(p->env[i], key, kl) && p->env[i][kl] == '=') return p->env[i] + kl + 1;
    return NULL;
}

/* "export K=V" lines (V possibly '…' or "…" quoted) → "K=V". */
static void parse_env(pg *p, const char *text)
{
    char *copy = wih_strdup(text), *save = NULL;
    for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        if (strncmp(ln, "export ", 7)) continue;
        char *kv = ln + 7, *eq = strchr(kv, '=');
        if (!eq) continue;
        char *val = eq + 1;
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '\'' || val[0] == '"') && val[vl - 1] == val[0]) {
            val[vl - 1] = 0;
            val++;
        }
        p->env = realloc(p->env, (p->nenv + 2) * sizeof *p->env);
        ck_assert_ptr_nonnull(p->env);
        p->env[p->nenv++] = wih_asprintf("%.*s=%s", (int)(eq - kv), kv, val);
        p->env[p->nenv] = NULL;
    }
    free(copy);
}

static void pg_ok(pg *p, int rc, const char *what)
{
    ck_assert_msg(rc == 0, "%s: exit %d", what, rc);
    (void)p;
}

void pg_team_a(pg *p, const char *ns, char **role_arn, char **entra_id, char **google_sa)
{
    char *out = NULL;
    pg_ok(p, pg_cli(p, &out, NULL, "cloud", "bucket", "create", "team-a-data", NULL), "bucket create team-a-data");
    free(out);
    pg_ok(p, pg_cli(p, &out, NULL, "cloud", "bucket", "create", "team-b-data", NULL), "bucket create team-b-data");
    free(out);
    char *trust = wih_asprintf("system:serviceaccount:%s:app", ns);
    pg_ok(p, pg_cli(p, &out, NULL, "cloud", "role", "set", "team-a", "--trust", trust, "--grant", "team-a-data=readwrite", NULL),
          "role set team-a");
    free(out);
    free(trust);
    cJSON *role = pg_role(p, "team-a");
    *role_arn = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(role, "aws_role_arn")));
    *entra_id = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(role, "entra_client_id")));
    *google_sa = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(role, "google_service_account")));
    ck_assert_msg(*role_arn && *entra_id && *google_sa, "role list lacks a provider identifier");
    cJSON_Delete(role);
    pg_ok(p, pg_kubectl(p, &out, "create", "namespace", ns, NULL), "kubectl create namespace");
    free(out);
    static const char *const sas[] = {"app", "other"};
    for (int i = 0; i < 2; i++) {
        pg_ok(p, pg_kubectl(p, &out, "create", "serviceaccount", sas[i], "-n", ns, NULL), "kubectl create serviceaccount");
        free(out);
    }
}

char *pg_token_file(pg *p, const char *ns, const char *sa, const char *aud, const char *name, char **token_out)
{
    char *tok = NULL;
    int rc = pg_kubectl(p, &tok, "create", "token", sa, "-n", ns, "--audience", aud, "--duration", "20m", NULL);
    ck_assert_msg(rc == 0, "kubectl create token %s -n %s: exit %d", sa, ns, rc);
    tok[strcspn(tok, "\r\n")] = 0;
    ck_assert_msg(!strncmp(tok, "eyJ", 3), "kubectl create token printed no JWT");
    pg_secret(p, tok);
    char *path = wih_path_join(p->tmp, name);
    wih_err *e = NULL;
    ck_assert_msg(wih_write_file(path, tok, strlen(tok), 0600, &e) == 0, "%s", wih_err_str(e));
    if (token_out) {
        *token_out = tok;
    } else {
        OPENSSL_cleanse(tok, strlen(tok));
        free(tok);
    }
    return path;
}

void pg_secret(pg *p, const char *s)
{
    if (!s || strlen(s) < 8) return; /* nothing that short is a secret we issue */
    for (size_t i = 0; i < p->nsecrets; i++)
        if (!strcmp(p->secrets[i], s)) return;
    p->secrets = realloc(p->secrets, (p->nsecrets + 1) * sizeof *p->secrets);
    ck_assert_ptr_nonnull(p->secrets);
    p->secrets[p->nsecrets++] = wih_strdup(s);
}

/* The state dir's own secrets: the cloud's admin token, MinIO's root
 * credentials — wherever `up` keeps them (any file whose name says so). */
static void state_secrets(pg *p, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char *path = wih_path_join(dir, de->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && depth < 2 && strcmp(de->d_name, "logs") &&
            strcmp(de->d_name, "etcd") && strcmp(de->d_name, "data"))
            state_secrets(p, path, depth + 1);
        else if (S_ISREG(sb.st_mode) && sb.st_size < 4096 &&
                 (strstr(de->d_name, "token") || strstr(de->d_name, "password") || strstr(de->d_name, "secret") ||
                  strstr(de->d_name, "root") || strstr(de->d_name, "cred"))) {
            char *txt = wih_read_file(path, 4096, NULL, NULL);
            if (txt) {
                /* a JSON file ({"user","password"}) or a bare value */
                cJSON *j = cJSON_Parse(txt);
                if (cJSON_IsObject(j)) {
                    const cJSON *it;
                    cJSON_ArrayForEach(it, j) if (cJSON_IsString(it) && (strstr(it->string, "pass") ||
                                                                        strstr(it->string, "secret") ||
                                                                        strstr(it->string, "token")))
                        pg_secret(p, it->valuestring);
                } else {
                    size_t n = strlen(txt);
                    while (n && (txt[n - 1] == '\n' || txt[n - 1] == ' ')) txt[--n] = 0;
                    if (!strchr(txt, '\n')) pg_secret(p, txt);
                }
                cJSON_Delete(j);
                OPENSSL_cleanse(txt, strlen(txt));
                free(txt);
            }
        }
        free(path);
    }
    closedir(d);
}

void pg_up(pg *p, const char *prefix)
{
    memset(p, 0, sizeof *p);
    wih_err *e = NULL;
    p->tmp = wih_tmpdir(prefix, false, &e);
    ck_assert_msg(p->tmp, "%s", wih_err_str(e));
    p->state_dir = wih_path_join(p->tmp, "state");
    p->stderr_log = wih_path_join(p->tmp, "stderr.log");
    ck_assert_int_eq(wih_write_file(p->stderr_log, "", 0, 0600, &e), 0);
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_KUBECTL, false, &ti);
    p->kubectl = ti.path ? wih_strdup(ti.path) : NULL;
    wih_tool_info_free(&ti);

    char *out = NULL;
    int rc = pg_cli(p, &out, NULL, "up", "--no-node", NULL);
    ck_assert_msg(rc == 0, "wiharness up: exit %d (stderr in %s)", rc, p->stderr_log);
    free(out);
    p->state = cluster_local_state(p->state_dir, &e);
    ck_assert_msg(p->state, "%s", wih_err_str(e));
    ck_assert_msg(cJSON_IsObject(cJSON_GetObjectItem(p->state, "cloud")) &&
                      cJSON_IsObject(cJSON_GetObjectItem(p->state, "minio")),
                  "state.json has no \"cloud\"/\"minio\": this wiharness up does not start the mock cloud and MinIO");
    rc = pg_cli(p, &out, NULL, "env", NULL);
    ck_assert_msg(rc == 0, "wiharness env: exit %d", rc);
    parse_env(p, out);
    free(out);
    const char *need[] = {"KUBECONFIG", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE",
                          "REQUESTS_CA_BUNDLE", "AZURE_AUTHORITY_HOST", "WIH_GOOGLE_STS_URL", "WIH_GOOGLE_IAM_URL",
                          "WIH_CA_FILE", "WIH_CLOUD_URL", "WIH_MINIO_URL", "AWS_REGION"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        ck_assert_msg(pg_env(p, need[i]), "wiharness env does not print %s", need[i]);
    /* the chain's own secrets, named explicitly (then anything else that looks like one) */
    const char *tokf = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(p->state, "cloud"), "admin_token_file"));
    ck_assert_msg(tokf, "state.json names no cloud admin_token_file");
    char *tok = wih_read_file(tokf, 4096, NULL, &e);
    ck_assert_msg(tok, "%s", wih_err_str(e));
    tok[strcspn(tok, "\r\n")] = 0;
    pg_secret(p, tok);
    OPENSSL_cleanse(tok, strlen(tok));
    free(tok);
    size_t before = p->nsecrets;
    char *rootf = wih_path_join(p->state_dir, "cloud/minio-root.json");
    char *rj = wih_read_file(rootf, 4096, NULL, &e);
    ck_assert_msg(rj, "MinIO's root credentials: %s", wih_err_str(e));
    cJSON *r = cJSON_Parse(rj);
    pg_secret(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "password")));
    ck_assert_msg(p->nsecrets == before + 1, "no MinIO root password in %s", rootf);
    cJSON_Delete(r);
    OPENSSL_cleanse(rj, strlen(rj));
    free(rj);
    free(rootf);
    state_secrets(p, p->state_dir, 0);
}

void pg_down(pg *p)
{
    if (!p->tmp) return;
    if (p->state_dir) {
        char *out = NULL;
        int rc = pg_cli(p, &out, NULL, "down", NULL);
        free(out);
        if (rc != 0) {
            /* never leave a chain behind */
            cluster_local_opts o = {.state_dir = p->state_dir};
            wih_err_free(cluster_local_down(&o, false));
        }
    }
    wih_rm_rf(p->tmp);
    free(p->tmp);
    free(p->state_dir);
    free(p->stderr_log);
    free(p->kubectl);
    cJSON_Delete(p->state);
    for (size_t i = 0; i < p->nenv; i++) free(p->env[i]);
    free(p->env);
    for (size_t i = 0; i < p->nsecrets; i++) {
        OPENSSL_cleanse(p->secrets[i], strlen(p->secrets[i]));
        free(p->secrets[i]);
    }
    free(p->secrets);
    memset(p, 0, sizeof *p);
}

cJSON *pg_role(pg *p, const char *name)
{
    char *out = NULL;
    int rc = pg_cli(p, &out, NULL, "cloud", "role", "list", "-o", "json", NULL);
    ck_assert_msg(rc == 0, "cloud role list: exit %d", rc);
    cJSON *list = cJSON_Parse(out);
    ck_assert_msg(cJSON_IsArray(list), "cloud role list -o json is not a JSON list: %.200s", out);
    free(out);
    cJSON *found = NULL, *r;
    cJSON_ArrayForEach(r, list)
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "name"));
        if (n && !strcmp(n, name)) found = cJSON_Duplicate(r, true);
    }
    cJSON_Delete(list);
    ck_assert_msg(found, "role %s is not listed", name);
    return found;
}

static size_t scan_file(pg *p, const char *path)
{
    size_t n = 0;
    char *txt = wih_read_file(path, 256 << 20, &n, NULL);
    if (!txt) return 0;
    /* binary content (etcd's WAL would be elsewhere) is scanned as bytes too */
    for (size_t i = 0; i < n; i++)
        if (!txt[i]) txt[i] = ' ';
    for (size_t s = 0; s < p->nsecrets; s++)
        if (strstr(txt, p->secrets[s])) {
            char *fp = wih_fingerprint(p->secrets[s]);
            ck_abort_msg("secret #%zu (fingerprint %s) found in %s", s, fp, path);
            free(fp);
        }
    ck_assert_msg(!strstr(txt, "eyJhbGciOi"), "something JWT-shaped in %s", path);
    ck_assert_msg(!strstr(txt, "PRIVATE KEY"), "a private key in %s", path);
    free(txt);
    return n;
}

static size_t scan_dir(pg *p, const char *dir, int *nfiles)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t total = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char *path = wih_path_join(dir, de->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            total += scan_dir(p, path, nfiles);
        else if (S_ISREG(sb.st_mode)) {
            total += scan_file(p, path);
            (*nfiles)++;
        }
        free(path);
    }
    closedir(d);
    return total;
}

size_t pg_scan_logs(pg *p, const char *const *extra)
{
    fflush(stdout);
    fflush(stderr);
    ck_assert_msg(p->nsecrets >= 3, "only %zu secrets collected: the scan would prove little", p->nsecrets);
    int nfiles = 0;
    char *logs = wih_path_join(p->state_dir, "logs");
    size_t total = scan_dir(p, logs, &nfiles);
    ck_assert_msg(nfiles > 0, "no log files in %s", logs);
    free(logs);
    const char *dlog = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(p->state, "cloud"), "decision_log"));
    ck_assert_msg(dlog, "state.json names no cloud decision_log");
    size_t dn = scan_file(p, dlog);
    ck_assert_msg(dn > 0, "the decision log %s is empty or missing", dlog);
    total += dn;
    ck_assert_msg(p->ncommands > 0, "no command stderr recorded");
    total += scan_file(p, p->stderr_log);
    for (size_t i = 0; extra && extra[i]; i++) total += scan_file(p, extra[i]);
    return total;
}
