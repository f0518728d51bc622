/* The rendered pods through the mock identity webhook (offline): what the
 * API server would store after calling the webhook of one profile at CREATE.
 * Only the pure layer of the webhook module is used (webhook_mutate +
 * webhook_patch_apply); the trigger (objectSelector) is evaluated inside
 * webhook_mutate, as the API server would before calling the webhook. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/jsonpath.h"
#include "wiharness/osmo.h"

static void note(cJSON *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(cJSON *notes, const char *fmt, ...)
{
    if (!notes) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
}

/* The SA the live webhook would find for this pod: sa when it is the pod's
 * (same name; same namespace when sa names one), else NULL. */
static const cJSON *sa_for_pod(const cJSON *pod, const cJSON *sa, const char *pod_name, cJSON *notes)
{
    if (!sa) return NULL;
    const char *want = webhook_pod_sa_name(pod), *pod_ns = wih_json_get_str(pod, "metadata.namespace");
    const char *have = wih_json_get_str(sa, "metadata.name"), *have_ns = wih_json_get_str(sa, "metadata.namespace");
    if (!have || strcmp(have, want)) {
        note(notes, "pod %s runs under service account \"%s\", but the given ServiceAccount is \"%s\": "
                    "the webhook would not find it (treated as missing)",
             pod_name, want, have ? have : "(no metadata.name)");
        return NULL;
    }
    if (have_ns && pod_ns && strcmp(have_ns, pod_ns)) {
        note(notes, "pod %s is in namespace \"%s\", but the given ServiceAccount is in \"%s\": "
                    "the webhook would not find it (treated as missing)",
             pod_name, pod_ns, have_ns);
        return NULL;
    }
    return sa;
}

int osmo_admit_pods(cJSON *pods, webhook_profile p, const cJSON *sa, const webhook_opts *o, cJSON *notes,
                    char **denial, wih_err **err)
{
    const char *prof = webhook_profile_name(p);
    cJSON *pod;
    cJSON_ArrayForEach(pod, pods)
    {
        char *name = webhook_pod_display_name(pod);
        const cJSON *use = sa_for_pod(pod, sa, name, notes);
        webhook_result r;
        webhook_mutate(p, pod, use, NULL, o, &r);
        int rc = 0;
        switch (r.verdict) {
        case WEBHOOK_DENY:
            *denial = wih_asprintf("%s denied pod %s: %s", prof, name, r.message ? r.message : r.reason);
            rc = 1;
            break;
        case WEBHOOK_SKIP:
            note(notes, "%s: pod %s not mutated: %s", prof, name, r.reason);
            break;
        case WEBHOOK_PATCH: {
            /* apply to a copy: on failure the pod stays as rendered */
            cJSON *mut = cJSON_Duplicate(pod, 1);
            char *em = NULL;
            if (r.patch && webhook_patch_apply(mut, r.patch, &em)) {
                *err = wih_err_new(WIH_EXIT_INFRA, "internal error: the %s patch for pod %s does not apply: %s",
                                   prof, name, em ? em : "?");
                free(em);
                cJSON_Delete(mut);
                rc = -1;
                break;
            }
            cJSON_ReplaceItemViaPointer(pods, pod, mut);
            pod = mut;
            if (r.configmap) {
                const char *cns = wih_json_get_str(r.configmap, "metadata.namespace"),
                           *cn = wih_json_get_str(r.configmap, "metadata.name");
                note(notes, "%s: the webhook would also create ConfigMap %s/%s for pod %s", prof, cns ? cns : "?",
                     cn ? cn : "?", name);
            }
            break;
        }
        }
        webhook_result_free(&r);
        free(name);
        if (rc) return rc;
    }
    return 0;
}
