/* kubeconfig loading the way kubectl (client-go's clientcmd) does it:
 * KUBECONFIG lists merged with "first definition wins", relative paths
 * resolved against the defining file's directory, *-data fields decoded, and
 * exec credential plugins run and cached until their expiry.
 *
 * Facts from client-go (k8s.io/client-go/tools/clientcmd/loader.go and
 * plugin/pkg/client/auth/exec/exec.go):
 *   - missing files in a KUBECONFIG list are skipped; an explicit
 *     --kubeconfig must exist;
 *   - for each map (clusters, users, contexts) the first file that defines a
 *     name wins; current-context is taken from the first file that sets it;
 *   - relative certificate-authority, client-certificate, client-key,
 *     tokenFile and an exec command that contains a "/" resolve against the
 *     directory of the file that defined the entry (a bare command is looked
 *     up on PATH);
 *   - the exec plugin gets the process environment plus exec.env plus
 *     KUBERNETES_EXEC_INFO (an ExecCredential with spec.interactive and, with
 *     provideClusterInfo, spec.cluster); its stdout must be an ExecCredential
 *     of the same apiVersion; the credential is reused until
 *     status.expirationTimestamp has passed;
 *   - exec apiVersion v1 requires interactiveMode; "Always" cannot work
 *     without a terminal on stdin (we never give the plugin one). */
#include "wiharness/kube.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "kube_internal.h"

#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"
#define FILE_MAX ((size_t)4 << 20)

typedef struct kc_file {
    char *path;    /* as given */
    char *dir;     /* absolute directory, for relative paths */
    wih_ydocs *docs;
    const cJSON *root; /* borrowed from docs; may be NULL (empty file) */
} kc_file;

struct kube_config {
    char *context, *cluster, *user, *server, *ns, *source, *tls_server_name;
    bool insecure;
    char *ca_pem;
    size_t ca_len;
    char *ca_source;
    char *cert_pem, *key_pem;
    size_t cert_len, key_len;
    char *token;
    char *token_file;
    /* exec plugin */
    bool has_exec;
    char *exec_api, *exec_cmd, *exec_hint, *exec_origin;
    char **exec_argv; /* NULL-terminated */
    char **exec_env;  /* "K=V", NULL-terminated */
    bool exec_cluster_info;
    char *exec_cluster_json; /* spec.cluster for KUBERNETES_EXEC_INFO, or NULL */
    int exec_runs;
    char *ex_token, *ex_cert, *ex_key;
    size_t ex_cert_len, ex_key_len;
    int64_t ex_expiry; /* wall ms; 0 = none; -1 = no credential cached */
    char *file_token; /* last read tokenFile */
    int64_t exec_timeout_ms;
};

/* ------------------------------------------------------------------ base64 */
/* core's one base64: either alphabet, white space ignored (client-go's leniency) */
char *kube_b64_decode(const char *in, size_t *outlen)
{
    return (char *)wih_b64_decode(in, strlen(in), WIH_B64_LENIENT, outlen);
}

char *kube_b64_encode(const void *data, size_t len)
{
    return wih_b64_encode(data, len, 0);
}

/* ------------------------------------------------------------------ RFC 3339 */
bool kube_parse_rfc3339(const char *s, int64_t *ms)
{
    if (!s) return false;
    int Y, M, D, h, m, sec;
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3 || n != 10) return false;
    const char *p = s + 10;
    if (*p != 'T' && *p != 't' && *p != ' ') return false;
    p++;
    if (sscanf(p, "%2d:%2d:%2d%n", &h, &m, &sec, &n) != 3 || n != 8) return false;
    p += 8;
    int64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        int64_t scale = 100;
        while (*p >= '0' && *p <= '9') {
            if (scale >= 1) frac_ms += (*p - '0') * scale;
            scale /= 10;
            p++;
            digits++;
        }
        if (!digits) return false;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5) return false;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p) return false;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return false;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - off) * 1000 + frac_ms;
    return true;
}

/* --------------------------------------------------------------- helpers */
static void strv_free(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

static char *abs_dir_of(const char *path)
{
    char *copy = wih_strdup(path);
    char *slash = strrchr(copy, '/');
    char *dir;
    if (!slash)
        dir = wih_strdup(".");
    else if (slash == copy)
        dir = wih_strdup("/");
    else {
        *slash = '\0';
        dir = wih_strdup(copy);
    }
    free(copy);
    if (dir[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd)) {
            char *a = strcmp(dir, ".") ? wih_path_join(cwd, dir) : wih_strdup(cwd);
            free(dir);
            dir = a;
        }
    }
    return dir;
}

static char *resolve_rel(const kc_file *f, const char *p)
{
    if (!p || !*p) return NULL;
    /* client-go's ResolvePaths: absolute stays, anything else (even "~/x")
     * is joined to the directory of the defining file */
    if (p[0] == '/') return wih_strdup(p);
    return wih_path_join(f->dir, p);
}

