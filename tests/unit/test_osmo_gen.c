/* gen sa / gen values round-trips, the values shapes, URL rules, substitution
 * errors. The generated YAML is parsed back with the project's loader; the
 * values fragment is merged over the chart defaults and rendered into a pod. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/osmo.h"

static const char *k_wf = "workflow:\n"
                          "  name: wf\n"
                          "  resources: {default: {cpu: 1, memory: 1Gi, storage: 1Gi}}\n"
                          "  tasks:\n"
                          "  - name: t1\n"
                          "    image: ubuntu\n"
                          "    environment: {K: V}\n";

static cJSON *yaml1(const char *text)
{
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_string("<out>", text, strlen(text), &e);
    ck_assert_msg(d, "output does not load: %s", e ? wih_err_str(e) : "");
    ck_assert_int_eq((int)wih_ydocs_count(d), 1);
    cJSON *r = wih_ydocs_detach(d, 0);
    wih_ydocs_free(d);
    return r;
}

static const char *jstr(const cJSON *root, const char *const *path)
{
    const cJSON *n = root;
    for (; *path && n; path++) n = cJSON_GetObjectItemCaseSensitive(n, *path);
    return cJSON_IsString(n) ? n->valuestring : NULL;
}
#define JS(root, ...) jstr(root, (const char *const[]){__VA_ARGS__, NULL})

START_TEST(gen_sa_profiles_round_trip)
{
    struct {
        const char *profile, *flag, *val, *key;
        const char *extra[4];
        const char *extra_key;
    } cases[] = {
        {"aws-irsa", "--role-arn", "arn:aws:iam::123456789012:role/team", "eks.amazonaws.com/role-arn",
         {"--audience", "sts.amazonaws.com", "--token-expiration", "3600"}, "eks.amazonaws.com/token-expiration"},
        {"azure-wi", "--client-id", "11111111-2222-3333-4444-555555555555", "azure.workload.identity/client-id",
         {"--tenant-id", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "--token-expiration", "3600"},
         "azure.workload.identity/service-account-token-expiration"},
        {"gcp-fleet", "--gcp-service-account", "team@proj.iam.gserviceaccount.com", "iam.gke.io/gcp-service-account",
         {NULL, NULL, NULL, NULL}, NULL},
    };
    for (size_t i = 0; i < 3; i++) {
        char *out = NULL, *err = NULL;
        int rc = wih_test_cli(&out, &err, NULL, "gen", "sa", "--profile", cases[i].profile, "--name", "osmo-workflow",
                              "--namespace", "osmo-workflows", cases[i].flag, cases[i].val, cases[i].extra[0],
                              cases[i].extra[1], cases[i].extra[2], cases[i].extra[3], NULL);
        ck_assert_msg(rc == 0, "%s: exit %d: %s", cases[i].profile, rc, err);
        cJSON *sa = yaml1(out);
        ck_assert_str_eq(JS(sa, "kind"), "ServiceAccount");
        ck_assert_str_eq(JS(sa, "apiVersion"), "v1");
        ck_assert_str_eq(JS(sa, "metadata", "name"), "osmo-workflow");
        ck_assert_str_eq(JS(sa, "metadata", "namespace"), "osmo-workflows");
        ck_assert_str_eq(JS(sa, "metadata", "annotations", cases[i].key), cases[i].val);
        if (cases[i].extra_key) ck_assert_str_eq(JS(sa, "metadata", "annotations", cases[i].extra_key), "3600");
        /* the library builds the same object the CLI printed */
        osmo_sa_opts o = {.profile = cases[i].profile, .name = "osmo-workflow", .namespace_ = "osmo-workflows"};
        if (i == 0) o.role_arn = cases[i].val, o.audience = "sts.amazonaws.com", o.token_expiration = "3600";
        if (i == 1)
            o.client_id = cases[i].val, o.tenant_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", o.token_expiration = "3600";
        if (i == 2) o.gcp_service_account = cases[i].val;
        wih_err *e = NULL;
        cJSON *lib = osmo_sa_manifest(&o, &e);
        ck_assert_msg(lib, "%s", e ? wih_err_str(e) : "");
        char *d = wih_json_diff(lib, sa);
        ck_assert_msg(!d, "%s: library vs cli: %s", cases[i].profile, d);
        cJSON_Delete(lib);
        cJSON_Delete(sa);
        free(out);
        free(err);
    }
}
END_TEST

