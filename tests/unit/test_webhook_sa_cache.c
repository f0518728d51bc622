/* The SA cache: hits served from memory, live GET on a miss, grace period. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/webhook.h"

typedef struct {
    int calls;
    int64_t appears_at; /* the SA "exists" from this monotonic time on */
    bool fail;
    pthread_mutex_t mu;
} live;

static int live_lookup(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg)
{
    live *l = ctx;
    pthread_mutex_lock(&l->mu);
    l->calls++;
    pthread_mutex_unlock(&l->mu);
    if (l->fail) {
        *msg = wih_strdup("the server is currently unable to handle the request");
        return -1;
    }
    if (wih_now_ms() < l->appears_at) return 0;
    *sa = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(*sa, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    cJSON_AddStringToObject(md, "namespace", ns);
    return 1;
}

START_TEST(cache_hit_after_live_get)
{
    live l = {.appears_at = 0, .mu = PTHREAD_MUTEX_INITIALIZER};
    webhook_sa_cache *c = webhook_sa_cache_new(live_lookup, &l, 60000, 0);
    for (int i = 0; i < 3; i++) {
        cJSON *sa = NULL;
        char *m = NULL;
        ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "runner", &sa, &m), 1);
        ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(sa, "metadata"), "name")->valuestring, "runner");
        cJSON_Delete(sa);
    }
    ck_assert_int_eq(l.calls, 1); /* one live GET, then memory */
    webhook_sa_cache_forget(c, "ns", "runner");
    cJSON *sa = NULL;
    char *m = NULL;
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "runner", &sa, &m), 1);
    cJSON_Delete(sa);
    ck_assert_int_eq(l.calls, 2);
    webhook_sa_cache_free(c);
}
END_TEST

START_TEST(cache_missing_not_cached_and_grace)
{
    live l = {.appears_at = INT64_MAX, .mu = PTHREAD_MUTEX_INITIALIZER};
    webhook_sa_cache *c = webhook_sa_cache_new(live_lookup, &l, 60000, 0);
    cJSON *sa = NULL;
    char *m = NULL;
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "late", &sa, &m), 0);
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "late", &sa, &m), 0);
    ck_assert_int_eq(l.calls, 2); /* negatives are not cached */
    webhook_sa_cache_free(c);

    /* with a grace period, an SA created 300 ms later is found */
    l.calls = 0;
    l.appears_at = wih_now_ms() + 300;
    c = webhook_sa_cache_new(live_lookup, &l, 60000, 3000);
    int64_t t0 = wih_now_ms();
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "late", &sa, &m), 1);
    int64_t took = wih_now_ms() - t0;
    ck_assert_msg(took >= 250 && took < 2500, "took %lld ms", (long long)took);
    ck_assert_int_ge(l.calls, 2);
    cJSON_Delete(sa);
    webhook_sa_cache_free(c);

    /* and without it appearing, the grace period bounds the wait */
    l.appears_at = INT64_MAX;
    c = webhook_sa_cache_new(live_lookup, &l, 60000, 400);
    t0 = wih_now_ms();
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "never", &sa, &m), 0);
    took = wih_now_ms() - t0;
    ck_assert_msg(took >= 350 && took < 2000, "took %lld ms", (long long)took);
    webhook_sa_cache_free(c);
}
END_TEST

START_TEST(cache_error_passes_message)
{
    live l = {.fail = true, .mu = PTHREAD_MUTEX_INITIALIZER};
    webhook_sa_cache *c = webhook_sa_cache_new(live_lookup, &l, 60000, 1000);
    cJSON *sa = NULL;
    char *m = NULL;
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "x", &sa, &m), -1);
    ck_assert_str_eq(m, "the server is currently unable to handle the request");
    ck_assert_int_eq(l.calls, 1); /* an error is not retried */
    free(m);
    webhook_sa_cache_free(c);
}
END_TEST

START_TEST(cache_ttl_expiry)
{
    live l = {.appears_at = 0, .mu = PTHREAD_MUTEX_INITIALIZER};
    webhook_sa_cache *c = webhook_sa_cache_new(live_lookup, &l, 100, 0);
    cJSON *sa = NULL;
    char *m = NULL;
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "a", &sa, &m), 1);
    cJSON_Delete(sa);
    wih_sleep_ms(200);
    ck_assert_int_eq(webhook_sa_cache_lookup(c, "ns", "a", &sa, &m), 1);
    cJSON_Delete(sa);
    ck_assert_int_eq(l.calls, 2);
    webhook_sa_cache_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook_sa_cache");
    TCase *tc = tcase_create("cache");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, cache_hit_after_live_get);
    tcase_add_test(tc, cache_missing_not_cached_and_grace);
    tcase_add_test(tc, cache_error_passes_message);
    tcase_add_test(tc, cache_ttl_expiry);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