/* Expect a string field (or absent). Wrong type → input error at the node. */
static int get_str(const kc_file *f, const cJSON *m, const char *key, const char **out, wih_err **err)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) {
        *err = wih_ydocs_err(f->docs, v, "%s must be a string", key);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

static int get_bool(const kc_file *f, const cJSON *m, const char *key, bool *out, wih_err **err)
{
    *out = false;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsBool(v)) {
        *err = wih_ydocs_err(f->docs, v, "%s must be true or false", key);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

/* Validate the shape of one file: a map whose clusters/users/contexts are
 * lists of {name: string, <sub>: map}. */
static int validate_file(const kc_file *f, wih_err **err)
{
    const cJSON *r = f->root;
    if (!r || cJSON_IsNull(r)) return 0;
    if (!cJSON_IsObject(r)) {
        *err = wih_ydocs_err(f->docs, r, "a kubeconfig must be a map (apiVersion: v1, kind: Config)");
        return -1;
    }
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(r, "current-context");
    if (cc && !cJSON_IsNull(cc) && !cJSON_IsString(cc)) {
        *err = wih_ydocs_err(f->docs, cc, "current-context must be a string");
        return -1;
    }
    static const struct {
        const char *list, *sub;
    } lists[] = {{"clusters", "cluster"}, {"users", "user"}, {"contexts", "context"}};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, lists[i].list);
        if (!l || cJSON_IsNull(l)) continue;
        if (!cJSON_IsArray(l)) {
            *err = wih_ydocs_err(f->docs, l, "%s must be a list", lists[i].list);
            return -1;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, l)
        {
            if (!cJSON_IsObject(e)) {
                *err = wih_ydocs_err(f->docs, e, "each entry of %s must be a map with name and %s",
                                     lists[i].list, lists[i].sub);
                return -1;
            }
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (!cJSON_IsString(n) || !*n->valuestring) {
                *err = wih_ydocs_err(f->docs, n ? n : e, "%s entry needs a non-empty string name",
                                     lists[i].list);
                return -1;
            }
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, lists[i].sub);
            if (s && !cJSON_IsNull(s) && !cJSON_IsObject(s)) {
                *err = wih_ydocs_err(f->docs, s, "%s %s: %s must be a map", lists[i].sub, n->valuestring,
                                     lists[i].sub);
                return -1;
            }
        }
    }
    return 0;
}

/* First definition of `name` in list `list` across files. */
static const cJSON *find_named(kc_file *files, size_t n, const char *list, const char *sub, const char *name,
                               const kc_file **where, const cJSON **entry)
{
    for (size_t i = 0; i < n; i++) {
        if (!files[i].root || !cJSON_IsObject(files[i].root)) continue;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(files[i].root, list);
        const cJSON *e;
        cJSON_ArrayForEach(e, l)
        {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name)) {
                *where = &files[i];
                if (entry) *entry = e;
                const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, sub);
                return s ? s : e; /* an entry with no body still "defines" the name */
            }
        }
    }
    return NULL;
}

/* Read data from either "<key>-data" (base64) or "<key>" (a path). */
static int load_pem_raw(const kc_file *f, const cJSON *m, const char *key, const char *what, char **pem,
                        size_t *len, char **source, wih_err **err);

/* Read it and check it is the PEM it should be: garbage is bad input at the
 * field (file:line:col), not a TLS error at the first request (issue 13). */
static int load_pem(const kc_file *f, const cJSON *m, const char *key, const char *what, char **pem, size_t *len,
                    char **source, wih_err **err)
{
    if (load_pem_raw(f, m, key, what, pem, len, source, err)) return -1;
    if (!*pem) return 0;
    char *why = wih_pem_problem(*pem, *len, strcmp(key, "client-key") ? WIH_PEM_CERT : WIH_PEM_KEY);
    if (!why) return 0;
    char *dkey = wih_asprintf("%s-data", key);
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(m, dkey);
    bool data = node && cJSON_IsString(node) && *node->valuestring;
    *err = wih_ydocs_err(f->docs, data ? node : cJSON_GetObjectItemCaseSensitive(m, key), "%s: the %s %s", data ? dkey : key,
                         what, why);
    free(dkey);
    free(why);
    free(*pem);
    *pem = NULL;
    if (source) {
        free(*source);
        *source = NULL;
    }
    return -1;
}