START_TEST(gen_sa_bad_input_exit_2)
{
    const char *bad[][8] = {
        {"--profile", "aws-irsa", "--name", "sa", "--namespace", "ns", NULL},                     /* no role */
        {"--profile", "aws-irsa", "--name", "sa", "--namespace", "ns", "--role-arn", "nope"},      /* not an ARN */
        {"--profile", "azure-wi", "--name", "sa", "--namespace", "ns", "--client-id", "xyz"},      /* not a GUID */
        {"--profile", "gcp-fleet", "--name", "sa", "--namespace", "ns", "--gcp-service-account", "bad"},
        {"--profile", "azure-wi", "--name", "SA_Upper", "--namespace", "ns", "--client-id",
         "11111111-2222-3333-4444-555555555555"},
        {"--profile", "kube", "--name", "sa", "--namespace", "ns", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL, *err = NULL;
        int rc = wih_test_cli(&out, &err, NULL, "gen", "sa", bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4],
                              bad[i][5], bad[i][6], bad[i][7], NULL);
        ck_assert_msg(rc == 2, "case %zu: exit %d (out %s)", i, rc, out);
        ck_assert_msg(strstr(err, "error"), "case %zu: no error text: %s", i, err);
        ck_assert_str_eq(out, "");
        free(out);
        free(err);
    }
    /* azure has no audience annotation: refuse rather than print a useless one */
    osmo_sa_opts o = {.profile = "azure-wi", .name = "sa", .namespace_ = "ns",
                      .client_id = "11111111-2222-3333-4444-555555555555", .audience = "api://x"};
    wih_err *e = NULL;
    ck_assert_ptr_null(osmo_sa_manifest(&o, &e));
    ck_assert_int_eq(e->kind, WIH_EXIT_INPUT);
    wih_err_free(e);
}
END_TEST

/* gen values → parsed back → layered over the chart defaults → the pod */
static cJSON *render_with(const char *values_text, osmo_config **keep)
{
    wih_err *e = NULL;
    osmo_config *c = osmo_config_load_string("values.yaml", values_text, OSMO_MODE_AUTO, &e);
    ck_assert_msg(c, "%s", e ? wih_err_str(e) : "");
    wih_ydocs *wd = wih_yaml_load_string("wf.yaml", k_wf, strlen(k_wf), &e);
    ck_assert(wd);
    osmo_render_opts ro = {0};
    cJSON *pods = osmo_render(c, wih_ydocs_root(wd, 0), wd, &ro, &e);
    ck_assert_msg(pods, "%s", e ? wih_err_str(e) : "");
    wih_ydocs_free(wd);
    *keep = c;
    return pods;
}

