/* Issue 3's acceptance test, end to end through the built binary:
 *   wiharness up --no-webhook --no-cloud → apply a namespace, SA and pod (server-side
 *   apply) → TokenRequest bound to the pod, audience wiharness-test → fetch
 *   the OIDC discovery document and the JWKS with NO credentials (only the
 *   CA) → verify the token's RS256 signature against that JWKS and its iss,
 *   aud, sub, pod-binding claims and lifetime → negative checks (another SA's
 *   expectations, a flipped signature byte) → delete the pod → wiharness down
 *   → no process recorded in state.json is alive and none of its ports listens.
 *
 * The token is a secret: only its fingerprint is ever printed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/jwt.h"
#include "wiharness/kube.h"

#define NS "wih-oidc-token"
#define SA "token-sa"
#define POD "token-pod"
#define AUD "wiharness-test"
#define EXP_SECONDS 1800 /* not 3607: the API server extends exactly that value */

static char *g_dir;

/* What a relying party (a cloud IAM) expects of a token. */
typedef struct expect {
    const char *iss, *aud, *ns, *sa, *pod_name, *pod_uid;
    int64_t lifetime;
} expect;

/* NULL when every claim matches, else the first mismatch (caller frees). */
static char *claims_problem(const wih_jwt *t, const expect *x)
{
    const char *iss = wih_jwt_claim_str(t, "iss");
    if (!iss || strcmp(iss, x->iss)) return wih_asprintf("iss %s, want %s", iss ? iss : "(none)", x->iss);
    if (!wih_jwt_has_aud(t, x->aud)) return wih_asprintf("aud does not contain %s", x->aud);
    char *want_sub = wih_asprintf("system:serviceaccount:%s:%s", x->ns, x->sa);
    const char *sub = wih_jwt_claim_str(t, "sub");
    if (!sub || strcmp(sub, want_sub)) {
        char *p = wih_asprintf("sub %s, want %s", sub ? sub : "(none)", want_sub);
        free(want_sub);
        return p;
    }
    free(want_sub);
    const cJSON *k8s = cJSON_GetObjectItem(t->payload, "kubernetes.io");
    if (!cJSON_IsObject(k8s)) return wih_strdup("no kubernetes.io claim object");
    const char *kns = kube_obj_str(k8s, "namespace");
    if (!kns || strcmp(kns, x->ns)) return wih_asprintf("kubernetes.io.namespace %s, want %s", kns ? kns : "(none)", x->ns);
    const char *ksa = kube_obj_str(k8s, "serviceaccount.name");
    if (!ksa || strcmp(ksa, x->sa))
        return wih_asprintf("kubernetes.io.serviceaccount.name %s, want %s", ksa ? ksa : "(none)", x->sa);
    const char *pn = kube_obj_str(k8s, "pod.name");
    if (!pn || strcmp(pn, x->pod_name))
        return wih_asprintf("kubernetes.io.pod.name %s, want %s", pn ? pn : "(none)", x->pod_name);
    const char *pu = kube_obj_str(k8s, "pod.uid");
    if (!pu || strcmp(pu, x->pod_uid))
        return wih_asprintf("kubernetes.io.pod.uid %s, want %s", pu ? pu : "(none)", x->pod_uid);
    int64_t iat = 0, exp = 0;
    if (!wih_jwt_claim_int(t, "iat", &iat) || !wih_jwt_claim_int(t, "exp", &exp)) return wih_strdup("no iat/exp");
    if (exp - iat != x->lifetime)
        return wih_asprintf("exp - iat = %lld, want %lld", (long long)(exp - iat), (long long)x->lifetime);
    return NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* GET url with only the CA: no client certificate, no token. */
static cJSON *anon_get_json(const char *url, const char *ca)
{
    char *body = NULL;
    wih_err *e = NULL;
    long code = cluster_http_get(url, ca, NULL, NULL, &body, &e);
    ck_assert_msg(code == 200, "GET %s without credentials: %ld %s", url, code, body ? body : wih_err_str(e));
    cJSON *j = cJSON_Parse(body);
    ck_assert_msg(j != NULL, "GET %s: not JSON", url);
    free(body);
    return j;
}

START_TEST(token_bound_to_pod_verifies_against_public_jwks)
{
    char *out = NULL, *err = NULL;
    /* the control plane only (no webhook, no mock cloud, no MinIO); a generous
     * readiness deadline: these machines are shared and often loaded */
    int rc = wih_test_cli(&out, &err, NULL, "up", "--no-node", "--state-dir", g_dir, "--no-webhook", "--no-cloud", "--timeout",
                          "180", NULL);
    ck_assert_msg(rc == 0, "up exit %d: %s", rc, err);
    free(out);
    free(err);

    /* state.json is read BEFORE down: it names every process and port of the run */
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(g_dir, &e);
    ck_assert_msg(st != NULL, "%s", wih_err_str(e));
    const char *server = jstr(st, "server");
    ck_assert_ptr_nonnull(server);
    const cJSON *comps = cJSON_GetObjectItem(st, "components");
    ck_assert_int_ge(cJSON_GetArraySize(comps), 2);

    char *kc = wih_path_join(g_dir, "kubeconfig");
    kube_config_opts ko = {.kubeconfig = kc};
    kube_client *c = kube_client_new(&ko, &e);
    ck_assert_msg(c != NULL, "client: %s", wih_err_str(e));

    char *fx = wih_fixture("cluster/token-pod.yaml");
    cJSON *applied = NULL;
    rc = kube_apply_file(c, fx, &applied, &e);
    ck_assert_msg(rc == 0, "apply %s: %s", fx, wih_err_str(e));
    ck_assert_int_eq(cJSON_GetArraySize(applied), 3);
    const cJSON *pod = cJSON_GetArrayItem(applied, 2);
    ck_assert_str_eq(kube_obj_str(pod, "kind"), "Pod");
    ck_assert_str_eq(kube_obj_str(pod, "spec.serviceAccountName"), SA);
    char *uid = wih_strdup(kube_obj_str(pod, "metadata.uid"));
    ck_assert(uid && *uid);
    cJSON_Delete(applied);
    free(fx);

    const char *auds[] = {AUD, NULL};
    kube_token_req tr = {.ns = NS, .service_account = SA, .audiences = auds, .expiration_seconds = EXP_SECONDS,
                         .bound_kind = "Pod", .bound_api_version = "v1", .bound_name = POD, .bound_uid = uid};
    int64_t expires_ms = 0;
    char *token = kube_token_request(c, &tr, &expires_ms, &e);
    ck_assert_msg(token != NULL, "TokenRequest: %s", wih_err_str(e));
    char *fp = wih_fingerprint(token);
    printf("token %s (bound to pod %s/%s)\n", fp, NS, POD);
    free(fp);
    int64_t now = (int64_t)time(NULL);
    ck_assert_msg(expires_ms / 1000 >= now + EXP_SECONDS - 60 && expires_ms / 1000 <= now + EXP_SECONDS + 60,
                  "expirationTimestamp %lld s, now %lld", (long long)(expires_ms / 1000), (long long)now);

    /* discovery and JWKS, anonymously */
    char *ca = wih_asprintf("%s/pki/ca.crt", g_dir);
    char *durl = wih_asprintf("%s/.well-known/openid-configuration", server);
    cJSON *disc = anon_get_json(durl, ca);
    const char *issuer = jstr(disc, "issuer");
    ck_assert_ptr_nonnull(issuer);
    ck_assert_str_eq(issuer, server);
    ck_assert_str_eq(issuer, jstr(st, "issuer"));
    const char *jwks_uri = jstr(disc, "jwks_uri");
    ck_assert_ptr_nonnull(jwks_uri);
    cJSON *jwks = anon_get_json(jwks_uri, ca);
    ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(jwks, "keys")), 1);

    /* the signature, with a kid and an exp required as a cloud IAM does */
    wih_jwt_code code;
    wih_jwt *t = wih_jwt_parse(token, &code, &e);
    ck_assert_msg(t != NULL, "parse: %s", wih_jwt_code_name(code));
    code = wih_jwt_verify_ex(t, jwks, now, 60, WIH_JWT_REQUIRE_KID | WIH_JWT_REQUIRE_EXP, &e);
    ck_assert_msg(code == WIH_JWT_OK, "verify: %s (%s)", wih_jwt_code_name(code), wih_err_str(e));
    ck_assert_int_eq(wih_jwt_verify(t, jwks, now, 60, NULL), WIH_JWT_OK);

    expect good = {.iss = issuer, .aud = AUD, .ns = NS, .sa = SA, .pod_name = POD, .pod_uid = uid,
                   .lifetime = EXP_SECONDS};
    char *p = claims_problem(t, &good);
    ck_assert_msg(p == NULL, "claims: %s", p);

    /* the same token under another SA's trust policy: each mismatch is caught */
    expect other = good;
    other.sa = "other-sa";
    p = claims_problem(t, &other);
    ck_assert_msg(p && strstr(p, "sub "), "another SA's sub accepted: %s", p ? p : "(no problem)");
    free(p);
    other = good;
    other.aud = "sts.amazonaws.com";
    p = claims_problem(t, &other);
    ck_assert_msg(p && strstr(p, "aud "), "another audience accepted: %s", p ? p : "(no problem)");
    free(p);
    other = good;
    other.iss = "https://127.0.0.1:1";
    p = claims_problem(t, &other);
    ck_assert_msg(p && strstr(p, "iss "), "another issuer accepted: %s", p ? p : "(no problem)");
    free(p);
    other = good;
    other.pod_uid = "00000000-0000-0000-0000-000000000000";
    p = claims_problem(t, &other);
    ck_assert_msg(p && strstr(p, "pod.uid"), "another pod accepted: %s", p ? p : "(no problem)");
    free(p);
    other = good;
    other.lifetime = 3600;
    p = claims_problem(t, &other);
    ck_assert_msg(p && strstr(p, "exp - iat"), "another lifetime accepted: %s", p ? p : "(no problem)");
    free(p);

    /* one flipped signature byte: rejected */
    const char *dot = strrchr(token, '.');
    ck_assert_ptr_nonnull(dot);
    size_t siglen = 0;
    unsigned char *sig = wih_b64url_decode(dot + 1, strlen(dot + 1), &siglen);
    ck_assert(sig && siglen == 256);
    sig[siglen / 2] ^= 0x01;
    char *sig64 = wih_b64url_encode(sig, siglen);
    char *forged = wih_asprintf("%.*s.%s", (int)(dot - token), token, sig64);
    wih_jwt *ft = wih_jwt_parse(forged, &code, &e);
    ck_assert_msg(ft != NULL, "parse forged: %s", wih_jwt_code_name(code));
    code = wih_jwt_verify(ft, jwks, now, 60, NULL);
    ck_assert_msg(code == WIH_JWT_BAD_SIGNATURE, "flipped byte: %s", wih_jwt_code_name(code));
    wih_jwt_free(ft);
    memset(forged, 0, strlen(forged));
    free(forged);
    free(sig64);
    free(sig);

    wih_jwt_free(t);
    memset(token, 0, strlen(token));
    free(token);

    /* delete the pod and wait until it is gone */
    kube_ref pref = {"v1", "Pod", NS, POD};
    rc = kube_delete(c, &pref, 0, 30000, &e);
    ck_assert_msg(rc == 0, "delete pod: %s", wih_err_str(e));
    cJSON *gone = kube_get(c, &pref, &e);
    ck_assert_msg(gone == NULL && e && e->http_status == 404, "pod still there");
    wih_err_free(e);
    e = NULL;
    kube_client_free(c);

    rc = wih_test_cli(&out, &err, NULL, "down", "--state-dir", g_dir, NULL);
    ck_assert_msg(rc == 0, "down exit %d: %s", rc, err);
    free(out);
    free(err);

    /* nothing of the run is alive or listening */
    int checked = 0;
    const cJSON *comp;
    cJSON_ArrayForEach(comp, comps)
    {
        const cJSON *pid = cJSON_GetObjectItem(comp, "pid");
        ck_assert_msg(cJSON_IsNumber(pid), "component %s has no pid", comp->string);
        ck_assert_msg(!wih_pid_alive((pid_t)pid->valuedouble), "%s (pid %.0f) still alive after down", comp->string,
                      pid->valuedouble);
        const char *ports[] = {"port", "port2"};
        for (int i = 0; i < 2; i++) {
            const cJSON *pt = cJSON_GetObjectItem(comp, ports[i]);
            if (!cJSON_IsNumber(pt)) continue;
            ck_assert_msg(!wih_port_listening(pt->valueint), "%s port %d still listens after down", comp->string,
                          pt->valueint);
            checked++;
        }
    }
    ck_assert_int_ge(checked, 2);
    ck_assert_int_ne(access(g_dir, F_OK), 0);

    cJSON_Delete(jwks);
    cJSON_Delete(disc);
    free(durl);
    free(ca);
    free(uid);
    free(kc);
    cJSON_Delete(st);
}
END_TEST

int main(void)
{
    wih_err *err = NULL;
    const wih_tool need[] = {WIH_TOOL_ETCD, WIH_TOOL_KUBE_APISERVER};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        char *p = wih_tool_path(need[i], &err);
        if (!p) wih_test_skip("%s", wih_err_str(err));
        free(p);
    }
    char *tmp = wih_tmpdir("wih-oidc-test", false, &err);
    if (!tmp) wih_test_skip("no temp dir: %s", wih_err_str(err));
    g_dir = wih_path_join(tmp, "state");
    Suite *s = suite_create("oidc_token");
    TCase *tc = tcase_create("oidc_token");
    tcase_set_timeout(tc, 480);
    tcase_add_test(tc, token_bound_to_pod_verifies_against_public_jwks);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    /* never leave a chain behind, whatever failed */
    cluster_local_opts o = {.state_dir = g_dir};
    wih_err_free(cluster_local_down(&o, false));
    free(g_dir);
    free(tmp);
    return rc;
}