static int load_pem_raw(const kc_file *f, const cJSON *m, const char *key, const char *what, char **pem,
                        size_t *len, char **source, wih_err **err)
{
    char *dkey = wih_asprintf("%s-data", key);
    const char *data = NULL, *path = NULL;
    int rc = get_str(f, m, dkey, &data, err);
    if (rc == 0) rc = get_str(f, m, key, &path, err);
    if (rc != 0) {
        free(dkey);
        return -1;
    }
    if (data && *data) {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(m, dkey);
        *pem = kube_b64_decode(data, len);
        if (!*pem) {
            *err = wih_ydocs_err(f->docs, node, "%s is not valid base64", dkey);
            free(dkey);
            return -1;
        }
        if (source) *source = wih_asprintf("%s: %s", f->path, dkey);
        free(dkey);
        return 0;
    }
    if (path && *path) {
        char *full = resolve_rel(f, path);
        wih_err *e = NULL;
        *pem = wih_read_file(full, FILE_MAX, len, &e);
        if (!*pem) {
            const cJSON *node = cJSON_GetObjectItemCaseSensitive(m, key);
            *err = wih_ydocs_err(f->docs, node, "%s: cannot read %s %s: %s", key, what, full, e ? e->msg : "?");
            wih_err_free(e);
            free(full);
            free(dkey);
            return -1;
        }
        if (source)
            *source = full;
        else
            free(full);
    }
    free(dkey);
    return 0;
}

static int load_exec(kube_config *cfg, const kc_file *f, const cJSON *ex, wih_err **err)
{
    if (!cJSON_IsObject(ex)) {
        *err = wih_ydocs_err(f->docs, ex, "user %s: exec must be a map", cfg->user);
        return -1;
    }
    const char *api = NULL, *cmd = NULL, *hint = NULL, *imode = NULL;
    if (get_str(f, ex, "apiVersion", &api, err) || get_str(f, ex, "command", &cmd, err) ||
        get_str(f, ex, "installHint", &hint, err) || get_str(f, ex, "interactiveMode", &imode, err) ||
        get_bool(f, ex, "provideClusterInfo", &cfg->exec_cluster_info, err))
        return -1;
    if (!cmd || !*cmd) {
        *err = wih_ydocs_err(f->docs, ex, "user %s: exec needs a command", cfg->user);
        return -1;
    }
    if (!api || (strcmp(api, EXEC_V1) && strcmp(api, EXEC_V1BETA1))) {
        *err = wih_ydocs_err(f->docs, api ? cJSON_GetObjectItemCaseSensitive(ex, "apiVersion") : ex,
                             "user %s: exec apiVersion must be %s or %s (got %s)", cfg->user, EXEC_V1,
                             EXEC_V1BETA1, api ? api : "none");
        return -1;
    }
    if (imode && strcmp(imode, "Never") && strcmp(imode, "IfAvailable") && strcmp(imode, "Always")) {
        *err = wih_ydocs_err(f->docs, cJSON_GetObjectItemCaseSensitive(ex, "interactiveMode"),
                             "user %s: interactiveMode must be Never, IfAvailable or Always", cfg->user);
        return -1;
    }
    if (!imode && !strcmp(api, EXEC_V1)) {
        *err = wih_ydocs_err(f->docs, ex, "user %s: exec with apiVersion %s must set interactiveMode", cfg->user,
                             EXEC_V1);
        return -1;
    }
    if (imode && !strcmp(imode, "Always")) {
        *err = wih_ydocs_err(f->docs, cJSON_GetObjectItemCaseSensitive(ex, "interactiveMode"),
                             "user %s: exec plugin needs interactiveMode Always, but wiharness runs it without a "
                             "terminal on stdin",
                             cfg->user);
        return -1;
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(ex, "args");
    const cJSON *envl = cJSON_GetObjectItemCaseSensitive(ex, "env");
    if (args && !cJSON_IsNull(args) && !cJSON_IsArray(args)) {
        *err = wih_ydocs_err(f->docs, args, "exec args must be a list of strings");
        return -1;
    }
    if (envl && !cJSON_IsNull(envl) && !cJSON_IsArray(envl)) {
        *err = wih_ydocs_err(f->docs, envl, "exec env must be a list of {name, value}");
        return -1;
    }
    int na = cJSON_GetArraySize(args), ne = cJSON_GetArraySize(envl);
    cfg->exec_argv = wih_xcalloc((size_t)na + 2, sizeof(char *));
    cfg->exec_env = wih_xcalloc((size_t)ne + 2, sizeof(char *));
    cfg->exec_cmd = strchr(cmd, '/') ? resolve_rel(f, cmd) : wih_strdup(cmd);
    cfg->exec_argv[0] = wih_strdup(cfg->exec_cmd);
    int k = 1;
    const cJSON *a;
    cJSON_ArrayForEach(a, args)
    {
        if (!cJSON_IsString(a)) {
            *err = wih_ydocs_err(f->docs, a, "exec args must be strings");
            return -1;
        }
        cfg->exec_argv[k++] = wih_strdup(a->valuestring);
    }
    k = 0;
    cJSON_ArrayForEach(a, envl)
    {
        const char *n = NULL, *v = NULL;
        if (!cJSON_IsObject(a) || get_str(f, a, "name", &n, err) || get_str(f, a, "value", &v, err) || !n) {
            if (!*err) *err = wih_ydocs_err(f->docs, a, "exec env entries need name and value");
            return -1;
        }
        cfg->exec_env[k++] = wih_asprintf("%s=%s", n, v ? v : "");
    }
    cfg->exec_api = wih_strdup(api);
    cfg->exec_hint = wih_strdup(hint);
    cfg->exec_origin = wih_strdup(f->path);
    cfg->has_exec = true;
    cfg->ex_expiry = -1;
    return 0;
}

static int load_cluster(kube_config *cfg, const kc_file *f, const cJSON *c, wih_err **err)
{
    const char *server = NULL, *tsn = NULL;
    if (get_str(f, c, "server", &server, err) || get_str(f, c, "tls-server-name", &tsn, err) ||
        get_bool(f, c, "insecure-skip-tls-verify", &cfg->insecure, err))
        return -1;
    if (!server || !*server) {
        *err = wih_ydocs_err(f->docs, c, "cluster %s has no server", cfg->cluster);
        return -1;
    }
    if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)) {
        *err = wih_ydocs_err(f->docs, cJSON_GetObjectItemCaseSensitive(c, "server"),
                             "cluster %s: server must be an http(s):// URL", cfg->cluster);
        return -1;
    }
    CURLU *u = curl_url();
    CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, server, 0) : CURLUE_OUT_OF_MEMORY;
    curl_url_cleanup(u);
    if (uc != CURLUE_OK) {
        *err = wih_ydocs_err(f->docs, cJSON_GetObjectItemCaseSensitive(c, "server"), "cluster %s: server %s: %s",
                             cfg->cluster, server, curl_url_strerror(uc));
        return -1;
    }
    cfg->server = wih_strdup(server);
    size_t sl = strlen(cfg->server);
    while (sl > 8 && cfg->server[sl - 1] == '/') cfg->server[--sl] = '\0';
    cfg->tls_server_name = tsn && *tsn ? wih_strdup(tsn) : NULL;
    if (load_pem(f, c, "certificate-authority", "CA file", &cfg->ca_pem, &cfg->ca_len, &cfg->ca_source, err))
        return -1;
    {
        /* spec.cluster as client-go's ExecCredential carries it (sent with provideClusterInfo) */
        cJSON *cl = cJSON_CreateObject();
        cJSON_AddStringToObject(cl, "server", cfg->server);
        if (cfg->tls_server_name) cJSON_AddStringToObject(cl, "tls-server-name", cfg->tls_server_name);
        if (cfg->insecure) cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true);
        if (cfg->ca_pem) {
            char *b = kube_b64_encode(cfg->ca_pem, cfg->ca_len);
            cJSON_AddStringToObject(cl, "certificate-authority-data", b);
            free(b);
        }
        const cJSON *ext = cJSON_GetObjectItemCaseSensitive(c, "extensions");
        const cJSON *e;
        cJSON_ArrayForEach(e, ext)
        {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (cJSON_IsString(n) && !strcmp(n->valuestring, "client.authentication.k8s.io/exec")) {
                const cJSON *ce = cJSON_GetObjectItemCaseSensitive(e, "extension");
                if (ce) cJSON_AddItemToObject(cl, "config", cJSON_Duplicate(ce, true));
            }
        }
        cfg->exec_cluster_json = cJSON_PrintUnformatted(cl);
        cJSON_Delete(cl);
    }
    return 0;
}