START_TEST(gen_values_round_trip_gives_pod)
{
    const char *profiles[] = {"aws-irsa", "azure-wi", "gcp-fleet"};
    for (int i = 0; i < 3; i++) {
        char *out = NULL, *err = NULL;
        int rc = wih_test_cli(&out, &err, NULL, "gen", "values", "--template", "workflow_workload_identity",
                              "--service-account", "osmo-workflow", "--pool", "default", "--profile", profiles[i],
                              NULL);
        ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
        cJSON *frag = yaml1(out);
        ck_assert_str_eq(JS(frag, "services", "configs", "podTemplates", "workflow_workload_identity", "spec",
                            "serviceAccountName"),
                         "osmo-workflow");
        cJSON_Delete(frag);
        osmo_config *c = NULL;
        cJSON *pods = render_with(out, &c);
        ck_assert_int_eq(cJSON_GetArraySize(pods), 1);
        cJSON *pod = cJSON_GetArrayItem(pods, 0);
        ck_assert_str_eq(JS(pod, "spec", "serviceAccountName"), "osmo-workflow");
        const char *use = JS(pod, "metadata", "labels", "azure.workload.identity/use");
        if (i == 1)
            ck_assert_msg(use && !strcmp(use, "true"), "azure: use label missing");
        else
            ck_assert_msg(!use, "%s: unexpected azure use label", profiles[i]);
        /* the defaults survived because the fragment repeats them in the list */
        const cJSON *ctrs = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers");
        ck_assert_int_eq(cJSON_GetArraySize(ctrs), 2);
        ck_assert_str_eq(JS(cJSON_GetArrayItem(ctrs, 1), "resources", "requests", "memory"), "1Gi");
        ck_assert_str_eq(JS(cJSON_GetArrayItem(ctrs, 0), "resources", "limits", "nvidia.com/gpu"), "0");
        ck_assert_str_eq(JS(pod, "metadata", "labels", "osmo.pool"), "default");
        ck_assert(!c->helm_ignored);
        cJSON_Delete(pods);
        osmo_config_free(c);
        free(out);
        free(err);
    }
}
END_TEST

START_TEST(gen_values_guide_exact_is_ignored_by_osmo)
{
    osmo_values_opts o = {.template_name = "wi", .service_account = "osmo-workflow", .guide_exact = true};
    wih_err *e = NULL;
    cJSON *frag = osmo_values_fragment(&o, &e);
    ck_assert(frag);
    char *text = wih_yaml_emit(frag);
    cJSON_Delete(frag);
    osmo_config *c = NULL;
    cJSON *pods = render_with(text, &c);
    ck_assert(c->helm_ignored);
    ck_assert_str_eq(JS(cJSON_GetArrayItem(c->notes, 0), "code"), "helm-configs-disabled");
    ck_assert_ptr_null(JS(cJSON_GetArrayItem(pods, 0), "spec", "serviceAccountName"));
    cJSON_Delete(pods);
    osmo_config_free(c);
    free(text);
}
END_TEST

START_TEST(gen_values_several_pools)
{
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "gen", "values", "--template", "wi", "--service-account", "sa", "--pool",
                          "a", "--pool", "b,c", NULL);
    ck_assert_msg(rc == 0, "%s", err);
    cJSON *f = yaml1(out);
    const cJSON *pools = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "services"), "configs"), "pools");
    ck_assert_int_eq(cJSON_GetArraySize(pools), 3);
    const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(pools, names[i]), "common_pod_template");
        ck_assert_int_eq(cJSON_GetArraySize(l), 3);
        ck_assert_str_eq(cJSON_GetArrayItem(l, 2)->valuestring, "wi");
    }
    cJSON_Delete(f);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "gen", "values", "--service-account", "sa", NULL);
    ck_assert_int_eq(rc, 2);
    free(out);
    free(err);
}
END_TEST

