/* probe pure parts, data-driven:
 *   fixtures/probe/requests/<case>/{in.json, expect.json}    builder → probe_req_describe
 *   fixtures/probe/responses/<case>/{in.json, body, expect.json}  parser → probe_answer_describe
 *   fixtures/probe/discover/<case>/{in.json, expect.json}    env + files → probe_cred_describe
 *     (expect.json is a subset: every key it names must match; "_error" = the
 *      message probe_discover must fail with)
 * plus token claims (a token signed here), --access parsing and the verdict's
 * size limit. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/jwt.h"
#include "wiharness/probe.h"

static cJSON *load_json(const char *rel)
{
    char *p = wih_fixture(rel);
    char *s = wih_read_file(p, 1 << 20, NULL, NULL);
    free(p);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    return j;
}

/* Every case directory of fixtures/probe/<kind>, sorted; fails when empty. */
static int cases(const char *kind, char ***out)
{
    char *rel = wih_asprintf("probe/%s", kind);
    char *dir = wih_fixture(rel);
    free(rel);
    DIR *d = opendir(dir);
    ck_assert_msg(d, "no fixture dir %s", dir);
    free(dir);
    char **v = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        v = realloc(v, (size_t)(n + 1) * sizeof *v);
        v[n++] = wih_strdup(de->d_name);
    }
    closedir(d);
    ck_assert_msg(n > 0, "fixtures/probe/%s has no case", kind);
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
            char *t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    *out = v;
    return n;
}

static void free_cases(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static const char *S(const cJSON *in, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, k));
}

static probe_req *build(const cJSON *in)
{
    const char *kind = S(in, "kind");
    int dur = cJSON_GetObjectItem(in, "duration_s") ? cJSON_GetObjectItem(in, "duration_s")->valueint : 0;
    if (!strcmp(kind, "aws-web-identity"))
        return probe_req_aws_web_identity(S(in, "endpoint"), S(in, "role_arn"), S(in, "session_name"), S(in, "token"),
                                          dur);
    if (!strcmp(kind, "aws-caller-identity")) {
        s3_creds c = {(char *)S(in, "access_key"), (char *)S(in, "secret_key"), (char *)S(in, "session_token"), NULL};
        return probe_req_aws_caller_identity(S(in, "endpoint"), S(in, "region"), &c);
    }
    if (!strcmp(kind, "entra-assertion"))
        return probe_req_entra_assertion(S(in, "authority"), S(in, "tenant"), S(in, "client_id"), S(in, "scope"),
                                         S(in, "assertion"));
    if (!strcmp(kind, "entra-secret"))
        return probe_req_entra_secret(S(in, "authority"), S(in, "tenant"), S(in, "client_id"), S(in, "scope"),
                                      S(in, "secret"));
    if (!strcmp(kind, "google-sts"))
        return probe_req_google_sts(S(in, "token_url"), S(in, "audience"), S(in, "subject_token_type"), S(in, "scope"),
                                    S(in, "subject_token"));
    if (!strcmp(kind, "google-generate"))
        return probe_req_google_generate(S(in, "url"), S(in, "scope"), S(in, "federated_token"));
    if (!strcmp(kind, "entra-discovery")) return probe_req_entra_discovery(S(in, "authority"), S(in, "tenant"));
    if (!strcmp(kind, "google-tokeninfo")) return probe_req_google_tokeninfo(S(in, "url"), S(in, "access_token"));
    if (!strcmp(kind, "minio-web-identity")) return probe_req_minio_web_identity(S(in, "endpoint"), S(in, "token"), dur);
    ck_abort_msg("unknown request kind %s", kind);
    return NULL;
}