static int load_user(kube_config *cfg, const kc_file *f, const cJSON *u, wih_err **err)
{
    const char *token = NULL, *tf = NULL;
    if (get_str(f, u, "token", &token, err) || get_str(f, u, "tokenFile", &tf, err)) return -1;
    cfg->token = token && *token ? wih_strdup(token) : NULL;
    if (tf && *tf) {
        cfg->token_file = resolve_rel(f, tf);
        if (access(cfg->token_file, R_OK) != 0) {
            *err = wih_ydocs_err(f->docs, cJSON_GetObjectItemCaseSensitive(u, "tokenFile"),
                                 "user %s: cannot read tokenFile %s: %s", cfg->user, cfg->token_file,
                                 strerror(errno));
            return -1;
        }
    }
    if (load_pem(f, u, "client-certificate", "client certificate", &cfg->cert_pem, &cfg->cert_len, NULL, err) ||
        load_pem(f, u, "client-key", "client key", &cfg->key_pem, &cfg->key_len, NULL, err))
        return -1;
    if (!!cfg->cert_pem != !!cfg->key_pem) {
        *err = wih_ydocs_err(f->docs, u, "user %s: client-certificate and client-key must be given together",
                             cfg->user);
        return -1;
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(u, "exec");
    if (ex && !cJSON_IsNull(ex) && load_exec(cfg, f, ex, err)) return -1;
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(u, "auth-provider");
    if (ap && !cJSON_IsNull(ap)) {
        *err = wih_ydocs_err(f->docs, ap,
                             "user %s: auth-provider plugins were removed from kubectl; use an exec plugin",
                             cfg->user);
        return -1;
    }
    return 0;
}

void kube_config_free(kube_config *cfg)
{
    if (!cfg) return;
    free(cfg->context);
    free(cfg->cluster);
    free(cfg->user);
    free(cfg->server);
    free(cfg->ns);
    free(cfg->source);
    free(cfg->tls_server_name);
    free(cfg->ca_pem);
    free(cfg->ca_source);
    free(cfg->cert_pem);
    free(cfg->key_pem);
    free(cfg->token);
    free(cfg->token_file);
    free(cfg->exec_api);
    free(cfg->exec_cmd);
    free(cfg->exec_hint);
    free(cfg->exec_origin);
    strv_free(cfg->exec_argv);
    strv_free(cfg->exec_env);
    free(cfg->exec_cluster_json);
    free(cfg->ex_token);
    free(cfg->ex_cert);
    free(cfg->ex_key);
    free(cfg->file_token);
    free(cfg);
}

/* The candidate paths and the files read from them. */
static void free_inputs(kc_file *files, size_t nf, char **paths, size_t np)
{
    for (size_t i = 0; i < nf; i++) {
        free(files[i].path);
        free(files[i].dir);
        wih_ydocs_free(files[i].docs);
    }
    free(files);
    for (size_t i = 0; i < np; i++) free(paths[i]);
    free(paths);
}

/* ------------------------------------------------------------- in-cluster */
static char *in_cluster_server(wih_err **err)
{
    const char *h = getenv("KUBERNETES_SERVICE_HOST"), *p = getenv("KUBERNETES_SERVICE_PORT");
    if (!h || !*h || !p || !*p) {
        *err = wih_err_new(WIH_EXIT_INFRA, "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                                           "must be set (not running in a pod?)");
        return NULL;
    }
    char *end = NULL;
    long port = strtol(p, &end, 10);
    if (*end || port < 1 || port > 65535) {
        *err = wih_err_new(WIH_EXIT_INFRA, "in-cluster config: KUBERNETES_SERVICE_PORT=%s is not a port", p);
        return NULL;
    }
    return strchr(h, ':') ? wih_asprintf("https://[%s]:%ld", h, port) : wih_asprintf("https://%s:%ld", h, port);
}

kube_config *kube_config_in_cluster(const char *sa_dir, wih_err **err)
{
    const char *dir = sa_dir && *sa_dir ? sa_dir : KUBE_SA_DIR;
    char *server = in_cluster_server(err);
    if (!server) return NULL;
    kube_config *cfg = wih_xcalloc(1, sizeof *cfg);
    cfg->server = server;
    cfg->context = wih_strdup("in-cluster");
    cfg->cluster = wih_strdup("in-cluster");
    cfg->user = wih_strdup("serviceaccount");
    cfg->source = wih_strdup(dir);
    cfg->exec_timeout_ms = 0;
    cfg->token_file = wih_path_join(dir, "token");
    cfg->ca_source = wih_path_join(dir, "ca.crt");
    char *nsf = wih_path_join(dir, "namespace");
    wih_err *e = NULL;
    size_t n = 0;
    char *ns = wih_read_file(nsf, 4096, &n, NULL);
    while (ns && n && (ns[n - 1] == '\n' || ns[n - 1] == ' ')) ns[--n] = '\0';
    cfg->ns = ns && *ns ? ns : wih_strdup("default");
    if (ns && !*ns) free(ns);
    free(nsf);
    if (access(cfg->token_file, R_OK) != 0)
        e = wih_err_new(WIH_EXIT_INFRA, "in-cluster config: cannot read the ServiceAccount token %s: %s",
                        cfg->token_file, strerror(errno));
    else if (!(cfg->ca_pem = wih_read_file(cfg->ca_source, FILE_MAX, &cfg->ca_len, &e)))
        e = wih_err_wrap(e, "in-cluster config: the cluster CA");
    if (e) {
        *err = e;
        kube_config_free(cfg);
        return NULL;
    }
    return cfg;
}

kube_config *kube_config_load(const kube_config_opts *opts, wih_err **err)
{
    kube_config_opts none = {0};
    if (!opts) opts = &none;
    if (opts->in_cluster) return kube_config_in_cluster(opts->sa_dir, err);
    /* the list of candidate files */
    char **paths = NULL;
    size_t np = 0;
    bool must_exist = false;
    char *list = NULL;
    if (opts->kubeconfig && *opts->kubeconfig) {
        paths = wih_xcalloc(1, sizeof *paths);
        paths[np++] = wih_strdup(opts->kubeconfig);
        must_exist = true;
    } else {
        const char *env = opts->kubeconfig_env ? opts->kubeconfig_env : getenv("KUBECONFIG");
        if (env && *env) {
            list = wih_strdup(env);
            size_t cap = 1;
            for (const char *p = env; *p; p++) cap += *p == ':';
            paths = wih_xcalloc(cap, sizeof *paths);
            char *save = NULL;
            for (char *t = strtok_r(list, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
                bool dup = false;
                for (size_t i = 0; i < np; i++) dup |= !strcmp(paths[i], t);
                if (*t && !dup) paths[np++] = wih_strdup(t);
            }
        } else {
            const char *home = getenv("HOME");
            paths = wih_xcalloc(1, sizeof *paths);
            paths[np++] = wih_path_join(home ? home : "/", ".kube/config");
        }
    }
    free(list);

    kc_file *files = wih_xcalloc(np ? np : 1, sizeof *files);
    size_t nf = 0;
    kube_config *cfg = NULL;
    for (size_t i = 0; i < np; i++) {
        if (!must_exist && access(paths[i], F_OK) != 0) continue;
        wih_err *e = NULL;
        wih_ydocs *d = wih_yaml_load_file(paths[i], &e);
        if (!d) {
            *err = wih_err_wrap(e, "loading kubeconfig");
            goto fail;
        }
        kc_file *f = &files[nf++];
        f->path = wih_strdup(paths[i]);
        f->dir = abs_dir_of(paths[i]);
        f->docs = d;
        if (wih_ydocs_count(d) > 1) {
            *err = wih_ydocs_err(d, wih_ydocs_root(d, 1), "a kubeconfig holds one YAML document");
            goto fail;
        }
        f->root = wih_ydocs_root(d, 0);
        if (validate_file(f, err)) goto fail;
    }
    if (nf == 0) {
        *err = wih_err_new(WIH_EXIT_INPUT,
                           "no kubeconfig found (looked in %s%s); pass --kubeconfig or set KUBECONFIG",
                           np ? paths[0] : "?", np > 1 ? " and the rest of KUBECONFIG" : "");
        goto fail;
    }

    /* which context */
    const char *ctx_name = opts->context && *opts->context ? opts->context : NULL;
    const kc_file *cc_file = NULL;
    if (!ctx_name) {
        for (size_t i = 0; i < nf && !ctx_name; i++) {
            const cJSON *cc = cJSON_GetObjectItemCaseSensitive(files[i].root, "current-context");
            if (cJSON_IsString(cc) && *cc->valuestring) {
                ctx_name = cc->valuestring;
                cc_file = &files[i];
            }
        }
    }
    if (!ctx_name) {
        *err = wih_err_at(WIH_EXIT_INPUT, files[0].path, 0, 0,
                          "no current-context is set%s; pass --context", nf > 1 ? " in any KUBECONFIG file" : "");
        goto fail;
    }
    const kc_file *cf = NULL;
    const cJSON *ctx = find_named(files, nf, "contexts", "context", ctx_name, &cf, NULL);
    if (!ctx) {
        if (cc_file)
            *err = wih_ydocs_err(cc_file->docs, cJSON_GetObjectItemCaseSensitive(cc_file->root, "current-context"),
                                 "context \"%s\" not found in the kubeconfig", ctx_name);
        else
            *err = wih_err_at(WIH_EXIT_INPUT, files[0].path, 0, 0, "context \"%s\" (from --context) not found%s",
                              ctx_name, nf > 1 ? " in any KUBECONFIG file" : "");
        goto fail;
    }
    cfg = wih_xcalloc(1, sizeof *cfg);
    cfg->exec_timeout_ms = opts ? opts->exec_timeout_ms : 0;
    cfg->context = wih_strdup(ctx_name);
    cfg->source = wih_strdup(cf->path);
    const char *cl_name = NULL, *us_name = NULL, *ns = NULL;
    if (get_str(cf, ctx, "cluster", &cl_name, err) || get_str(cf, ctx, "user", &us_name, err) ||
        get_str(cf, ctx, "namespace", &ns, err))
        goto fail;
    cfg->ns = wih_strdup(ns && *ns ? ns : "default");
    if (!cl_name || !*cl_name) {
        *err = wih_ydocs_err(cf->docs, ctx, "context \"%s\" names no cluster", ctx_name);
        goto fail;
    }
    const kc_file *clf = NULL, *uf = NULL;
    const cJSON *cl = find_named(files, nf, "clusters", "cluster", cl_name, &clf, NULL);
    if (!cl) {
        *err = wih_ydocs_err(cf->docs, cJSON_GetObjectItemCaseSensitive(ctx, "cluster"),
                             "cluster \"%s\" (of context \"%s\") not found in the kubeconfig", cl_name, ctx_name);
        goto fail;
    }
    cfg->cluster = wih_strdup(cl_name);
    const cJSON *us = NULL;
    if (us_name && *us_name) {
        us = find_named(files, nf, "users", "user", us_name, &uf, NULL);
        if (!us) {
            *err = wih_ydocs_err(cf->docs, cJSON_GetObjectItemCaseSensitive(ctx, "user"),
                                 "user \"%s\" (of context \"%s\") not found in the kubeconfig", us_name, ctx_name);
            goto fail;
        }
    }
    cfg->user = wih_strdup(us_name ? us_name : "");
    if (!cJSON_IsObject(cl)) {
        *err = wih_ydocs_err(clf->docs, cl, "cluster \"%s\" has no cluster map", cl_name);
        goto fail;
    }
    /* provideClusterInfo needs the cluster first: load the user's exec flag
     * after the cluster (the cluster JSON is always prepared). */
    if (load_cluster(cfg, clf, cl, err)) goto fail;
    if (us && cJSON_IsObject(us) && load_user(cfg, uf, us, err)) goto fail;

    free_inputs(files, nf, paths, np);
    return cfg;
fail:
    kube_config_free(cfg);
    free_inputs(files, nf, paths, np);
    return NULL;
}

const char *kube_config_context(const kube_config *c) { return c->context; }
const char *kube_config_cluster(const kube_config *c) { return c->cluster; }
const char *kube_config_user(const kube_config *c) { return c->user; }
const char *kube_config_server(const kube_config *c) { return c->server; }
const char *kube_config_namespace(const kube_config *c) { return c->ns; }
const char *kube_config_source(const kube_config *c) { return c->source; }
const char *kube_config_tls_server_name(const kube_config *c) { return c->tls_server_name; }
bool kube_config_insecure(const kube_config *c) { return c->insecure; }
const char *kube_config_ca_source(const kube_config *c) { return c->ca_source; }
int kube_config_exec_runs(const kube_config *c) { return c->exec_runs; }

const char *kube_config_ca_pem(const kube_config *c, size_t *len)
{
    if (len) *len = c->ca_len;
    return c->ca_pem;
}

/* ------------------------------------------------------------- exec plugin */
static char *trim_dup(const char *s, size_t max)
{
    if (!s) return wih_strdup("");
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    if (n > max) return wih_asprintf("%.*s…", (int)max, s);
    return wih_asprintf("%.*s", (int)n, s);
}

static int run_exec(kube_config *cfg, wih_err **err)
{
    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "kind", "ExecCredential");
    cJSON_AddStringToObject(info, "apiVersion", cfg->exec_api);
    cJSON *spec = cJSON_AddObjectToObject(info, "spec");
    if (cfg->exec_cluster_info && cfg->exec_cluster_json)
        cJSON_AddItemToObject(spec, "cluster", cJSON_Parse(cfg->exec_cluster_json));
    cJSON_AddBoolToObject(spec, "interactive", false);
    char *info_s = cJSON_PrintUnformatted(info);
    cJSON_Delete(info);
    size_t ne = 0;
    while (cfg->exec_env[ne]) ne++;
    char **env = wih_xcalloc(ne + 2, sizeof *env);
    for (size_t i = 0; i < ne; i++) env[i] = cfg->exec_env[i];
    char *info_env = wih_asprintf("KUBERNETES_EXEC_INFO=%s", info_s);
    free(info_s);
    env[ne] = info_env;
    char *out = NULL, *errout = NULL;
    wih_err *e = NULL;
    cfg->exec_runs++;
    wih_debug("kube: running exec credential plugin %s for user %s", cfg->exec_cmd, cfg->user);
    int rc = wih_run_capture(cfg->exec_argv, env, NULL, cfg->exec_timeout_ms > 0 ? cfg->exec_timeout_ms : 60000,
                             &out, &errout, &e);
    free(env);
    free(info_env);
    if (rc != 0) {
        char *se = trim_dup(errout, 2000);
        if (rc < 0)
            *err = wih_err_new(e ? wih_err_exit(e) : WIH_EXIT_INFRA, /* 130 when interrupted */
                               "exec credential plugin %s (user %s in %s) could not run: %s%s%s",
                               cfg->exec_cmd, cfg->user, cfg->exec_origin, e ? e->msg : "?",
                               cfg->exec_hint ? "; " : "", cfg->exec_hint ? cfg->exec_hint : "");
        else if (rc == 127 && cfg->exec_hint)
            *err = wih_err_new(WIH_EXIT_INFRA, "exec credential plugin %s (user %s in %s) not found: %s; %s",
                               cfg->exec_cmd, cfg->user, cfg->exec_origin, se, cfg->exec_hint);
        else
            *err = wih_err_new(WIH_EXIT_INFRA,
                               "exec credential plugin %s (user %s in %s) failed with exit status %d: %s",
                               cfg->exec_cmd, cfg->user, cfg->exec_origin, rc, *se ? se : "(no stderr)");
        free(se);
        wih_err_free(e);
        free(out);
        free(errout);
        return -1;
    }
    free(errout);
    wih_err *pe = NULL;
    char *name = wih_asprintf("output of exec plugin %s", cfg->exec_cmd);
    cJSON *cred = wih_json_parse(name, out ? out : "", &pe);
    free(name);
    free(out);
    if (!cred) {
        *err = wih_err_new(WIH_EXIT_INFRA, "exec credential plugin (user %s): %s", cfg->user, wih_err_str(pe));
        wih_err_free(pe);
        return -1;
    }
    int ret = -1;
    const char *kind = kube_obj_str(cred, "kind"), *api = kube_obj_str(cred, "apiVersion");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(cred, "status");
    if (!kind || strcmp(kind, "ExecCredential")) {
        *err = wih_err_new(WIH_EXIT_INFRA, "exec credential plugin %s printed kind %s, not ExecCredential",
                           cfg->exec_cmd, kind ? kind : "(none)");
        goto out;
    }
    if (!api || strcmp(api, cfg->exec_api)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "exec credential plugin %s is configured for %s but printed %s",
                           cfg->exec_cmd, cfg->exec_api, api ? api : "no apiVersion");
        goto out;
    }
    const char *tok = kube_obj_str(st, "token");
    const char *cd = kube_obj_str(st, "clientCertificateData"), *kd = kube_obj_str(st, "clientKeyData");
    const char *exp = kube_obj_str(st, "expirationTimestamp");
    if (!cJSON_IsObject(st) || (!(tok && *tok) && !(cd && *cd && kd && *kd))) {
        *err = wih_err_new(WIH_EXIT_INFRA,
                           "exec credential plugin %s printed no status.token and no "
                           "status.clientCertificateData+clientKeyData",
                           cfg->exec_cmd);
        goto out;
    }
    if (!!(cd && *cd) != !!(kd && *kd)) {
        *err = wih_err_new(WIH_EXIT_INFRA,
                           "exec credential plugin %s printed only one of clientCertificateData and clientKeyData",
                           cfg->exec_cmd);
        goto out;
    }
    int64_t expiry = 0;
    if (exp && *exp && !kube_parse_rfc3339(exp, &expiry)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "exec credential plugin %s: expirationTimestamp \"%s\" is not RFC 3339",
                           cfg->exec_cmd, exp);
        goto out;
    }
    free(cfg->ex_token);
    free(cfg->ex_cert);
    free(cfg->ex_key);
    cfg->ex_token = tok && *tok ? wih_strdup(tok) : NULL;
    /* client-go: the plugin's cert/key are PEM strings, not base64 */
    cfg->ex_cert = cd && *cd ? wih_strdup(cd) : NULL;
    cfg->ex_key = kd && *kd ? wih_strdup(kd) : NULL;
    cfg->ex_cert_len = cfg->ex_cert ? strlen(cfg->ex_cert) : 0;
    cfg->ex_key_len = cfg->ex_key ? strlen(cfg->ex_key) : 0;
    cfg->ex_expiry = expiry;
    if (cfg->ex_token) {
        char *fp = wih_fingerprint(cfg->ex_token);
        wih_debug("kube: exec plugin gave token %s (expires %s)", fp, exp ? exp : "never");
        free(fp);
    }
    ret = 0;
out:
    cJSON_Delete(cred);
    return ret;
}