START_TEST(values_shapes_and_modes)
{
    wih_err *e = NULL;
    osmo_config *c = osmo_config_load_string("v", "configuration:\n  pools:\n    p2:\n      common_pod_template: [default_user]\n",
                                             OSMO_MODE_AUTO, &e);
    ck_assert(c);
    ck_assert_int_eq(c->shape, OSMO_SHAPE_CONFIGURATION);
    ck_assert_int_eq(c->mode, OSMO_MODE_CONFIGMAP);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(c->pools, "default")); /* chart default kept */
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(c->pools, "p2"));
    ck_assert_int_eq(cJSON_GetArraySize(c->notes), 0); /* a new pool replaces no chart list */
    osmo_config_free(c);

    c = osmo_config_load_string("v.json", "{\"POD_TEMPLATE\": {\"x\": {}}, \"POOL\": {\"pools\": {\"p\": {}}}}",
                                OSMO_MODE_AUTO, &e);
    ck_assert(c);
    ck_assert_int_eq(c->shape, OSMO_SHAPE_DATABASE);
    ck_assert_int_eq(c->mode, OSMO_MODE_DATABASE);
    ck_assert_ptr_null(cJSON_GetObjectItem(c->pod_templates, "default_ctrl")); /* no Helm layering */
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(c->pools, "p"));
    osmo_config_free(c);

    /* enabled: false explicitly → ignored, noted at the key */
    c = osmo_config_load_string("v.yaml", "services:\n  configs:\n    enabled: false\n    pools: {x: {}}\n",
                                OSMO_MODE_AUTO, &e);
    ck_assert(c && c->helm_ignored);
    ck_assert_ptr_null(cJSON_GetObjectItem(c->pools, "x"));
    const cJSON *n = cJSON_GetArrayItem(c->notes, 0);
    ck_assert_str_eq(JS(n, "code"), "helm-configs-disabled");
    ck_assert_int_eq(cJSON_GetObjectItem(n, "line")->valueint, 3);
    osmo_config_free(c);

    /* helm replaces the chart's list: noted with the path */
    c = osmo_config_load_string("v.yaml",
                                "services:\n  configs:\n    enabled: true\n    pools:\n      default:\n"
                                "        common_pod_template: [mine]\n",
                                OSMO_MODE_AUTO, &e);
    ck_assert(c);
    n = cJSON_GetArrayItem(c->notes, 0);
    ck_assert_str_eq(JS(n, "code"), "helm-list-replaced");
    ck_assert_str_eq(JS(n, "path"), "services.configs.pools.default.common_pod_template");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(c->pools, "default"),
                                                            "common_pod_template")),
                     1);
    /* ConfigMap mode: unknown "mine" is skipped with a note; the template is {} */
    cJSON *t = osmo_pool_template(c, "default", NULL, &e);
    ck_assert(t);
    ck_assert_ptr_null(t->child);
    ck_assert_str_eq(JS(cJSON_GetArrayItem(c->notes, 1), "code"), "template-unknown-skipped");
    cJSON_Delete(t);
    c->mode = OSMO_MODE_DATABASE;
    ck_assert_ptr_null(osmo_pool_template(c, "default", NULL, &e));
    ck_assert_msg(strstr(wih_err_str(e), "v.yaml:6:31:"), "%s", wih_err_str(e));
    wih_err_free(e);
    e = NULL;
    osmo_config_free(c);

    /* Helm: a null in the user file deletes the chart's key; the pool still
     * names default_ctrl, so ConfigMap mode skips it with a note */
    c = osmo_config_load_string("v.yaml", "services:\n  configs:\n    enabled: true\n    podTemplates:\n"
                                "      default_ctrl: null\n", OSMO_MODE_AUTO, &e);
    ck_assert(c);
    ck_assert_ptr_null(cJSON_GetObjectItem(c->pod_templates, "default_ctrl"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(c->pod_templates, "default_user"));
    t = osmo_pool_template(c, "default", NULL, &e);
    ck_assert(t);
    ck_assert_str_eq(JS(cJSON_GetArrayItem(c->notes, 0), "code"), "template-unknown-skipped");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "spec"), "containers")), 1);
    cJSON_Delete(t);
    osmo_config_free(c);

    /* a values file that is a list */
    ck_assert_ptr_null(osmo_config_load_string("v.yaml", "- a\n", OSMO_MODE_AUTO, &e));
    ck_assert_msg(strstr(wih_err_str(e), "v.yaml:1:1:"), "%s", wih_err_str(e));
    wih_err_free(e);
}
END_TEST