START_TEST(request_cases)
{
    char **v;
    int n = cases("requests", &v);
    for (int i = 0; i < n; i++) {
        char *rel = wih_asprintf("probe/requests/%s/in.json", v[i]);
        cJSON *in = load_json(rel);
        free(rel);
        rel = wih_asprintf("probe/requests/%s/expect.json", v[i]);
        cJSON *want = load_json(rel);
        free(rel);
        ck_assert_msg(in && want, "%s: in.json/expect.json missing or not JSON", v[i]);
        probe_req *r = build(in);
        cJSON *got = probe_req_describe(r);
        char *diff = wih_json_diff(want, got);
        ck_assert_msg(!diff, "%s: %s", v[i], diff);
        /* the wire body carries the secret, the description never does */
        char *shown = cJSON_PrintUnformatted(got);
        const char *secrets[] = {"token", "access_token", "assertion", "subject_token", "secret", "federated_token", "secret_key",
                                 "session_token"};
        for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++) {
            const char *sv = S(in, secrets[k]);
            if (sv) ck_assert_msg(!strstr(shown, sv), "%s: the description shows %s", v[i], secrets[k]);
        }
        free(shown);
        cJSON_Delete(got);
        probe_req_free(r);
        cJSON_Delete(in);
        cJSON_Delete(want);
    }
    free_cases(v, n);
}
END_TEST

START_TEST(response_cases)
{
    char **v;
    int n = cases("responses", &v);
    for (int i = 0; i < n; i++) {
        char *rel = wih_asprintf("probe/responses/%s/in.json", v[i]);
        cJSON *in = load_json(rel);
        free(rel);
        rel = wih_asprintf("probe/responses/%s/expect.json", v[i]);
        cJSON *want = load_json(rel);
        free(rel);
        rel = wih_asprintf("probe/responses/%s/body", v[i]);
        char *p = wih_fixture(rel);
        free(rel);
        size_t len = 0;
        char *body = wih_read_file(p, 1 << 20, &len, NULL);
        free(p);
        ck_assert_msg(in && want && body, "%s: in.json, body or expect.json missing", v[i]);
        const char *kind = S(in, "kind");
        long status = (long)cJSON_GetObjectItem(in, "status")->valuedouble;
        probe_answer a;
        if (!strcmp(kind, "entra-discovery")) { /* the token endpoint found is shown as identity */
            char *te = probe_parse_entra_discovery(status, body, len, &a);
            a.identity = te;
        }
        int rc = !strcmp(kind, "entra-discovery") ? (a.identity ? 0 : -1)
                 : !strcmp(kind, "sts")               ? probe_parse_sts(status, body, len, &a)
                 : !strcmp(kind, "caller-identity") ? probe_parse_caller_identity(status, body, len, &a)
                 : !strcmp(kind, "entra")           ? probe_parse_entra(status, body, len, &a)
                 : !strcmp(kind, "google-sts")      ? probe_parse_google_sts(status, body, len, &a)
                 : !strcmp(kind, "google-tokeninfo") ? probe_parse_google_tokeninfo(status, body, len, &a)
                                                    : probe_parse_google_generate(status, body, len, &a);
        cJSON *got = probe_answer_describe(&a);
        char *diff = wih_json_diff(want, got);
        ck_assert_msg(!diff, "%s: %s", v[i], diff);
        ck_assert_int_eq(rc, a.ok ? 0 : -1);
        cJSON_Delete(got);
        probe_answer_clear(&a);
        free(body);
        cJSON_Delete(in);
        cJSON_Delete(want);
    }
    free_cases(v, n);
}
END_TEST

/* ---------------------------------------------------------- discovery */
static const char *fx_getenv(void *ctx, const char *name)
{
    const cJSON *in = ctx;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(in, "env"), name);
    return cJSON_GetStringValue(v);
}

static char *fx_read(void *ctx, const char *path, size_t *len, wih_err **err)
{
    const cJSON *in = ctx;
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(in, "files"), path));
    if (!v) {
        *err = wih_err_new(WIH_EXIT_INFRA, "%s: No such file or directory", path);
        return NULL;
    }
    *len = strlen(v);
    return wih_strdup(v);
}

/* Every key of want must equal (objects: recursively) the same key of got. */
static void subset(const char *c, const char *path, const cJSON *want, const cJSON *got)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, want)
    {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, w->string);
        char *p = wih_asprintf("%s.%s", path, w->string);
        if (cJSON_IsObject(w) && cJSON_IsObject(g) && cJSON_GetArraySize(w) > 0) {
            subset(c, p, w, g);
        } else {
            char *ws = cJSON_PrintUnformatted(w), *gs = g ? cJSON_PrintUnformatted(g) : wih_strdup("(absent)");
            ck_assert_msg(g && cJSON_Compare(w, g, true), "%s: %s: expected %s, got %s", c, p, ws, gs);
            free(ws);
            free(gs);
        }
        free(p);
    }
}

