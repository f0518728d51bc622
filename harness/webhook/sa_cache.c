/* Service account cache with live fallback and a lookup grace period. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_int.h"

typedef struct entry {
    char *key; /* ns/name */
    cJSON *sa;
    int64_t at;
    struct entry *next;
} entry;

struct webhook_sa_cache {
    webhook_sa_lookup_fn live;
    void *live_ctx;
    int64_t ttl, grace;
    pthread_mutex_t mu;
    entry *head;
};

webhook_sa_cache *webhook_sa_cache_new(webhook_sa_lookup_fn live, void *live_ctx, int64_t ttl_ms, int64_t grace_ms)
{
    webhook_sa_cache *c = wih_xcalloc(1, sizeof *c);
    c->live = live;
    c->live_ctx = live_ctx;
    c->ttl = ttl_ms;
    c->grace = grace_ms;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void drop(entry **pp)
{
    entry *e = *pp;
    *pp = e->next;
    free(e->key);
    cJSON_Delete(e->sa);
    free(e);
}

void webhook_sa_cache_forget(webhook_sa_cache *c, const char *ns, const char *name)
{
    char *key = name ? wih_asprintf("%s/%s", ns ? ns : "", name) : NULL;
    pthread_mutex_lock(&c->mu);
    for (entry **pp = &c->head; *pp;)
        if (!key || !strcmp((*pp)->key, key))
            drop(pp);
        else
            pp = &(*pp)->next;
    pthread_mutex_unlock(&c->mu);
    free(key);
}

void webhook_sa_cache_free(webhook_sa_cache *c)
{
    if (!c) return;
    webhook_sa_cache_forget(c, NULL, NULL);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int webhook_sa_cache_lookup(void *vc, const char *ns, const char *name, cJSON **sa, char **msg)
{
    webhook_sa_cache *c = vc;
    char *key = wih_asprintf("%s/%s", ns ? ns : "", name);
    int64_t now = wih_now_ms();
    pthread_mutex_lock(&c->mu);
    for (entry **pp = &c->head; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key)) continue;
        if (now - (*pp)->at <= c->ttl) {
            *sa = cJSON_Duplicate((*pp)->sa, 1);
            pthread_mutex_unlock(&c->mu);
            free(key);
            return 1;
        }
        drop(pp);
        break;
    }
    pthread_mutex_unlock(&c->mu);

    int64_t deadline = now + c->grace;
    int rc;
    for (;;) {
        cJSON *got = NULL;
        char *m = NULL;
        rc = c->live ? c->live(c->live_ctx, ns, name, &got, &m) : 0;
        if (rc == 1) {
            entry *e = wih_xcalloc(1, sizeof *e);
            e->key = key;
            key = NULL;
            e->sa = cJSON_Duplicate(got, 1);
            e->at = wih_now_ms();
            pthread_mutex_lock(&c->mu);
            e->next = c->head;
            c->head = e;
            pthread_mutex_unlock(&c->mu);
            *sa = got;
            break;
        }
        cJSON_Delete(got);
        if (rc == -1) {
            *msg = m ? m : wih_strdup("service account lookup failed");
            break;
        }
        free(m);
        if (wih_now_ms() >= deadline || wih_interrupted()) break;
        wih_sleep_ms(100);
    }
    free(key);
    return rc;
}
