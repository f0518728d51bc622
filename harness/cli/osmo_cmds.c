/* wiharness gen sa | gen values | render — the OSMO model on the command line. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/osmo.h"
#include "wiharness/webhook.h"

static int print_yaml(const cJSON *n)
{
    char *s = wih_yaml_emit(n);
    fputs(s, stdout);
    free(s);
    return WIH_EXIT_OK;
}

/* ------------------------------------------------------------ gen sa */
typedef struct {
    const char *profile, *name, *ns, *role_arn, *client_id, *tenant_id, *gsa, *audience, *exp, *output;
} gen_sa_cfg;

#define SAO(n, f, m, h) {n, 0, WIH_OPT_STR, offsetof(gen_sa_cfg, f), m, h, false}
static const wih_opt k_sa_opts[] = {
    SAO("audience", audience, "AUD", "aws-irsa: eks.amazonaws.com/audience"),
    SAO("client-id", client_id, "ID", "azure-wi: the managed identity's client id"),
    SAO("gcp-service-account", gsa, "GSA", "gcp-fleet: <gsa>@<project>.iam.gserviceaccount.com"),
    SAO("name", name, "N", "ServiceAccount name (e.g. osmo-workflow)"),
    SAO("namespace", ns, "NS", "the workflow namespace (e.g. osmo-workflows)"),
    {"output", 'o', WIH_OPT_CHOICE, offsetof(gen_sa_cfg, output), "yaml|json", "yaml (default) or json", false},
    {"profile", 0, WIH_OPT_CHOICE, offsetof(gen_sa_cfg, profile), WIH_PROFILE_CHOICES, "the identity profile", false},
    SAO("role-arn", role_arn, "ARN", "aws-irsa: arn:aws:iam::<account-id>:role/<role-name>"),
    SAO("tenant-id", tenant_id, "T", "azure-wi: azure.workload.identity/tenant-id"),
    SAO("token-expiration", exp, "SECONDS", "aws-irsa / azure-wi: projected token lifetime annotation"),
};

static int emit(const cJSON *n, const char *output, const char *cmd)
{
    if (output && !strcmp(output, "json")) {
        char *s = cJSON_Print(n);
        printf("%s\n", s);
        free(s);
        return WIH_EXIT_OK;
    }
    if (output && strcmp(output, "yaml")) {
        fprintf(stderr, "wiharness %s: --output must be yaml or json, not '%s'\n", cmd, output);
        return WIH_EXIT_INPUT;
    }
    return print_yaml(n);
}

static int run_gen_sa(void *vcfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gen_sa_cfg *c = vcfg;
    osmo_sa_opts o = {.profile = c->profile, .name = c->name, .namespace_ = c->ns, .role_arn = c->role_arn,
                      .client_id = c->client_id, .tenant_id = c->tenant_id, .gcp_service_account = c->gsa,
                      .audience = c->audience, .token_expiration = c->exp};
    wih_err *e = NULL;
    cJSON *sa = osmo_sa_manifest(&o, &e);
    if (!sa) return wih_err_report(wih_err_wrap(e, "gen sa"));
    int rc = emit(sa, c->output, "gen sa");
    cJSON_Delete(sa);
    return rc;
}

