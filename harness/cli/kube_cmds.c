/* wiharness kube apply / kube get: the kube client from the command line
 * (server-side apply of YAML files; get or list objects). Errors carry the
 * exit codes of kube.h: a bad kubeconfig or manifest → 2 with file:line:col,
 * unreachable server / TLS / 401 / 403 → 3 naming the cause. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/kube.h"
#include "wiharness/yamljson.h"

typedef struct {
    wih_strlist files;
    const char *kubeconfig, *context, *output, *ns, *selector;
    bool all_ns;
    long request_timeout;
} kube_cfg;

#define KUBE_COMMON_OPTS                                                                                          \
    {"kubeconfig", 0, WIH_OPT_STR, offsetof(kube_cfg, kubeconfig), "FILE",                                       \
     "kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)", false},                                     \
        {"context", 0, WIH_OPT_STR, offsetof(kube_cfg, context), "NAME", "kubeconfig context to use", false},      \
        {"request-timeout", 0, WIH_OPT_INT, offsetof(kube_cfg, request_timeout), "SECONDS",                       \
         "retry 429/5xx/connection refused, and wait for an exec credential plugin, for up to this long "        \
         "(default 10)", false},                                                                                   \
        {"output", 'o', WIH_OPT_CHOICE, offsetof(kube_cfg, output), "text|json|yaml", "text (default), json or yaml", false}

static const wih_opt k_apply_opts[] = {
    {"filename", 'f', WIH_OPT_LIST, offsetof(kube_cfg, files), "FILE", "YAML file(s) to apply ('-' = stdin)", true},
    KUBE_COMMON_OPTS,
};

static const wih_opt k_get_opts[] = {
    {"namespace", 'n', WIH_OPT_STR, offsetof(kube_cfg, ns), "NS", "namespace (default: the context's)", false},
    {"selector", 'l', WIH_OPT_STR, offsetof(kube_cfg, selector), "SELECTOR", "label selector, e.g. app=web,tier!=db",
     false},
    {"all-namespaces", 'A', WIH_OPT_FLAG, offsetof(kube_cfg, all_ns), NULL, "list across all namespaces", false},
    KUBE_COMMON_OPTS,
};

static int check_output(const kube_cfg *c, const char *cmd)
{
    if (c->output && strcmp(c->output, "text") && strcmp(c->output, "json") && strcmp(c->output, "yaml")) {
        fprintf(stderr, "wiharness %s: --output must be text, json or yaml, not '%s'\n", cmd, c->output);
        return WIH_EXIT_INPUT;
    }
    return 0;
}

static kube_client *make_client(const kube_cfg *c, wih_err **err)
{
    /* --request-timeout also bounds an exec credential plugin (issue 13 finding 7) */
    kube_config_opts o = {.kubeconfig = c->kubeconfig, .context = c->context,
                          .exec_timeout_ms = (c->request_timeout > 0 ? c->request_timeout : 10) * 1000};
    kube_client *k = kube_client_new(&o, err);
    if (k && c->request_timeout > 0) kube_client_set_retry_ms(k, c->request_timeout * 1000);
    return k;
}

static void print_doc(const cJSON *j, const char *output)
{
    if (output && !strcmp(output, "yaml")) {
        char *s = wih_yaml_emit(j);
        fputs(s, stdout);
        free(s);
    } else {
        char *s = cJSON_Print(j);
        printf("%s\n", s);
        free(s);
    }
}