START_TEST(discover_cases)
{
    char **v;
    int n = cases("discover", &v);
    for (int i = 0; i < n; i++) {
        char *rel = wih_asprintf("probe/discover/%s/in.json", v[i]);
        cJSON *in = load_json(rel);
        free(rel);
        rel = wih_asprintf("probe/discover/%s/expect.json", v[i]);
        cJSON *want = load_json(rel);
        free(rel);
        ck_assert_msg(in && want, "%s: in.json/expect.json missing or not JSON", v[i]);
        probe_cred c;
        wih_err *e = NULL;
        int rc = probe_discover(S(in, "profile"), S(in, "sdk"), fx_getenv, fx_read, in, &c, &e);
        const char *werr = S(want, "_error");
        if (werr) {
            ck_assert_msg(rc == -1, "%s: expected an error", v[i]);
            ck_assert_str_eq(wih_err_str(e), werr);
            ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
            wih_err_free(e);
        } else {
            ck_assert_msg(rc == 0, "%s: %s", v[i], wih_err_str(e));
            cJSON *got = probe_cred_describe(&c);
            subset(v[i], "$", want, got);
            /* no secret value of the env in the description */
            char *shown = cJSON_PrintUnformatted(got);
            const cJSON *ev;
            cJSON_ArrayForEach(ev, cJSON_GetObjectItem(in, "env"))
            {
                if ((strstr(ev->string, "SECRET") || strstr(ev->string, "TOKEN")) && *ev->valuestring &&
                    !strstr(ev->string, "_FILE"))
                    ck_assert_msg(!strstr(shown, ev->valuestring), "%s: %s shown", v[i], ev->string);
            }
            free(shown);
            cJSON_Delete(got);
            probe_cred_clear(&c);
        }
        cJSON_Delete(in);
        cJSON_Delete(want);
    }
    free_cases(v, n);
}
END_TEST

/* ---------------------------------------------------------- the rest */
START_TEST(token_claims)
{
    wih_err *e = NULL;
    wih_jwk_key *k = wih_jwk_generate(2048, "k1", &e);
    ck_assert_msg(k, "%s", wih_err_str(e));
    cJSON *p = cJSON_Parse("{\"iss\":\"https://kubernetes.default.svc\",\"sub\":\"system:serviceaccount:team-a:app\","
                           "\"aud\":[\"sts.amazonaws.com\"],\"iat\":1000,\"exp\":4600,"
                           "\"kubernetes.io\":{\"namespace\":\"team-a\",\"pod\":{\"name\":\"wf-1-task\",\"uid\":\"u\"}}}");
    char *tok = wih_jwt_sign(k, p, &e);
    ck_assert_msg(tok, "%s", wih_err_str(e));
    cJSON *c = probe_token_claims(tok);
    cJSON *want = cJSON_Parse("{\"iss\":\"https://kubernetes.default.svc\",\"sub\":\"system:serviceaccount:team-a:app\","
                              "\"aud\":[\"sts.amazonaws.com\"],\"pod\":\"wf-1-task\",\"lifetime_s\":3600,\"exp\":4600}");
    char *diff = wih_json_diff(want, c);
    ck_assert_msg(!diff, "%s", diff);
    char *shown = cJSON_PrintUnformatted(c);
    ck_assert_ptr_null(strstr(shown, tok));
    free(shown);
    ck_assert_ptr_null(probe_token_claims("not a token"));
    cJSON_Delete(c);
    cJSON_Delete(want);
    cJSON_Delete(p);
    free(tok);
    wih_jwk_free(k);
}
END_TEST

