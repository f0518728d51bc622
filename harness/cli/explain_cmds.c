/* wiharness explain — the diagnosis rules, statically, with no cluster. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/source.h"
#include "wiharness/diagnosis.h"

typedef struct {
    const char *values, *workflow, *profile, *pool, *platform, *ns, *output;
    wih_strlist sa;
} explain_cfg;

#define EO(n, t, f, m, h) {n, 0, t, offsetof(explain_cfg, f), m, h, false}
static const wih_opt k_explain_opts[] = {
    EO("namespace", WIH_OPT_STR, ns, "NS",
       "the workflow namespace (default: global.backendNamespace of the values, else osmo-workflows)"),
    {"output", 'o', WIH_OPT_CHOICE, offsetof(explain_cfg, output), "text|json", "text (default) or json", false},
    EO("platform", WIH_OPT_STR, platform, "X", "platform of the pool (default: the pool's default_platform)"),
    EO("pool", WIH_OPT_STR, pool, "NAME", "the pool the workflows run in (default: every pool the file defines)"),
    EO("profile", WIH_OPT_CHOICE, profile, "aws-irsa|azure-wi|gcp-fleet|gcp-pfnet",
       "aws-irsa, azure-wi, gcp-fleet or gcp-pfnet (default: from the ServiceAccount's annotations)"),
    EO("sa", WIH_OPT_LIST, sa, "FILE", "a ServiceAccount manifest (YAML; several documents or a kubectl List allowed)"),
    EO("values", WIH_OPT_STR, values, "FILE", "the OSMO Helm values file (services.configs, configuration, or database JSON), or git+URL#REF:PATH"),
    EO("workflow", WIH_OPT_STR, workflow, "FILE", "an OSMO workflow spec (its data URLs are checked too)"),
};

/* --values git+URL#REF:PATH (source.h): the file at REF, in a temp dir under
 * its own name (findings then name <tmp>/<name>:line:col; the commit is
 * printed first). Returns the temp path, or NULL after reporting (*rc: 2 or 3). */
static char *values_from_git(const char *spec, cJSON **prov, int *rc)
{
    wih_err *e = NULL;
    size_t n = 0;
    char *text = src_read(spec, NULL, &n, prov, &e);
    char *dir = text ? wih_tmpdir("wih-explain-git", false, &e) : NULL;
    const char *path = dir ? cJSON_GetStringValue(cJSON_GetObjectItem(*prov, "path")) : NULL;
    const char *base = path && strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char *file = dir ? wih_path_join(dir, base) : NULL;
    if (file && wih_write_file(file, text, n, 0600, &e)) {
        free(file);
        file = NULL;
    }
    free(text);
    free(dir);
    if (!file) {
        cJSON_Delete(*prov);
        *prov = NULL;
        *rc = wih_err_report(e);
    }
    return file;
}

static int run_explain(void *vcfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    explain_cfg *c = vcfg;
    bool json = false;
    if (c->output && !(json = !strcmp(c->output, "json")) && strcmp(c->output, "text")) {
        fprintf(stderr, "wiharness explain: --output must be text or json, not '%s'\n", c->output);
        return WIH_EXIT_INPUT;
    }
    if (!c->values && !c->sa.n) {
        fprintf(stderr, "wiharness explain: give --values FILE and/or --sa FILE\nTry 'wiharness explain --help'.\n");
        return WIH_EXIT_INPUT;
    }
    cJSON *prov = NULL;
    char *git_values = NULL;
    int grc = WIH_EXIT_INPUT;
    if (src_is_git(c->values) && !(git_values = values_from_git(c->values, &prov, &grc))) return grc;
    diag_load_opts o = {.values = git_values ? git_values : c->values, .workflow = c->workflow, .sa = (const char *const *)c->sa.v, .nsa = c->sa.n,
                        .profile = c->profile, .pool = c->pool, .platform = c->platform, .namespace_ = c->ns};
    wih_err *e = NULL;
    cJSON *facts = diag_facts_load(&o, &e);
    cJSON *found = facts ? diag_static(facts, &e) : NULL;
    cJSON_Delete(facts);
    free(git_values);
    if (!found) {
        cJSON_Delete(prov);
        if (e && e->kind != WIH_EXIT_INPUT && e->kind != WIH_EXIT_INFRA) e->kind = WIH_EXIT_INPUT;
        return wih_err_report(e);
    }
    int n = cJSON_GetArraySize(found);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "findings", found);
        if (prov) cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "sources"), prov);
        prov = NULL;
        char *s = cJSON_Print(root);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(root);
    } else {
        if (prov)
            printf("values: %s (commit %s)\n", cJSON_GetStringValue(cJSON_GetObjectItem(prov, "source")),
                   cJSON_GetStringValue(cJSON_GetObjectItem(prov, "commit")));
        char *s = diag_format_text(found);
        fputs(s, stdout);
        free(s);
        if (n)
            printf("%d finding%s\n", n, n == 1 ? "" : "s");
        else
            printf("no known misconfiguration found\n");
        cJSON_Delete(found);
    }
    cJSON_Delete(prov);
    return n ? WIH_EXIT_FAIL : WIH_EXIT_OK;
}

const wih_cmd wih_cmd_explain = {
    .name = "explain",
    .summary = "name the misconfigurations in Helm values and ServiceAccount manifests (no cluster)",
    .details = "Runs the static diagnosis rules (docs/troubleshooting.md has one section per id):\n"
               "annotation typos, a template the pool does not list, an unknown template name,\n"
               "services.configs.enabled not true, a chart list Helm replaced, the Azure use label,\n"
               "token expiration out of range, ServiceAccount namespace, static cloud keys in a\n"
               "template, a malformed role ARN / client id / GSA email, half pfnet annotations,\n"
               "and (with --workflow, for gcp-*) gs:// data OSMO cannot read with workload identity.\n"
               "Each finding: where (file:line:col), id, cause and fix. --output json prints\n"
               "{\"findings\": [{\"id\", \"cause\", \"fix\", \"where\"}]}.\n"
               "Exit status: 0 nothing found, 1 findings, 2 unreadable or invalid input.\n"
               "Example:\n"
               "  wiharness explain --values values.yaml --sa workflow-sa.yaml --profile azure-wi",
    .opts = k_explain_opts,
    .nopts = sizeof k_explain_opts / sizeof k_explain_opts[0],
    .cfg_size = sizeof(explain_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_explain,
};
