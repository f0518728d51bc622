/* The webhook against a live cluster: SA lookup, ConfigMaps, registration. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/kube.h"
#include "wiharness/webhook.h"

struct webhook_live {
    kube_client *c;
    pthread_mutex_t mu;
};

webhook_live *webhook_live_new(kube_client *c)
{
    webhook_live *l = wih_xcalloc(1, sizeof *l);
    l->c = c;
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void webhook_live_free(webhook_live *l)
{
    if (!l) return;
    kube_client_free(l->c);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

int webhook_live_sa_lookup(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg)
{
    webhook_live *l = ctx;
    wih_err *err = NULL;
    kube_ref ref = {.api_version = "v1", .kind = "ServiceAccount", .ns = ns, .name = name};
    pthread_mutex_lock(&l->mu);
    cJSON *o = kube_get(l->c, &ref, &err);
    pthread_mutex_unlock(&l->mu);
    if (o) {
        *sa = o;
        return 1;
    }
    if (err && err->http_status == 404) {
        wih_err_free(err);
        return 0;
    }
    *msg = wih_strdup(err ? wih_err_str(err) : "service account lookup failed");
    wih_err_free(err);
    return -1;
}

void webhook_live_configmaps(void *ctx, const cJSON *configmaps)
{
    webhook_live *l = ctx;
    const cJSON *cm;
    cJSON_ArrayForEach(cm, configmaps)
    {
        wih_err *err = NULL;
        pthread_mutex_lock(&l->mu);
        cJSON *r = kube_apply(l->c, cm, &err);
        pthread_mutex_unlock(&l->mu);
        if (!r) wih_warn("webhook: creating the credential ConfigMap: %s", wih_err_str(err));
        cJSON_Delete(r);
        wih_err_free(err);
    }
}

wih_err *webhook_live_register(webhook_live *l, const bool enabled[WEBHOOK_NPROFILES], const char *url,
                               const char *ca_pem)
{
    for (int p = 0; p < WEBHOOK_NPROFILES; p++) {
        if (!enabled[p]) continue;
        cJSON *mwc = webhook_mwc_json((webhook_profile)p, url, ca_pem);
        wih_err *err = NULL;
        pthread_mutex_lock(&l->mu);
        cJSON *r = kube_apply(l->c, mwc, &err);
        pthread_mutex_unlock(&l->mu);
        cJSON_Delete(mwc);
        if (!r) return wih_err_wrap(err, "registering the %s webhook", webhook_profile_name((webhook_profile)p));
        cJSON_Delete(r);
    }
    return NULL;
}

wih_err *webhook_live_unregister(webhook_live *l, const bool enabled[WEBHOOK_NPROFILES])
{
    wih_err *first = NULL;
    for (int p = 0; p < WEBHOOK_NPROFILES; p++) {
        if (!enabled[p]) continue;
        char *name = wih_asprintf("wiharness-%s", webhook_profile_name((webhook_profile)p));
        kube_ref ref = {.api_version = "admissionregistration.k8s.io/v1", .kind = "MutatingWebhookConfiguration",
                        .name = name};
        wih_err *err = NULL;
        pthread_mutex_lock(&l->mu);
        kube_delete(l->c, &ref, -1, 10000, &err);
        pthread_mutex_unlock(&l->mu);
        if (err && !first)
            first = wih_err_wrap(err, "removing the %s webhook", webhook_profile_name((webhook_profile)p));
        else
            wih_err_free(err);
        free(name);
    }
    return first;
}
