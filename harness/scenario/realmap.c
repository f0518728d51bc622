/* The real map (include/wiharness/realmap.h, docs/realmap.schema.json):
 * loaded with positions, every error file:line:col (exit 2). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "wiharness/realmap.h"
#include "wiharness/yamljson.h"

typedef struct ld {
    wih_ydocs *d;
    const char *file;
    char *text; /* the file, for key positions */
} ld;

/* Where member's KEY is written: the loader records the value's position;
 * look for `key:` before it on its line, then on the lines above. */
static wih_pos key_pos(const ld *L, const cJSON *member)
{
    wih_pos vp = {0, 0};
    if (!wih_ydocs_pos(L->d, member, &vp) || !L->text || !member->string) return vp;
    const char *lines[64];
    int first = vp.line > 63 ? vp.line - 63 : 1, ln = 1;
    for (const char *t = L->text; t && ln <= vp.line; ln++) {
        if (ln >= first) lines[ln - first] = t;
        t = strchr(t, '\n');
        if (t) t++;
    }
    if (ln <= vp.line) return vp;
    size_t kl = strlen(member->string);
    for (int l = vp.line; l >= first; l--) {
        const char *b = lines[l - first];
        size_t len = strcspn(b, "\n");
        if (l == vp.line && (size_t)(vp.col - 1) < len) len = (size_t)(vp.col - 1);
        const char *best = NULL;
        for (const char *q = b; (q = strstr(q, member->string)) && (size_t)(q - b) + kl <= len; q++) {
            const char *after = q + kl + (q[kl] == '"' || q[kl] == '\'');
            bool quoted = q > b && (q[-1] == '"' || q[-1] == '\'');
            if (*after == ':') best = quoted ? q - 1 : q;
        }
        if (best) return (wih_pos){l, (int)(best - b) + 1};
    }
    return vp;
}

/* An error about a map member as a whole: at its key. */
static wih_err *at_key(const ld *L, const cJSON *member, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static wih_err *at_key(const ld *L, const cJSON *member, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wih_pos p = key_pos(L, member);
    return wih_err_at(WIH_EXIT_INPUT, L->file, p.line, p.col, "%s", msg);
}

static const char *const k_profiles[] = {"aws-irsa", "azure-wi", "gcp-fleet", NULL};

static bool in_list(const char *s, const char *const *l)
{
    for (; *l; l++)
        if (!strcmp(s, *l)) return true;
    return false;
}

/* Every key of obj must be one of allowed. */
static wih_err *only_keys(const ld *L, const cJSON *obj, const char *what, const char *const *allowed)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        if (in_list(m->string, allowed)) continue;
        wih_buf b;
        wih_buf_init(&b, 4096);
        wih_buf_adds(&b, "");
        for (const char *const *a = allowed; *a; a++) wih_buf_addf(&b, "%s%s", b.len ? ", " : "", *a);
        wih_err *e = at_key(L, m, "%s: unknown key \"%s\" (expected %s)", what, m->string, b.data);
        wih_buf_free(&b);
        return e;
    }
    return NULL;
}

static wih_err *need_map(const ld *L, const cJSON *n, const char *what)
{
    return cJSON_IsObject(n) ? NULL : wih_ydocs_err(L->d, n, "%s: expected a map", what);
}

/* An optional non-empty string member into *out. */
static wih_err *opt_str(const ld *L, const cJSON *obj, const char *key, const char *what, char **out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!n) return NULL;
    if (!cJSON_IsString(n) || !*n->valuestring)
        return wih_ydocs_err(L->d, n, "%s.%s: expected a non-empty string", what, key);
    *out = wih_strdup(n->valuestring);
    return NULL;
}

static wih_err *url_ok(const ld *L, const cJSON *obj, const char *key, const char *what)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *s = cJSON_GetStringValue(n);
    if (s && strncmp(s, "https://", 8) && strncmp(s, "http://", 7))
        return wih_ydocs_err(L->d, n, "%s.%s: \"%s\" is not an http(s) URL", what, key, s);
    return NULL;
}