START_TEST(access_specs)
{
    char *op, *b, *k;
    wih_err *e = NULL;
    ck_assert_int_eq(probe_access_parse("write:s3://team-a-data/out/x.txt", &op, &b, &k, &e), 0);
    ck_assert_str_eq(op, "write");
    ck_assert_str_eq(b, "team-a-data");
    ck_assert_str_eq(k, "out/x.txt");
    free(op), free(b), free(k);
    ck_assert_int_eq(probe_access_parse("list:s3://team-a-data", &op, &b, &k, &e), 0);
    ck_assert_str_eq(k, "");
    free(op), free(b), free(k);
    const char *bad[][2] = {{"copy:s3://team-a-data/x", "OP read, write, list or delete"},
                            {"read:gs://team-a-data/x", "must start with s3://"},
                            {"read:s3://Team_A/x", "not a valid bucket name"},
                            {"read:s3://team-a-data", "read needs an object key"},
                            {"readwrite", "expected OP:s3://BUCKET/KEY"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e = NULL;
        ck_assert_int_eq(probe_access_parse(bad[i][0], &op, &b, &k, &e), -1);
        ck_assert_msg(strstr(wih_err_str(e), bad[i][1]), "%s: %s", bad[i][0], wih_err_str(e));
        ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
        wih_err_free(e);
    }
}
END_TEST

START_TEST(tokeninfo_url)
{
    const char *cases[][2] = {{"https://10.0.0.1:8443/v1/token", "https://10.0.0.1:8443/tokeninfo"},
                              {"https://sts.googleapis.com/v1/token", "https://sts.googleapis.com/tokeninfo"},
                              {"http://h", "http://h/tokeninfo"},
                              {"no-scheme/v1/token", NULL},
                              {"https:///v1/token", NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *u = probe_google_tokeninfo_url(cases[i][0]);
        if (cases[i][1]) ck_assert_str_eq(u, cases[i][1]);
        else ck_assert_msg(!u, "%s: %s", cases[i][0], u);
        free(u);
    }
    ck_assert_ptr_null(probe_google_tokeninfo_url(NULL));
}
END_TEST

START_TEST(verdict_limit)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddNumberToObject(v, "probe", 1);
    cJSON *env = cJSON_AddObjectToObject(v, "env");
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    cJSON_AddStringToObject(env, "AWS_ROLE_ARN", big);
    cJSON *acc = cJSON_AddArrayToObject(v, "access");
    for (int i = 0; i < 60; i++) {
        cJSON *a = cJSON_CreateObject();
        char *u = wih_asprintf("s3://team-a-data/out/object-number-%d-with-a-long-name", i);
        cJSON_AddStringToObject(a, "op", "write");
        cJSON_AddStringToObject(a, "url", u);
        cJSON_AddStringToObject(a, "result", "allowed");
        cJSON_AddStringToObject(a, "identity", "arn:aws:sts::000000000000:assumed-role/team-a/botocore-session-1");
        free(u);
        cJSON_AddItemToArray(acc, a);
    }
    char *s = probe_verdict_print(v, 4096);
    ck_assert_uint_lt(strlen(s), 4096);
    cJSON *back = cJSON_Parse(s);
    ck_assert_ptr_nonnull(back);
    const cJSON *tr = cJSON_GetObjectItem(back, "truncated");
    ck_assert_msg(cJSON_IsArray(tr) && cJSON_GetArraySize(tr) > 0, "no truncated note: %s", s);
    ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(back, "access")), 10);
    ck_assert_int_lt(cJSON_GetArraySize(cJSON_GetObjectItem(back, "access")), 60);
    cJSON_Delete(back);
    free(s);
    /* a limit nothing fits in: still below it, still JSON, and says so */
    s = probe_verdict_print(v, 100);
    ck_assert_uint_lt(strlen(s), 100);
    back = cJSON_Parse(s);
    ck_assert_msg(back && strstr(s, "did not fit"), "%s", s);
    cJSON_Delete(back);
    free(s);
    cJSON_Delete(v);
    /* a small verdict is printed as it is */
    v = cJSON_Parse("{\"probe\":1,\"access\":[]}");
    s = probe_verdict_print(v, 4096);
    ck_assert_str_eq(s, "{\"probe\":1,\"access\":[]}");
    free(s);
    cJSON_Delete(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probe");
    TCase *t = tcase_create("pure");
    tcase_add_test(t, request_cases);
    tcase_add_test(t, response_cases);
    tcase_add_test(t, discover_cases);
    tcase_add_test(t, token_claims);
    tcase_add_test(t, access_specs);
    tcase_add_test(t, tokeninfo_url);
    tcase_add_test(t, verdict_limit);
    suite_add_tcase(s, t);
    return wih_test_run(s);
}
