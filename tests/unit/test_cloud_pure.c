/* The mock cloud's pure parts, from data files:
 *   fixtures/cloud/form-cases.json   — the form parser (expect or error);
 *   fixtures/cloud/trust-cases.json  — each trust check over a registry
 *                                      (fixtures/cloud/trust-registry.json),
 *                                      tokens signed at run time;
 * plus identifiers, role validation, discovery parsing and decision lines. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "wiharness/cloud.h"

static cJSON *load_json(const char *rel)
{
    char *p = wih_fixture(rel);
    char *s = wih_read_file(p, 1 << 20, NULL, NULL);
    ck_assert_msg(s, "cannot read %s", p);
    cJSON *j = cJSON_Parse(s);
    ck_assert_msg(j, "%s is not JSON", p);
    free(s);
    free(p);
    return j;
}

START_TEST(form_cases)
{
    cJSON *cases = load_json("cloud/form-cases.json"), *c;
    int n = 0;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        const char *body = cJSON_GetStringValue(cJSON_GetObjectItem(c, "body"));
        wih_err *e = NULL;
        cJSON *got = cloud_form_parse(body, strlen(body), &e);
        const cJSON *want = cJSON_GetObjectItem(c, "expect");
        if (want) {
            ck_assert_msg(got, "%s: %s", name, wih_err_str(e));
            char *diff = wih_json_diff(want, got);
            ck_assert_msg(!diff, "%s: %s", name, diff);
        } else {
            const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(c, "error"));
            ck_assert_msg(!got && e, "%s: expected an error", name);
            ck_assert_msg(strstr(wih_err_str(e), msg), "%s: got \"%s\"", name, wih_err_str(e));
            ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
            wih_err_free(e);
        }
        cJSON_Delete(got);
        n++;
    }
    ck_assert_int_ge(n, 15);
    cJSON_Delete(cases);
}
END_TEST

START_TEST(form_limits)
{
    /* a raw NUL byte in the body */
    wih_err *e = NULL;
    ck_assert_ptr_null(cloud_form_parse("a=x\0y", 5, &e));
    wih_err_free(e);
    e = NULL;
    /* too many fields */
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    for (int i = 0; i <= CLOUD_FORM_MAX_FIELDS; i++) wih_buf_addf(&b, "f%d=1&", i);
    ck_assert_ptr_null(cloud_form_parse(b.data, b.len, &e));
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "more than"));
    wih_err_free(e);
    e = NULL;
    wih_buf_free(&b);
    /* too long */
    size_t big = CLOUD_FORM_MAX_BODY + 1;
    char *s = malloc(big);
    memset(s, 'a', big);
    ck_assert_ptr_null(cloud_form_parse(s, big, &e));
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "limit"));
    wih_err_free(e);
    free(s);
}
END_TEST

/* ---------------------------------------------------------------- trust */
static wih_jwk_key *good, *rogue;

static void keys_setup(void)
{
    wih_err *e = NULL;
    good = wih_jwk_generate(2048, "k", &e);
    rogue = wih_jwk_generate(2048, "k", &e);
    ck_assert(good && rogue);
}

static void keys_teardown(void)
{
    wih_jwk_free(good);
    wih_jwk_free(rogue);
}

static cJSON *registry(void)
{
    cJSON *reg = load_json("cloud/trust-registry.json"), *p;
    cJSON *jwks = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(jwks, "keys"), wih_jwk_public(good));
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(reg, "providers"))
        cJSON_ReplaceItemInObject(p, "jwks", cJSON_Duplicate(jwks, true));
    cJSON_Delete(jwks);
    return reg;
}