void kube_config_invalidate_exec(kube_config *cfg)
{
    if (cfg->has_exec) cfg->ex_expiry = -1;
}

bool kube_config_has_exec(const kube_config *cfg) { return cfg->has_exec; }

int kube_config_creds(kube_config *cfg, kube_creds *out, wih_err **err)
{
    memset(out, 0, sizeof *out);
    out->token = cfg->token;
    if (cfg->token_file) {
        size_t len = 0;
        wih_err *e = NULL;
        char *t = wih_read_file(cfg->token_file, 1 << 20, &len, &e);
        if (t) {
            while (len && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' ')) t[--len] = '\0';
            if (*t) {
                free(cfg->file_token);
                cfg->file_token = t;
            } else {
                free(t);
            }
        } else if (!cfg->file_token && !cfg->token) {
            *err = wih_err_new(WIH_EXIT_INPUT, "user %s: reading tokenFile: %s", cfg->user, e->msg);
            wih_err_free(e);
            return -1;
        }
        wih_err_free(e);
        /* client-go: the file is re-read, and the last successfully read
         * value takes precedence over token */
        if (cfg->file_token) out->token = cfg->file_token;
    }
    out->cert_pem = cfg->cert_pem;
    out->cert_len = cfg->cert_len;
    out->key_pem = cfg->key_pem;
    out->key_len = cfg->key_len;
    if (cfg->has_exec) {
        bool expired = cfg->ex_expiry < 0 || (cfg->ex_expiry > 0 && wih_wall_ms() >= cfg->ex_expiry);
        if (expired && run_exec(cfg, err)) return -1;
        out->from_exec = true;
        out->expires_ms = cfg->ex_expiry;
        if (cfg->ex_token) out->token = cfg->ex_token;
        if (cfg->ex_cert) {
            out->cert_pem = cfg->ex_cert;
            out->cert_len = cfg->ex_cert_len;
            out->key_pem = cfg->ex_key;
            out->key_len = cfg->ex_key_len;
        }
    }
    return 0;
}

const char *kube_obj_str(const cJSON *obj, const char *dotted)
{
    if (!obj || !dotted) return NULL;
    const cJSON *cur = obj;
    const char *p = dotted;
    while (*p && cur) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[256];
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, key) : NULL;
        p = dot ? dot + 1 : p + n;
    }
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}