START_TEST(url_rules)
{
    const char *ok[] = {"s3://b/p", "s3://b", "gs://b/p/q", "azure://acct/cont/p", "azure://acct/cont",
                        "tos://ep/bucket/x", "swift://ep/ns/x"};
    const char *bad[] = {"s3://", "gs:///p", "azure://acct", "azure://acct/", "azure:///c/p", "tos://ep",
                         "swift://", "http://x/y", "file:///etc", "bucket/path", "S3://b/p"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char *m = osmo_url_check(ok[i]);
        ck_assert_msg(!m, "%s rejected: %s", ok[i], m);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *m = osmo_url_check(bad[i]);
        ck_assert_msg(m, "%s accepted", bad[i]);
        free(m);
    }
}
END_TEST

START_TEST(substitution_rules)
{
    cJSON *vars = cJSON_Parse("{\"A\": \"x\", \"N\": 2, \"L\": \"ARRAY:[p,q]\", \"B\": true}");
    cJSON *t = cJSON_Parse("{\"k\": \"{{A}}-{{ N }}\", \"l\": [\"{{A}}\", {\"v\": \"{{L}}\"}], \"b\": \"{{B}}\","
                           " \"{{A}}\": \"keys stay\", \"n\": 5}");
    wih_err *e = NULL;
    ck_assert_int_eq(osmo_substitute(t, vars, NULL, &e), 0);
    cJSON *want = cJSON_Parse("{\"k\": \"x-2\", \"l\": [\"x\", {\"v\": [\"p\", \"q\"]}], \"b\": \"True\","
                              " \"{{A}}\": \"keys stay\", \"n\": 5}");
    char *d = wih_json_diff(want, t);
    ck_assert_msg(!d, "%s", d);
    cJSON_Delete(want);
    cJSON_Delete(t);
    const char *bad[] = {"{\"k\": \"{% if A %}y{% endif %}\"}", "{\"k\": \"{{ A | upper }}\"}", "{\"k\": \"{{A\"}",
                         "{\"k\": \"{{ NOPE }}\"}"};
    for (size_t i = 0; i < 4; i++) {
        t = cJSON_Parse(bad[i]);
        ck_assert_int_eq(osmo_substitute(t, vars, NULL, &e), -1);
        ck_assert_int_eq(e->kind, WIH_EXIT_INPUT);
        wih_err_free(e);
        e = NULL;
        cJSON_Delete(t);
    }
    cJSON_Delete(vars);
}
END_TEST

START_TEST(uuids_deterministic)
{
    char a[33], b[33], c[33];
    osmo_uuid(0, "workflow", a);
    osmo_uuid(0, "workflow", b);
    osmo_uuid(1, "workflow", c);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    ck_assert_int_eq((int)strlen(a), 32);
    char *o1 = NULL, *o2 = NULL, *err = NULL;
    char *v = wih_fixture("osmo/render/guide-aws/values.yaml"), *w = wih_fixture("osmo/render/guide-aws/workflow.yaml");
    ck_assert_int_eq(wih_test_cli(&o1, &err, NULL, "render", "--values", v, "--workflow", w, "--seed", "7", NULL), 0);
    free(err);
    ck_assert_int_eq(wih_test_cli(&o2, &err, NULL, "render", "--values", v, "--workflow", w, "--seed", "8", NULL), 0);
    ck_assert_str_ne(o1, o2);
    free(o1);
    free(o2);
    free(err);
    free(v);
    free(w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("osmo_gen");
    TCase *tc = tcase_create("gen");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gen_sa_profiles_round_trip);
    tcase_add_test(tc, gen_sa_bad_input_exit_2);
    tcase_add_test(tc, gen_values_round_trip_gives_pod);
    tcase_add_test(tc, gen_values_guide_exact_is_ignored_by_osmo);
    tcase_add_test(tc, gen_values_several_pools);
    tcase_add_test(tc, values_shapes_and_modes);
    tcase_add_test(tc, url_rules);
    tcase_add_test(tc, substitution_rules);
    tcase_add_test(tc, uuids_deterministic);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