/* {logical: string}; principals checked per profile. */
static wih_err *name_map(const ld *L, const cJSON *n, const char *what, const char *profile, bool roles)
{
    wih_err *e = need_map(L, n, what);
    const cJSON *m;
    cJSON_ArrayForEach(m, n)
    {
        if (e) break;
        const char *v = cJSON_GetStringValue(m);
        if (!v || !*v) return wih_ydocs_err(L->d, m, "%s.%s: expected a non-empty string", what, m->string);
        if (!roles && !s3_bucket_name_ok(v))
            e = wih_ydocs_err(L->d, m, "%s.%s: \"%s\" is not a valid bucket name", what, m->string, v);
        else if (roles && !strcmp(profile, "aws-irsa") && strncmp(v, "arn:aws", 7))
            e = wih_ydocs_err(L->d, m, "%s.%s: \"%s\" is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", what,
                              m->string, v);
        else if (roles && !strcmp(profile, "aws-irsa") && !strstr(v, ":role/"))
            e = wih_ydocs_err(L->d, m, "%s.%s: \"%s\" is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", what,
                              m->string, v);
        else if (roles && !strcmp(profile, "gcp-fleet") && !strchr(v, '@'))
            e = wih_ydocs_err(L->d, m, "%s.%s: \"%s\" is not a service account email", what, m->string, v);
    }
    return e;
}

/* ------------------------------------------------------------ credentials */
static char *cred_member(cJSON *j, const char *k)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(j, k);
    char *v = cJSON_IsString(n) && *n->valuestring ? wih_strdup(n->valuestring) : NULL;
    if (cJSON_IsString(n)) OPENSSL_cleanse(n->valuestring, strlen(n->valuestring));
    return v;
}

static wih_err *creds_file_at(const ld *L, const cJSON *n, const char *path, realmap_profile *p)
{
    struct stat st;
    if (stat(path, &st)) return wih_ydocs_err(L->d, n, "credentials.file %s: cannot be read", path);
    if (st.st_mode & 077)
        return wih_ydocs_err(L->d, n, "credentials.file %s: mode %04o lets others read it: must be 0600", path,
                             (unsigned)(st.st_mode & 07777));
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_file(path, &e);
    if (!d) {
        wih_err *at = wih_ydocs_err(L->d, n, "credentials.file %s: %s", path, wih_err_str(e));
        wih_err_free(e);
        return at;
    }
    cJSON *j = wih_ydocs_root(d, 0);
    p->creds.access_key = cred_member(j, "accessKeyId");
    p->creds.secret_key = cred_member(j, "secretAccessKey");
    p->creds.session_token = cred_member(j, "sessionToken");
    wih_ydocs_free(d);
    p->creds_from = wih_asprintf("file %s", path);
    if (!p->creds.access_key || !p->creds.secret_key)
        return wih_ydocs_err(L->d, n, "credentials.file %s: needs accessKeyId and secretAccessKey", path);
    return NULL;
}

/* A relative path is relative to the map's directory. */
static char *beside(const char *map, const char *path)
{
    const char *slash = strrchr(map, '/');
    if (path[0] == '/' || !slash) return wih_strdup(path);
    return wih_asprintf("%.*s/%s", (int)(slash - map), map, path);
}

static wih_err *creds_file(const ld *L, const cJSON *n, realmap_profile *p)
{
    const char *given = cJSON_GetStringValue(n);
    if (!given || !*given) return wih_ydocs_err(L->d, n, "credentials.file: expected a path");
    char *path = beside(L->file, given);
    wih_err *e = creds_file_at(L, n, path, p);
    free(path);
    return e;
}
static char *env_value(const cJSON *names, const char *k)
{
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(names, k));
    const char *v = n ? getenv(n) : NULL;
    return v && *v ? wih_strdup(v) : NULL;
}

static wih_err *creds_env(const ld *L, const cJSON *n, realmap_profile *p)
{
    static const char *const keys[] = {"accessKeyId", "secretAccessKey", "sessionToken", NULL};
    wih_err *e = need_map(L, n, "credentials.env");
    if (!e) e = only_keys(L, n, "credentials.env", keys);
    for (const char *const *k = keys; !e && *k; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(n, *k);
        if (v && (!cJSON_IsString(v) || !*v->valuestring))
            e = wih_ydocs_err(L->d, v, "credentials.env.%s: expected an environment variable name", *k);
        else if (!v && strcmp(*k, "sessionToken"))
            e = at_key(L, n, "credentials.env: needs %s (the variable's name)", *k);
    }
    if (e) return e;
    const char *ak = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n, "accessKeyId"));
    const char *sk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n, "secretAccessKey"));
    p->creds_from = wih_asprintf("env %s/%s", ak, sk);
    p->creds.access_key = env_value(n, "accessKeyId");
    p->creds.secret_key = env_value(n, "secretAccessKey");
    p->creds.session_token = env_value(n, "sessionToken");
    if (!p->creds.access_key || !p->creds.secret_key)
        return at_key(L, n, "credentials.env: %s or %s is not set in the environment", ak, sk);
    return NULL;
}