static int run_apply(void *vcfg, int argc, char **argv)
{
    kube_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    int rc = check_output(c, "kube apply");
    if (rc) return rc;
    if (c->files.n == 0) {
        fprintf(stderr, "wiharness kube apply: give at least one -f FILE\n");
        return WIH_EXIT_INPUT;
    }
    /* parse everything first: a typo in the last file applies nothing */
    wih_ydocs **docs = wih_xcalloc(c->files.n, sizeof *docs);
    wih_err *e = NULL;
    for (size_t i = 0; i < c->files.n && !e; i++) docs[i] = wih_yaml_load_file(c->files.v[i], &e);
    for (size_t i = 0; i < c->files.n && !e; i++) {
        /* the objects of every file are checked before anything is applied */
        for (size_t j = 0; j < wih_ydocs_count(docs[i]) && !e; j++) {
            const cJSON *d = wih_ydocs_root(docs[i], j);
            if (d && !cJSON_IsNull(d) &&
                (!cJSON_IsObject(d) || !kube_obj_str(d, "apiVersion") || !kube_obj_str(d, "kind") ||
                 !kube_obj_str(d, "metadata.name")))
                e = wih_ydocs_err(docs[i], d, "document %zu: a Kubernetes object needs apiVersion, kind and "
                                              "metadata.name",
                                  j + 1);
        }
    }
    size_t objects = 0;
    for (size_t i = 0; i < c->files.n && !e; i++)
        for (size_t j = 0; j < wih_ydocs_count(docs[i]); j++) objects += !cJSON_IsNull(wih_ydocs_root(docs[i], j));
    if (!e && !objects) /* kubectl: "no objects passed to apply"; a silent exit 0 hides a wrong file */
        e = c->files.n == 1 ? wih_err_new(WIH_EXIT_INPUT, "%s: no objects in it: applied nothing", c->files.v[0])
                            : wih_err_new(WIH_EXIT_INPUT, "no objects in %s or the other %zu files: applied nothing",
                                          c->files.v[0], c->files.n - 1);
    kube_client *k = e ? NULL : make_client(c, &e);
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; k && !e && i < c->files.n; i++) {
        cJSON *applied = NULL;
        if (kube_apply_docs(k, docs[i], &applied, &e) == 0) {
            cJSON *o;
            while ((o = cJSON_DetachItemFromArray(applied, 0))) {
                if (!c->output || !strcmp(c->output, "text")) {
                    const char *ns = kube_obj_str(o, "metadata.namespace");
                    printf("%s %s%s%s applied\n", kube_obj_str(o, "kind"), ns ? ns : "", ns ? "/" : "",
                           kube_obj_str(o, "metadata.name"));
                    cJSON_Delete(o);
                } else {
                    cJSON_AddItemToArray(all, o);
                }
            }
            cJSON_Delete(applied);
        }
    }
    if (!e && c->output && strcmp(c->output, "text")) print_doc(all, c->output);
    cJSON_Delete(all);
    kube_client_free(k);
    for (size_t i = 0; i < c->files.n; i++) wih_ydocs_free(docs[i]);
    free(docs);
    return e ? wih_err_report(e) : WIH_EXIT_OK;
}

static int run_get(void *vcfg, int argc, char **argv)
{
    kube_cfg *c = vcfg;
    int rc = check_output(c, "kube get");
    if (rc) return rc;
    const char *api = argv[0], *kind = argv[1], *name = argc > 2 ? argv[2] : NULL;
    wih_err *e = NULL;
    kube_client *k = make_client(c, &e);
    if (!k) return wih_err_report(e);
    cJSON *r;
    if (name) {
        kube_ref ref = {api, kind, c->ns, name};
        r = kube_get(k, &ref, &e);
    } else {
        const char *ns = c->all_ns ? NULL : (c->ns ? c->ns : kube_config_namespace(kube_client_config(k)));
        r = kube_list(k, api, kind, ns, c->selector, &e);
    }
    if (r) {
        if (c->output && strcmp(c->output, "text")) {
            print_doc(r, c->output);
        } else {
            const cJSON *items = cJSON_GetObjectItem(r, "items");
            const cJSON *it;
            if (name) {
                const char *ns = kube_obj_str(r, "metadata.namespace");
                printf("%s%s%s\n", ns ? ns : "", ns ? "/" : "", kube_obj_str(r, "metadata.name"));
            } else {
                cJSON_ArrayForEach(it, items)
                {
                    const char *ns = kube_obj_str(it, "metadata.namespace");
                    printf("%s%s%s\n", ns ? ns : "", ns ? "/" : "", kube_obj_str(it, "metadata.name"));
                }
            }
        }
        cJSON_Delete(r);
    }
    kube_client_free(k);
    return e ? wih_err_report(e) : WIH_EXIT_OK;
}

const wih_cmd wih_cmd_kube_apply = {
    .name = "kube apply",
    .summary = "server-side apply YAML documents (field manager 'wiharness')",
    .details = "Every file is parsed first; then each document is applied in order with\n"
               "PATCH application/apply-patch+yaml, fieldManager=wiharness, force=true.\n"
               "Exit 2: bad YAML, kubeconfig or object (file:line:col); exit 3: the cluster\n"
               "is unreachable, TLS fails, or RBAC refuses (the server's message is kept).",
    .opts = k_apply_opts,
    .nopts = sizeof k_apply_opts / sizeof k_apply_opts[0],
    .cfg_size = sizeof(kube_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_apply,
};

const wih_cmd wih_cmd_kube_get = {
    .name = "kube get",
    .summary = "get one object, or list objects of a kind (with a label selector)",
    .args = "APIVERSION KIND [NAME]",
    .details = "Examples: wiharness kube get v1 Pod -n team-a -l app=web\n"
               "          wiharness kube get apps/v1 Deployment web -o yaml",
    .opts = k_get_opts,
    .nopts = sizeof k_get_opts / sizeof k_get_opts[0],
    .cfg_size = sizeof(kube_cfg),
    .min_args = 2,
    .max_args = 3,
    .run = run_get,
};