static char *make_token(const cJSON *overrides, const char *how, int64_t now)
{
    cJSON *p = cJSON_Parse("{\"iss\":\"https://issuer.example\",\"sub\":\"system:serviceaccount:team-a:worker\","
                           "\"aud\":[\"sts.amazonaws.com\"]}");
    cJSON_AddNumberToObject(p, "iat", (double)(now - 5));
    cJSON_AddNumberToObject(p, "exp", (double)(now + 600));
    const cJSON *o;
    cJSON_ArrayForEach(o, overrides)
    {
        cJSON_DeleteItemFromObject(p, o->string);
        if (cJSON_IsNull(o)) continue;
        if (cJSON_IsNumber(o)) /* time claims: offsets from now */
            cJSON_AddNumberToObject(p, o->string, (double)(now + (int64_t)o->valuedouble));
        else
            cJSON_AddItemToObject(p, o->string, cJSON_Duplicate(o, true));
    }
    wih_err *e = NULL;
    char *t;
    if (how && !strcmp(how, "garbage")) {
        t = wih_strdup("garbage garbage");
    } else if (how && !strcmp(how, "none")) {
        cJSON *h = cJSON_Parse("{\"alg\":\"none\"}");
        t = wih_jwt_sign_hdr(good, h, p, &e);
        cJSON_Delete(h);
    } else {
        t = wih_jwt_sign(how && !strcmp(how, "rogue") ? rogue : good, p, &e);
        if (how && !strcmp(how, "truncate")) t[strrchr(t, '.') - t + 1 + 100] = 0;
    }
    cJSON_Delete(p);
    ck_assert_msg(t, "%s", wih_err_str(e));
    return t;
}

START_TEST(trust_cases)
{
    cJSON *reg = registry();
    cJSON *cases = load_json("cloud/trust-cases.json"), *c;
    int64_t now = (int64_t)time(NULL);
    int n = 0;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(c, "role"));
        const char *aud = cJSON_GetStringValue(cJSON_GetObjectItem(c, "aud"));
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(c, "want"));
        const char *check = cJSON_GetStringValue(cJSON_GetObjectItem(c, "check"));
        const char *jwt = cJSON_GetStringValue(cJSON_GetObjectItem(c, "jwt"));
        char *tok = make_token(cJSON_GetObjectItem(c, "claims"), cJSON_GetStringValue(cJSON_GetObjectItem(c, "sign")),
                               now);
        cloud_decision d;
        cloud_verdict v = cloud_check_token(reg, role, tok, aud, now, &d);
        ck_assert_msg(!strcmp(cloud_verdict_name(v), want), "%s: want %s, got %s (%s)", name, want,
                      cloud_verdict_name(v), d.detail ? d.detail : "");
        ck_assert_int_eq(d.verdict, v);
        if (check) ck_assert_msg(!strcmp(d.check, check), "%s: failed check %s, want %s", name, d.check, check);
        if (jwt) ck_assert_msg(!strcmp(wih_jwt_code_name(d.jwt_code), jwt), "%s: jwt %s", name,
                               wih_jwt_code_name(d.jwt_code));
        if (v == CLOUD_OK) ck_assert_str_eq(d.check, "ok");
        /* the decision line: expected vs actual, never the token */
        cJSON *line = cloud_decision_json(&d, "aws", "AssumeRoleWithWebIdentity", role);
        char *s = cJSON_PrintUnformatted(line);
        ck_assert_msg(!strstr(s, tok) && !strstr(s, "eyJ"), "%s: the decision line carries the token", name);
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(line, "result")), v == CLOUD_OK ? "allow" : "deny");
        if (d.iss) ck_assert_ptr_nonnull(strstr(s, "\"actual\":{\"iss\""));
        free(s);
        cJSON_Delete(line);
        cloud_decision_clear(&d);
        free(tok);
        n++;
    }
    ck_assert_int_ge(n, 20);
    cJSON_Delete(cases);
    cJSON_Delete(reg);
}
END_TEST

START_TEST(identifiers)
{
    char *a = cloud_aws_role_arn("team-a"), *id = cloud_entra_client_id("team-a"), *id2 = cloud_entra_client_id("team-b");
    char *g = cloud_google_sa_email("team-a"), *p = cloud_minio_policy_name("team-a");
    ck_assert_str_eq(a, "arn:aws:iam::000000000000:role/team-a");
    ck_assert_str_eq(g, "team-a@wiharness.iam.gserviceaccount.com");
    ck_assert_str_eq(p, "wih-role-team-a");
    ck_assert_int_eq((int)strlen(id), 36);
    ck_assert_int_eq(id[14], '5'); /* version 5 layout */
    ck_assert_str_ne(id, id2);
    char *again = cloud_entra_client_id("team-a");
    ck_assert_str_eq(id, again); /* stable */
    cJSON *reg = cJSON_Parse("{\"roles\":{\"team-a\":{},\"team-b\":{}}}");
    ck_assert_str_eq(cloud_role_from_arn(reg, a), "team-a");
    ck_assert_str_eq(cloud_role_from_client_id(reg, id2), "team-b");
    ck_assert_str_eq(cloud_role_from_sa_email(reg, g), "team-a");
    ck_assert_ptr_null(cloud_role_from_arn(reg, "arn:aws:iam::000000000000:role/nobody"));
    ck_assert_ptr_null(cloud_role_from_client_id(reg, NULL));
    cJSON_Delete(reg);
    free(a);
    free(id);
    free(id2);
    free(again);
    free(g);
    free(p);
}
END_TEST