static wih_err *credentials(const ld *L, const cJSON *n, realmap_profile *p)
{
    static const char *const keys[] = {"env", "file", NULL};
    wih_err *e = need_map(L, n, "credentials");
    if (!e) e = only_keys(L, n, "credentials", keys);
    if (e) return e;
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(n, "env"), *file = cJSON_GetObjectItemCaseSensitive(n, "file");
    if (!env == !file) return at_key(L, n, "credentials: give exactly one of env or file");
    return env ? creds_env(L, env, p) : creds_file(L, file, p);
}

/* ------------------------------------------------------------ profiles */
static wih_err *overrides(const ld *L, const cJSON *n, realmap_profile *p)
{
    static const char *const keys[] = {"roles", "buckets", NULL};
    wih_err *e = need_map(L, n, "scenarios");
    const cJSON *s;
    cJSON_ArrayForEach(s, n)
    {
        if (e) break;
        char *what = wih_asprintf("scenarios.%s", s->string);
        e = need_map(L, s, what);
        if (!e) e = only_keys(L, s, what, keys);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "roles"), *b = cJSON_GetObjectItemCaseSensitive(s, "buckets");
        char *rw = wih_asprintf("%s.roles", what), *bw = wih_asprintf("%s.buckets", what);
        if (!e && r) e = name_map(L, r, rw, p->profile, true);
        if (!e && b) e = name_map(L, b, bw, p->profile, false);
        free(rw);
        free(bw);
        free(what);
    }
    if (!e) p->scenarios = cJSON_Duplicate(n, true);
    return e;
}

static const char *const *profile_keys(const char *profile)
{
    static const char *const aws[] = {"region", "endpoints", "caFile", "roles", "buckets", "bucketPrefix",
                                      "credentials", "scenarios", NULL};
    static const char *const az[] = {"tenantId", "blobAccountUrl", "caFile", "roles", "buckets", "bucketPrefix",
                                     "scenarios", NULL};
    static const char *const gcp[] = {"gcsEndpoint", "caFile", "roles", "buckets", "bucketPrefix", "scenarios", NULL};
    return !strcmp(profile, "aws-irsa") ? aws : !strcmp(profile, "azure-wi") ? az : gcp;
}

static wih_err *endpoints(const ld *L, const cJSON *n, realmap_profile *p)
{
    static const char *const keys[] = {"sts", "s3", NULL};
    wih_err *e = need_map(L, n, "endpoints");
    if (!e) e = only_keys(L, n, "endpoints", keys);
    if (!e) e = url_ok(L, n, "sts", "endpoints");
    if (!e) e = url_ok(L, n, "s3", "endpoints");
    if (!e) e = opt_str(L, n, "sts", "endpoints", &p->sts_endpoint);
    if (!e) e = opt_str(L, n, "s3", "endpoints", &p->s3_endpoint);
    return e;
}

static wih_err *strings(const ld *L, const cJSON *n, realmap_profile *p)
{
    const char *w = p->profile;
    wih_err *e = opt_str(L, n, "region", w, &p->region);
    if (!e) e = opt_str(L, n, "caFile", w, &p->ca_file);
    if (!e) e = opt_str(L, n, "tenantId", w, &p->tenant_id);
    if (!e) e = url_ok(L, n, "blobAccountUrl", w);
    if (!e) e = opt_str(L, n, "blobAccountUrl", w, &p->blob_account_url);
    if (!e) e = url_ok(L, n, "gcsEndpoint", w);
    if (!e) e = opt_str(L, n, "gcsEndpoint", w, &p->gcs_endpoint);
    if (!e) e = opt_str(L, n, "bucketPrefix", w, &p->bucket_prefix);
    return e;
}