const wih_cmd wih_cmd_gen_sa = {
    .name = "gen sa",
    .summary = "print the guide's step-2 ServiceAccount manifest for a profile",
    .details = "Examples:\n"
               "  wiharness gen sa --profile aws-irsa --name osmo-workflow --namespace osmo-workflows \\\n"
               "      --role-arn arn:aws:iam::123456789012:role/team-buckets\n"
               "  wiharness gen sa --profile azure-wi --name osmo-workflow --namespace osmo-workflows \\\n"
               "      --client-id 00000000-0000-0000-0000-000000000001\n"
               "  wiharness gen sa --profile gcp-fleet --name osmo-workflow --namespace osmo-workflows \\\n"
               "      --gcp-service-account team@proj.iam.gserviceaccount.com",
    .opts = k_sa_opts,
    .nopts = sizeof k_sa_opts / sizeof k_sa_opts[0],
    .cfg_size = sizeof(gen_sa_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_gen_sa,
};

/* ------------------------------------------------------------ gen values */
typedef struct {
    const char *template_name, *sa, *profile, *output;
    wih_strlist pools;
    bool guide_exact;
} gen_values_cfg;

static const wih_opt k_values_opts[] = {
    {"guide-exact", 0, WIH_OPT_FLAG, offsetof(gen_values_cfg, guide_exact), NULL,
     "omit services.configs.enabled: true, exactly as the guide prints it", false},
    {"output", 'o', WIH_OPT_CHOICE, offsetof(gen_values_cfg, output), "yaml|json", "yaml (default) or json", false},
    {"pool", 0, WIH_OPT_LIST, offsetof(gen_values_cfg, pools), "P", "pool to attach the template to (default: default)",
     true},
    {"profile", 0, WIH_OPT_CHOICE, offsetof(gen_values_cfg, profile), WIH_PROFILE_CHOICES,
     "azure-wi adds metadata.labels azure.workload.identity/use: \"true\"", false},
    {"service-account", 0, WIH_OPT_STR, offsetof(gen_values_cfg, sa), "SA", "the annotated ServiceAccount", false},
    {"template", 0, WIH_OPT_STR, offsetof(gen_values_cfg, template_name), "NAME",
     "pod template name (e.g. workflow_workload_identity)", false},
};

static int run_gen_values(void *vcfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gen_values_cfg *c = vcfg;
    osmo_values_opts o = {.template_name = c->template_name, .service_account = c->sa,
                          .pools = (const char *const *)c->pools.v, .profile = c->profile,
                          .guide_exact = c->guide_exact};
    wih_err *e = NULL;
    cJSON *v = osmo_values_fragment(&o, &e);
    if (!v) return wih_err_report(wih_err_wrap(e, "gen values"));
    int rc = emit(v, c->output, "gen values");
    cJSON_Delete(v);
    return rc;
}

const wih_cmd wih_cmd_gen_values = {
    .name = "gen values",
    .summary = "print the Helm values fragment of the guide's steps 3-4 (pod template + pools)",
    .details = "Each pool's common_pod_template repeats default_user and default_ctrl because Helm\n"
               "replaces lists: a values file that lists only the new template drops the defaults.\n"
               "services.configs.enabled: true is included (without it OSMO ignores these keys);\n"
               "--guide-exact leaves it out, as the guide does.",
    .opts = k_values_opts,
    .nopts = sizeof k_values_opts / sizeof k_values_opts[0],
    .cfg_size = sizeof(gen_values_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_gen_values,
};

/* ------------------------------------------------------------ render */
typedef struct {
    const char *values, *workflow, *pool, *platform, *mode, *output, *ns, *user, *profile, *sa, *wh_options;
    long seed;
} render_cfg;

static const wih_opt k_render_opts[] = {
    {"mode", 0, WIH_OPT_STR, offsetof(render_cfg, mode), "MODE",
     "configmap or database (default: from the values shape)", false},
    {"namespace", 0, WIH_OPT_STR, offsetof(render_cfg, ns), "NS", "backend namespace (default osmo-workflows)", false},
    {"output", 'o', WIH_OPT_CHOICE, offsetof(render_cfg, output), "yaml|json", "yaml (stream, default) or json (a list)",
     false},
    {"platform", 0, WIH_OPT_STR, offsetof(render_cfg, platform), "X", "platform (default: the pool's default_platform)",
     false},
    {"pool", 0, WIH_OPT_STR, offsetof(render_cfg, pool), "P", "pool (default: default)", false},
    {"profile", 0, WIH_OPT_CHOICE, offsetof(render_cfg, profile), WIH_PROFILE_CHOICES,
     "run the mock identity webhook (aws-irsa, azure-wi, gcp-fleet) over each pod", false},
    {"sa", 0, WIH_OPT_STR, offsetof(render_cfg, sa), "SA.yaml",
     "with --profile: the pods' ServiceAccount; without it the SA is missing, as in a cluster that lacks it",
     false},
    {"seed", 0, WIH_OPT_INT, offsetof(render_cfg, seed), "N", "ids derive from it (default 0)", false},
    {"submitted-by", 0, WIH_OPT_STR, offsetof(render_cfg, user), "USER", "osmo.submitted_by (default wiharness)",
     false},
    {"values", 0, WIH_OPT_STR, offsetof(render_cfg, values), "V", "Helm values (any of the three shapes) or DB JSON",
     false},
    {"webhook-options", 0, WIH_OPT_STR, offsetof(render_cfg, wh_options), "OPTS.yaml",
     "with --profile: webhook options (camelCase keys, docs/webhook.md)", false},
    {"workflow", 0, WIH_OPT_STR, offsetof(render_cfg, workflow), "W", "the workflow spec", false},
};

static cJSON *load_sa(const char *path, wih_ydocs **keep, wih_err **err)
{
    cJSON *o = wih_yaml_load_one(path, keep, err);
    if (!o) return NULL;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!cJSON_IsObject(o))
        *err = wih_ydocs_err(*keep, o, "expected a ServiceAccount object (a YAML map)");
    else if (k && (!cJSON_IsString(k) || strcmp(k->valuestring, "ServiceAccount")))
        *err = wih_ydocs_err(*keep, k, "expected kind: ServiceAccount");
    else {
        char *bad = NULL;
        const cJSON *at = webhook_sa_invalid(o, &bad); /* e.g. a non-string annotation */
        if (!at) return o;
        *err = wih_ydocs_err(*keep, at, "%s", bad);
        free(bad);
    }
    /* the docs own o: free them with it on error */
    wih_ydocs_free(*keep);
    *keep = NULL;
    return NULL;
}

static int run_render(void *vcfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    render_cfg *c = vcfg;
    if (!c->values || !c->workflow) {
        fprintf(stderr, "wiharness render: --values and --workflow are required\nTry 'wiharness render --help'.\n");
        return WIH_EXIT_INPUT;
    }
    osmo_mode mode = OSMO_MODE_AUTO;
    if (c->mode) {
        if (!strcmp(c->mode, "configmap"))
            mode = OSMO_MODE_CONFIGMAP;
        else if (!strcmp(c->mode, "database"))
            mode = OSMO_MODE_DATABASE;
        else {
            fprintf(stderr, "wiharness render: --mode must be configmap or database, not '%s'\n", c->mode);
            return WIH_EXIT_INPUT;
        }
    }
    bool json = c->output && !strcmp(c->output, "json");
    if (c->output && !json && strcmp(c->output, "yaml")) {
        fprintf(stderr, "wiharness render: --output must be yaml or json, not '%s'\n", c->output);
        return WIH_EXIT_INPUT;
    }
    if (c->seed < 0) {
        fprintf(stderr, "wiharness render: --seed must be >= 0\n");
        return WIH_EXIT_INPUT;
    }
    webhook_profile prof = WEBHOOK_NPROFILES;
    if (c->profile && webhook_profile_parse(c->profile, &prof)) {
        fprintf(stderr, "wiharness render: unknown --profile '%s' (aws-irsa, azure-wi or gcp-fleet)\n", c->profile);
        return WIH_EXIT_INPUT;
    }
    if (!c->profile && (c->sa || c->wh_options)) {
        fprintf(stderr, "wiharness render: --sa and --webhook-options need --profile\n");
        return WIH_EXIT_INPUT;
    }
    wih_err *e = NULL;
    /* the webhook's inputs first: a bad SA or options file fails before any work */
    webhook_opts wo;
    webhook_opts_defaults(&wo);
    wih_ydocs *sd = NULL;
    cJSON *sa = NULL;
    if (c->sa && !(sa = load_sa(c->sa, &sd, &e))) {
        webhook_opts_free(&wo);
        return wih_err_report(e);
    }
    if (c->wh_options && webhook_opts_load(&wo, prof, c->wh_options, &e)) {
        webhook_opts_free(&wo);
        wih_ydocs_free(sd);
        return wih_err_report(e);
    }
    osmo_config *cfg = osmo_config_load_file(c->values, mode, &e);
    if (!cfg) {
        webhook_opts_free(&wo);
        wih_ydocs_free(sd);
        return wih_err_report(e);
    }
    cJSON *n;
    cJSON_ArrayForEach(n, cfg->notes)
    {
        const cJSON *f = cJSON_GetObjectItem(n, "file");
        const char *code = cJSON_GetObjectItem(n, "code")->valuestring;
        const char *msg = cJSON_GetObjectItem(n, "message")->valuestring;
        if (f)
            wih_warn("%s:%d:%d: [%s] %s", f->valuestring, cJSON_GetObjectItem(n, "line")->valueint,
                     cJSON_GetObjectItem(n, "col")->valueint, code, msg);
        else
            wih_warn("[%s] %s", code, msg);
    }
    wih_ydocs *wd = NULL;
    cJSON *wf = wih_yaml_load_one(c->workflow, &wd, &e);
    cJSON *pods = NULL;
    if (wf) {
        osmo_render_opts ro = {.pool = c->pool, .platform = c->platform, .namespace_ = c->ns,
                               .submitted_by = c->user, .seed = (unsigned long)c->seed};
        pods = osmo_render(cfg, wf, wd, &ro, &e);
    }
    osmo_config_free(cfg);
    wih_ydocs_free(wd);
    int rc = WIH_EXIT_OK;
    if (pods && c->profile) {
        cJSON *notes = cJSON_CreateArray();
        char *denial = NULL;
        int ar = osmo_admit_pods(pods, prof, sa, &wo, notes, &denial, &e);
        const cJSON *nt;
        cJSON_ArrayForEach(nt, notes) wih_info("%s", nt->valuestring);
        cJSON_Delete(notes);
        if (ar == 1) {
            /* like `webhook mutate --apply`: the message on stderr, nothing on stdout */
            fprintf(stderr, "wiharness: %s\n", denial);
            free(denial);
            rc = WIH_EXIT_FAIL;
        } else if (ar < 0) {
            rc = wih_err_report(e);
        }
        if (rc != WIH_EXIT_OK) {
            cJSON_Delete(pods);
            pods = NULL;
        }
    } else if (!pods) {
        rc = wih_err_report(e);
    }
    webhook_opts_free(&wo);
    wih_ydocs_free(sd);
    if (!pods) return rc;
    if (json) {
        char *s = cJSON_Print(pods);
        printf("%s\n", s);
        free(s);
    } else {
        int np = cJSON_GetArraySize(pods);
        const cJSON **v = wih_xcalloc((size_t)np + 1, sizeof *v);
        int i = 0;
        for (const cJSON *p = pods->child; p; p = p->next) v[i++] = p;
        char *s = wih_yaml_emit_stream(v, (size_t)np);
        fputs(s, stdout);
        free(s);
        free(v);
    }
    cJSON_Delete(pods);
    return WIH_EXIT_OK;
}

const wih_cmd wih_cmd_render = {
    .name = "render",
    .summary = "print the pod(s) OSMO would create from Helm values and a workflow spec (no cluster)",
    .details = "The pool template is {} + each common_pod_template name in order + the platform's\n"
               "override_pod_template names, merged OSMO's way (maps recursive, lists by `name`,\n"
               "everything else appended), rendered ({{VAR}}) and applied OVER the generated pod.\n"
               "Output is deterministic: ids derive from --seed. Warnings (ignored Helm keys,\n"
               "replaced lists, skipped unknown templates) go to stderr.\n"
               "With --profile the pods are printed AFTER the mock identity webhook of that profile\n"
               "(what the API server would store; no cluster): --sa is the pods' ServiceAccount (the\n"
               "webhook looks it up by the pod's namespace and serviceAccountName; without --sa, or\n"
               "when it names another SA, the SA is missing, exactly as the webhook sees it).\n"
               "azure-wi only mutates pods labelled azure.workload.identity/use: \"true\" (its\n"
               "objectSelector): the guide's literal template lacks that label, so the pod is printed\n"
               "unchanged and a note on stderr says why.\n"
               "Exit codes: 0 printed, 1 the webhook denied a pod (its message on stderr, nothing on\n"
               "stdout), 2 bad input (file:line:col), 3 internal/infrastructure error.",
    .opts = k_render_opts,
    .nopts = sizeof k_render_opts / sizeof k_render_opts[0],
    .cfg_size = sizeof(render_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_render,
};
