/* wiharness explain — the diagnosis rules, statically, with no cluster. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
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
    EO("values", WIH_OPT_STR, values, "FILE", "the OSMO Helm values file (services.configs, configuration, or database JSON)"),
    EO("workflow", WIH_OPT_STR, workflow, "FILE", "an OSMO workflow spec (its data URLs are checked too)"),
};

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
    diag_load_opts o = {.values = c->values, .workflow = c->workflow, .sa = (const char *const *)c->sa.v, .nsa = c->sa.n,
                        .profile = c->profile, .pool = c->pool, .platform = c->platform, .namespace_ = c->ns};
    wih_err *e = NULL;
    cJSON *facts = diag_facts_load(&o, &e);
    cJSON *found = facts ? diag_static(facts, &e) : NULL;
    cJSON_Delete(facts);
    if (!found) {
        if (e && e->kind != WIH_EXIT_INPUT && e->kind != WIH_EXIT_INFRA) e->kind = WIH_EXIT_INPUT;
        return wih_err_report(e);
    }
    int n = cJSON_GetArraySize(found);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "findings", found);
        char *s = cJSON_Print(root);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(root);
    } else {
        char *s = diag_format_text(found);
        fputs(s, stdout);
        free(s);
        if (n)
            printf("%d finding%s\n", n, n == 1 ? "" : "s");
        else
            printf("no known misconfiguration found\n");
        cJSON_Delete(found);
    }
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