static wih_err *profile(const ld *L, const cJSON *n, realmap_profile *p)
{
    const char *w = p->profile;
    wih_err *e = need_map(L, n, w);
    if (!e) e = only_keys(L, n, w, profile_keys(w));
    if (!e) e = strings(L, n, p);
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(n, "roles");
    const cJSON *buckets = cJSON_GetObjectItemCaseSensitive(n, "buckets");
    if (!e && !roles) e = at_key(L, n, "%s: needs roles (logical role → principal)", w);
    if (!e) e = name_map(L, roles, "roles", w, true);
    if (!e && buckets) e = name_map(L, buckets, "buckets", w, false);
    if (!e && !buckets && !p->bucket_prefix) e = at_key(L, n, "%s: needs buckets or bucketPrefix", w);
    if (!e && !strcmp(w, "azure-wi") && !p->blob_account_url)
        e = at_key(L, n, "azure-wi: needs blobAccountUrl (https://ACCOUNT.blob.core.windows.net)");
    const cJSON *x;
    if (!e && (x = cJSON_GetObjectItemCaseSensitive(n, "endpoints"))) e = endpoints(L, x, p);
    if (!e && (x = cJSON_GetObjectItemCaseSensitive(n, "scenarios"))) e = overrides(L, x, p);
    if (!e && !strcmp(w, "aws-irsa")) {
        x = cJSON_GetObjectItemCaseSensitive(n, "credentials");
        e = x ? credentials(L, x, p)
              : at_key(L, n, "aws-irsa: needs credentials (the runner's own, to seed reads and delete "
                                       "what the run wrote)");
    }
    if (e) return e;
    p->roles = cJSON_Duplicate(roles, true);
    p->buckets = buckets ? cJSON_Duplicate(buckets, true) : cJSON_CreateObject();
    if (!p->region && !strcmp(w, "aws-irsa")) p->region = wih_strdup("us-east-1");
    return NULL;
}

static wih_err *head(const ld *L, const cJSON *root)
{
    static const char *const keys[] = {"apiVersion", "kind", "profiles", NULL};
    wih_err *e = need_map(L, root, "the real map");
    if (!e) e = only_keys(L, root, "the real map", keys);
    if (e) return e;
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion"), *k = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (!cJSON_IsString(av) || strcmp(av->valuestring, "wiharness/v1"))
        return wih_ydocs_err(L->d, av ? av : root, "apiVersion: expected wiharness/v1");
    if (!cJSON_IsString(k) || strcmp(k->valuestring, "RealMap"))
        return wih_ydocs_err(L->d, k ? k : root, "kind: expected RealMap");
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "profiles");
    if (!cJSON_IsObject(ps) || !ps->child)
        return wih_ydocs_err(L->d, ps ? ps : root, "profiles: expected a map of aws-irsa, azure-wi, gcp-fleet");
    return only_keys(L, ps, "profiles", k_profiles);
}

realmap *realmap_load(const char *path, wih_err **err)
{
    wih_ydocs *d = NULL;
    cJSON *root = wih_yaml_load_one(path, &d, err);
    if (!root) return NULL;
    ld L = {d, path, wih_read_file(path, WIH_YAML_MAX_BYTES, NULL, NULL)};
    wih_err *e = head(&L, root);
    realmap *m = wih_xcalloc(1, sizeof *m);
    m->file = wih_strdup(path);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "profiles"), *x;
    if (!e) {
        m->p = wih_xcalloc((size_t)cJSON_GetArraySize(ps), sizeof *m->p);
        cJSON_ArrayForEach(x, ps)
        {
            realmap_profile *p = &m->p[m->n++];
            p->profile = wih_strdup(x->string);
            if ((e = profile(&L, x, p))) break;
        }
    }
    wih_ydocs_free(d);
    free(L.text);
    if (e) {
        realmap_free(m);
        *err = e;
        return NULL;
    }
    return m;
}

void realmap_free(realmap *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        realmap_profile *p = &m->p[i];
        free(p->profile);
        free(p->region);
        free(p->sts_endpoint);
        free(p->s3_endpoint);
        free(p->tenant_id);
        free(p->blob_account_url);
        free(p->gcs_endpoint);
        free(p->ca_file);
        free(p->bucket_prefix);
        cJSON_Delete(p->roles);
        cJSON_Delete(p->buckets);
        cJSON_Delete(p->scenarios);
        s3_creds_clear(&p->creds);
        free(p->creds_from);
    }
    free(m->p);
    free(m->file);
    free(m);
}

/* ------------------------------------------------------------ lookups */
const realmap_profile *realmap_profile_get(const realmap *m, const char *profile)
{
    for (size_t i = 0; m && profile && i < m->n; i++)
        if (!strcmp(m->p[i].profile, profile)) return &m->p[i];
    return NULL;
}

static const char *lookup(const realmap_profile *p, const char *scenario, const char *what, const char *logical)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->scenarios, scenario), what);
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, logical));
    if (v) return v;
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(!strcmp(what, "roles") ? p->roles : p->buckets,
                                                                 logical));
}

const char *realmap_role(const realmap_profile *p, const char *scenario, const char *logical)
{
    return p && logical ? lookup(p, scenario, "roles", logical) : NULL;
}

char *realmap_bucket(const realmap_profile *p, const char *scenario, const char *logical)
{
    if (!p || !logical) return NULL;
    const char *v = lookup(p, scenario, "buckets", logical);
    if (v) return wih_strdup(v);
    return p->bucket_prefix ? wih_asprintf("%s%s", p->bucket_prefix, logical) : NULL;
}

