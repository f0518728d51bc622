/* wiharness webhook mutate: "what would the webhook do to this pod?" offline. */
#include <stdlib.h>
#include <string.h>

#include "webhook_int.h"
#include "wiharness/cli.h"
#include "wiharness/yamljson.h"

typedef struct {
    const char *profile, *pod, *sa, *options, *output, *ns;
    bool apply;
} mutate_cfg;

static const wih_opt k_opts[] = {
    {"profile", 'p', WIH_OPT_CHOICE, offsetof(mutate_cfg, profile), WIH_PROFILE_CHOICES, "aws-irsa, azure-wi or gcp-fleet (required)",
     false},
    {"pod", 0, WIH_OPT_STR, offsetof(mutate_cfg, pod), "POD.yaml", "the Pod manifest (YAML or JSON; required)", false},
    {"sa", 0, WIH_OPT_STR, offsetof(mutate_cfg, sa), "SA.yaml",
     "the pod's ServiceAccount; omit it to model a missing service account", false},
    {"options", 0, WIH_OPT_STR, offsetof(mutate_cfg, options), "OPTS.yaml",
     "profile options (camelCase keys, see docs/webhook.md)", false},
    {"namespace", 'n', WIH_OPT_STR, offsetof(mutate_cfg, ns), "NS",
     "the request namespace (default: the pod's metadata.namespace, else default)", false},
    {"output", 'o', WIH_OPT_CHOICE, offsetof(mutate_cfg, output), "yaml|json", "yaml (default) or json", false},
    {"apply", 0, WIH_OPT_FLAG, offsetof(mutate_cfg, apply), NULL,
     "print the mutated pod instead of the AdmissionResponse", false},
};

static cJSON *load_obj(const char *path, const char *kind, wih_ydocs **keep, wih_err **err)
{
    cJSON *o = wih_yaml_load_one(path, keep, err);
    if (!o) return NULL;
    if (!cJSON_IsObject(o)) {
        *err = wih_ydocs_err(*keep, o, "expected a %s object (a YAML map)", kind);
        return NULL;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (k && (!cJSON_IsString(k) || strcmp(k->valuestring, kind))) {
        *err = wih_ydocs_err(*keep, k, "expected kind: %s", kind);
        return NULL;
    }
    return o;
}

static void print_doc(const cJSON *j, bool json)
{
    char *s = json ? cJSON_Print(j) : wih_yaml_emit(j);
    fputs(s, stdout);
    if (json || (*s && s[strlen(s) - 1] != '\n')) fputc('\n', stdout);
    free(s);
}

static int run_mutate(void *vcfg, int argc, char **argv)
{
    mutate_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    webhook_profile p;
    if (!c->profile || webhook_profile_parse(c->profile, &p)) {
        const char *best = "aws-irsa";
        size_t bd = (size_t)-1;
        for (int i = 0; c->profile && i < WEBHOOK_NPROFILES; i++) {
            size_t d = wih_edit_distance(c->profile, webhook_profile_name((webhook_profile)i));
            if (d < bd) bd = d, best = webhook_profile_name((webhook_profile)i);
        }
        if (c->profile)
            fprintf(stderr, "wiharness webhook mutate: unknown profile '%s' (did you mean '%s'?)\n", c->profile, best);
        else
            fprintf(stderr, "wiharness webhook mutate: --profile is required (aws-irsa, azure-wi, gcp-fleet)\n");
        return WIH_EXIT_INPUT;
    }
    if (!c->pod) {
        fprintf(stderr, "wiharness webhook mutate: --pod POD.yaml is required\n");
        return WIH_EXIT_INPUT;
    }
    bool json = false;
    if (c->output && !(json = !strcmp(c->output, "json")) && strcmp(c->output, "yaml")) {
        fprintf(stderr, "wiharness webhook mutate: --output must be yaml or json, not '%s'\n", c->output);
        return WIH_EXIT_INPUT;
    }
    wih_err *e = NULL;
    wih_ydocs *pd = NULL, *sd = NULL;
    int rc = WIH_EXIT_OK;
    webhook_opts o;
    webhook_opts_defaults(&o);
    cJSON *pod = load_obj(c->pod, "Pod", &pd, &e);
    cJSON *sa = NULL;
    if (pod && c->sa) sa = load_obj(c->sa, "ServiceAccount", &sd, &e);
    char *bad = NULL;
    const cJSON *at;
    /* a pod or SA the API server could not hold is bad input, not a webhook verdict */
    if (pod && !e && (at = webhook_pod_invalid(pod, &bad))) e = wih_ydocs_err(pd, at, "%s", bad);
    if (sa && !e && (at = webhook_sa_invalid(sa, &bad))) e = wih_ydocs_err(sd, at, "%s", bad);
    free(bad);
    if (!e && c->options) webhook_opts_load(&o, p, c->options, &e);
    if (e) {
        rc = wih_err_report(e);
        goto out;
    }
    if (sa) {
        const char *want = webhook_pod_sa_name(pod), *have = wih_json_get_str(sa, "metadata.name");
        if (have && strcmp(have, want))
            wih_warn("the pod uses service account \"%s\" but %s is \"%s\"; using it anyway", want, c->sa, have);
    }
    webhook_result r;
    webhook_mutate(p, pod, sa, c->ns, &o, &r);
    if (r.verdict == WEBHOOK_DENY) {
        if (!c->apply) {
            cJSON *j = webhook_result_json(&r);
            print_doc(j, json);
            cJSON_Delete(j);
        }
        fprintf(stderr, "wiharness: %s denied the pod: %s\n", webhook_profile_name(p), r.message);
        rc = WIH_EXIT_FAIL;
    } else if (c->apply) {
        cJSON *mut = cJSON_Duplicate(pod, 1);
        char *em = NULL;
        if (r.patch && webhook_patch_apply(mut, r.patch, &em)) {
            fprintf(stderr, "wiharness: internal error: the %s patch does not apply: %s\n", webhook_profile_name(p),
                    em);
            free(em);
            rc = WIH_EXIT_INFRA;
        } else
            print_doc(mut, json);
        cJSON_Delete(mut);
    } else {
        cJSON *j = webhook_result_json(&r);
        print_doc(j, json);
        cJSON_Delete(j);
    }
    if (r.verdict == WEBHOOK_SKIP) wih_info("%s: not mutated: %s", webhook_profile_name(p), r.reason);
    webhook_result_free(&r);
out:
    webhook_opts_free(&o);
    wih_ydocs_free(pd);
    wih_ydocs_free(sd);
    return rc;
}

const wih_cmd wih_cmd_webhook_mutate = {
    .name = "webhook mutate",
    .summary = "show what a mock identity webhook would do to a pod (no cluster needed)",
    .details = "Prints the AdmissionResponse (allowed, status, patchType, the JSONPatch decoded, and for\n"
               "gcp-fleet the credential ConfigMap), or with --apply the mutated pod.\n"
               "Exit codes: 0 allowed, 1 denied (the webhook's message on stderr; with --apply\n"
               "nothing on stdout), 2 bad input (file:line:col).\n"
               "Profiles, rules and option keys: docs/webhook.md.",
    .opts = k_opts,
    .nopts = sizeof k_opts / sizeof k_opts[0],
    .cfg_size = sizeof(mutate_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_mutate,
};
