/* The annotation and label keys each profile's webhook reads (domain/webhooks.md,
 * harness/webhook/ (aws.c, azure.c, gcp.c), and pfnet-research/gcp-workload-identity-federation-webhook's
 * README for gcp-pfnet), and near-miss matching against them. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "diag_int.h"
#include "wiharness/cli.h" /* wih_edit_distance */

static const diag_key k_keys[] = {
    /* aws-irsa: amazon-eks-pod-identity-webhook */
    {"eks.amazonaws.com/role-arn", "aws-irsa", DK_SA_ANNOTATION, true},
    {"eks.amazonaws.com/audience", "aws-irsa", DK_SA_ANNOTATION, false},
    {"eks.amazonaws.com/sts-regional-endpoints", "aws-irsa", DK_SA_ANNOTATION, false},
    {"eks.amazonaws.com/token-expiration", "aws-irsa", DK_SA_ANNOTATION, false},
    {"eks.amazonaws.com/skip-containers", "aws-irsa", DK_POD_ANNOTATION, false},
    {"eks.amazonaws.com/skip-pod-identity-webhook", "aws-irsa", DK_POD_LABEL, false},
    /* azure-wi: azure-workload-identity */
    {"azure.workload.identity/client-id", "azure-wi", DK_SA_ANNOTATION, true},
    {"azure.workload.identity/tenant-id", "azure-wi", DK_SA_ANNOTATION, false},
    {"azure.workload.identity/service-account-token-expiration", "azure-wi", DK_SA_ANNOTATION, false},
    {"azure.workload.identity/use", "azure-wi", DK_POD_LABEL, false},
    {"azure.workload.identity/skip-containers", "azure-wi", DK_POD_ANNOTATION, false},
    {"azure.workload.identity/inject-proxy-sidecar", "azure-wi", DK_POD_ANNOTATION, false},
    {"azure.workload.identity/proxy-sidecar-port", "azure-wi", DK_POD_ANNOTATION, false},
    /* gcp-fleet: the annotation the OSMO guide uses */
    {"iam.gke.io/gcp-service-account", "gcp-fleet", DK_SA_ANNOTATION, true},
    /* gcp-pfnet: both of the first two are required */
    {"cloud.google.com/workload-identity-provider", "gcp-pfnet", DK_SA_ANNOTATION, true},
    {"cloud.google.com/service-account-email", "gcp-pfnet", DK_SA_ANNOTATION, true},
    {"cloud.google.com/audience", "gcp-pfnet", DK_SA_ANNOTATION, false},
    {"cloud.google.com/token-expiration", "gcp-pfnet", DK_SA_ANNOTATION, false},
    {"cloud.google.com/gcloud-run-as-user", "gcp-pfnet", DK_SA_ANNOTATION, false},
    {"cloud.google.com/injection-mode", "gcp-pfnet", DK_SA_ANNOTATION, false},
    {"cloud.google.com/skip-containers", "gcp-pfnet", DK_POD_ANNOTATION, false},
};

const diag_key *diag_known_keys(size_t *n)
{
    *n = sizeof k_keys / sizeof k_keys[0];
    return k_keys;
}

static const char *name_part(const char *k)
{
    const char *s = strrchr(k, '/');
    return s ? s + 1 : k;
}

/* Normalise separators: client_id, clientId, client.id → "clientid". */
static void squash(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        if (isalnum((unsigned char)*s)) out[k++] = (char)tolower((unsigned char)*s);
    out[k] = '\0';
}

const diag_key *diag_near_key(const char *k)
{
    size_t n;
    const diag_key *keys = diag_known_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i].key, k)) return NULL; /* a known key */
    const diag_key *best = NULL;
    size_t bestd = (size_t)-1;
    char a[256], b[256];
    for (size_t i = 0; i < n; i++) {
        const char *kk = keys[i].key;
        size_t d = wih_edit_distance(k, kk);
        /* same name under another prefix: workload.identity.azure.com/client-id */
        const char *np = name_part(k), *kn = name_part(kk);
        squash(np, a, sizeof a);
        squash(kn, b, sizeof b);
        bool same_name = strlen(b) >= 8 && !strcmp(a, b) && np != k;
        /* the right prefix, a near name: eks.amazonaws.com/role_arn, /rolearn */
        size_t pl = (size_t)(kn - kk);
        bool same_prefix = np - k == (long)pl && !strncasecmp(k, kk, pl) && wih_edit_distance(a, b) <= 2;
        bool hit = d <= 3 || same_name || same_prefix || !strcasecmp(k, kk);
        if (hit && d < bestd) best = &keys[i], bestd = d;
    }
    return best;
}