/* arn:aws:iam::ACCOUNT:role/PATH/NAME → ACCOUNT and NAME (owned). */
static bool arn_parts(const char *arn, char **account, char **name)
{
    const char *acc = strncmp(arn, "arn:", 4) ? NULL : strstr(arn, ":iam::");
    const char *role = acc ? strstr(acc + 6, ":role/") : NULL;
    if (!role) return false;
    *account = wih_asprintf("%.*s", (int)(role - (acc + 6)), acc + 6);
    *name = wih_strdup(strrchr(role, '/') + 1);
    return true;
}

static bool principal_is(const char *role_principal, const char *principal)
{
    if (!strcmp(role_principal, principal)) return true;
    char *acc = NULL, *name = NULL;
    if (!arn_parts(role_principal, &acc, &name)) return false;
    /* arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION (partition kept from the role ARN) */
    const char *part_end = strstr(role_principal, ":iam::");
    char *assumed = wih_asprintf("%.*s:sts::%s:assumed-role/%s/", (int)(part_end - role_principal), role_principal, acc,
                                 name);
    bool hit = !strncmp(principal, assumed, strlen(assumed));
    free(assumed);
    free(acc);
    free(name);
    return hit;
}

const char *realmap_role_of(const realmap_profile *p, const char *scenario, const char *principal)
{
    if (!p || !principal) return NULL;
    const cJSON *over = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->scenarios, scenario), "roles");
    const cJSON *m;
    cJSON_ArrayForEach(m, over) if (principal_is(m->valuestring, principal)) return m->string;
    cJSON_ArrayForEach(m, p->roles)
    {
        /* a role the scenario overrides answers only as the override */
        if (cJSON_GetObjectItemCaseSensitive(over, m->string)) continue;
        if (principal_is(m->valuestring, principal)) return m->string;
    }
    return NULL;
}

int realmap_check(const realmap_profile *p, const char *scenario, const char *const *roles, size_t nroles,
                  const char *const *buckets, size_t nbuckets, wih_err **err)
{
    for (size_t i = 0; i < nroles; i++)
        if (!realmap_role(p, scenario, roles[i])) {
            *err = wih_err_new(WIH_EXIT_INPUT, "the real map names no %s principal for role %s (scenario %s)",
                               p->profile, roles[i], scenario);
            return -1;
        }
    for (size_t i = 0; i < nbuckets; i++) {
        char *b = realmap_bucket(p, scenario, buckets[i]);
        free(b);
        if (!b) {
            *err = wih_err_new(WIH_EXIT_INPUT, "the real map names no %s bucket for %s (scenario %s)", p->profile,
                               buckets[i], scenario);
            return -1;
        }
    }
    return 0;
}

static void add_opt(cJSON *o, const char *k, const char *v)
{
    if (v) cJSON_AddStringToObject(o, k, v);
}

cJSON *realmap_describe(const realmap *m)
{
    cJSON *out = cJSON_CreateObject(), *ps = cJSON_AddObjectToObject(out, "profiles");
    for (size_t i = 0; i < m->n; i++) {
        const realmap_profile *p = &m->p[i];
        cJSON *o = cJSON_AddObjectToObject(ps, p->profile);
        add_opt(o, "region", p->region);
        add_opt(o, "sts_endpoint", p->sts_endpoint);
        add_opt(o, "s3_endpoint", p->s3_endpoint);
        add_opt(o, "tenant_id", p->tenant_id);
        add_opt(o, "blob_account_url", p->blob_account_url);
        add_opt(o, "gcs_endpoint", p->gcs_endpoint);
        add_opt(o, "ca_file", p->ca_file);
        add_opt(o, "bucket_prefix", p->bucket_prefix);
        cJSON_AddItemToObject(o, "roles", cJSON_Duplicate(p->roles, true));
        cJSON_AddItemToObject(o, "buckets", cJSON_Duplicate(p->buckets, true));
        if (p->scenarios) cJSON_AddItemToObject(o, "scenarios", cJSON_Duplicate(p->scenarios, true));
        if (p->creds.access_key) {
            cJSON *c = cJSON_AddObjectToObject(o, "credentials");
            add_opt(c, "from", p->creds_from);
            cJSON_AddStringToObject(c, "access_key_id", p->creds.access_key);
            char *fp = wih_fingerprint(p->creds.secret_key);
            cJSON_AddStringToObject(c, "secret", fp);
            free(fp);
            cJSON_AddBoolToObject(c, "session_token", p->creds.session_token != NULL);
        }
    }
    return out;
}