START_TEST(role_validation)
{
    const struct {
        const char *name, *json, *err;
    } bad[] = {
        {"", "{}", "1 to 64"},
        {"a b", "{}", "only letters"},
        {"r", "{}", "\"trust\" must be an object"},
        {"r", "{\"trust\":{}}", "trust.issuer"},
        {"r", "{\"trust\":{\"issuer\":\"https://i\"}}", "trust.subjects"},
        {"r", "{\"trust\":{\"issuer\":\"https://i\",\"subjects\":[1]}}", "trust.subjects entry"},
        {"r", "{\"trust\":{\"issuer\":\"https://i\",\"subjects\":[\"s\"],\"audience\":5}}", "trust.audience"},
        {"r", "{\"trust\":{\"issuer\":\"https://i\",\"subjects\":[\"s\"]},\"grants\":{\"b_b\":\"read\"}}",
         "valid bucket name"},
        {"r", "{\"trust\":{\"issuer\":\"https://i\",\"subjects\":[\"s\"]},\"grants\":{\"bbb\":\"all\"}}",
         "read, write, readwrite or list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *r = cJSON_Parse(bad[i].json);
        wih_err *e = NULL;
        ck_assert_msg(!cloud_role_valid(bad[i].name, r, &e), "case %zu accepted", i);
        ck_assert_msg(strstr(wih_err_str(e), bad[i].err), "case %zu: %s", i, wih_err_str(e));
        ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
        wih_err_free(e);
        cJSON_Delete(r);
    }
    cJSON *ok = cJSON_Parse("{\"trust\":{\"issuer\":\"https://i\",\"subjects\":[\"system:serviceaccount:a:*\"]},"
                            "\"grants\":{\"team-a-data\":\"readwrite\"}}");
    wih_err *e = NULL;
    ck_assert_msg(cloud_role_valid("team-a", ok, &e), "%s", wih_err_str(e));
    cJSON_Delete(ok);
}
END_TEST

START_TEST(discovery_doc)
{
    wih_err *e = NULL;
    cJSON *d = cJSON_Parse("{\"issuer\":\"https://127.0.0.1:6443\",\"jwks_uri\":\"https://127.0.0.1:6443/openid/v1/jwks\"}");
    char *u = cloud_discovery_jwks_uri(d, "https://127.0.0.1:6443", &e);
    ck_assert_str_eq(u, "https://127.0.0.1:6443/openid/v1/jwks");
    free(u);
    ck_assert_ptr_null(cloud_discovery_jwks_uri(d, "https://other", &e));
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "names issuer"));
    wih_err_free(e);
    e = NULL;
    cJSON_Delete(d);
    d = cJSON_Parse("{\"issuer\":\"https://i\",\"jwks_uri\":\"http://i/jwks\"}");
    ck_assert_ptr_null(cloud_discovery_jwks_uri(d, "https://i", &e));
    wih_err_free(e);
    e = NULL;
    cJSON_Delete(d);
    d = cJSON_Parse("[]");
    ck_assert_ptr_null(cloud_discovery_jwks_uri(d, "https://i", &e));
    wih_err_free(e);
    cJSON_Delete(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cloud-pure");
    TCase *tc = tcase_create("pure");
    tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
    tcase_add_test(tc, form_cases);
    tcase_add_test(tc, form_limits);
    tcase_add_test(tc, trust_cases);
    tcase_add_test(tc, identifiers);
    tcase_add_test(tc, role_validation);
    tcase_add_test(tc, discovery_doc);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
