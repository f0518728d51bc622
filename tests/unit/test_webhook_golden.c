/* Golden cases: fixtures/webhook/<profile>/<case>/{pod.yaml,sa.yaml?,options.yaml?,expect.json}.
 * One data-driven test: every case runs the pure mutation function and must
 * produce exactly expect.json (the AdmissionResponse without uid); an allowed
 * patch must also apply cleanly to the pod, and a second invocation on the
 * mutated pod must change nothing (reinvocation). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "wiharness/webhook.h"
#include "wiharness/yamljson.h"

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Returns NULL on success, else a description of the failure. */
static char *run_case(webhook_profile p, const char *dir)
{
    char *pp = wih_path_join(dir, "pod.yaml"), *sp = wih_path_join(dir, "sa.yaml"),
         *op = wih_path_join(dir, "options.yaml"), *ep = wih_path_join(dir, "expect.json");
    char *fail = NULL;
    wih_err *e = NULL;
    webhook_opts o;
    webhook_opts_defaults(&o);
    cJSON *pod = wih_yaml_load_one(pp, NULL, &e);
    cJSON *sa = NULL, *expect = NULL;
    if (pod && exists(sp)) sa = wih_yaml_load_one(sp, NULL, &e);
    if (!e && exists(op)) webhook_opts_load(&o, p, op, &e);
    char *et = e ? NULL : wih_read_file(ep, 1 << 22, NULL, &e);
    if (et) expect = wih_json_parse(ep, et, &e);
    free(et);
    if (e) {
        fail = wih_strdup(wih_err_str(e));
        wih_err_free(e);
        goto out;
    }
    webhook_result r;
    webhook_mutate(p, pod, sa, NULL, &o, &r);
    cJSON *got = webhook_result_json(&r);
    char *d = wih_json_diff(expect, got);
    if (d) {
        char *g = cJSON_Print(got);
        fail = wih_asprintf("mismatch:\n%s--- got:\n%s", d, g);
        free(g);
        free(d);
    } else if (r.verdict == WEBHOOK_PATCH) {
        cJSON *copy = cJSON_Duplicate(pod, 1);
        char *em = NULL;
        if (webhook_patch_apply(copy, r.patch, &em))
            fail = wih_asprintf("patch does not apply: %s", em);
        else {
            /* reinvocation (azure-wi registers IfNeeded): running the webhook
             * again on the mutated pod must not change it any further */
            webhook_result r2;
            webhook_mutate(p, copy, sa, NULL, &o, &r2);
            cJSON *again = cJSON_Duplicate(copy, 1);
            char *em2 = NULL;
            if (r2.verdict != WEBHOOK_PATCH)
                fail = wih_asprintf("second invocation did not patch (verdict %d: %s)", (int)r2.verdict, r2.reason);
            else if (webhook_patch_apply(again, r2.patch, &em2))
                fail = wih_asprintf("second patch does not apply: %s", em2);
            else {
                char *d2 = wih_json_diff(copy, again);
                if (d2) fail = wih_asprintf("not idempotent on reinvocation:\n%s", d2);
                free(d2);
            }
            free(em2);
            cJSON_Delete(again);
            webhook_result_free(&r2);
        }
        free(em);
        cJSON_Delete(copy);
    }
    if (!fail && r.verdict != WEBHOOK_SKIP && (!r.reason || !*r.reason)) fail = wih_strdup("no reason for the log");
    cJSON_Delete(got);
    webhook_result_free(&r);
out:
    cJSON_Delete(pod);
    cJSON_Delete(sa);
    cJSON_Delete(expect);
    webhook_opts_free(&o);
    free(pp);
    free(sp);
    free(op);
    free(ep);
    return fail;
}

static char *golden_case(const char *dir, void *ctx)
{
    return run_case(*(const webhook_profile *)ctx, dir);
}

START_TEST(golden_cases)
{
    size_t total = 0;
    for (int p = 0; p < WEBHOOK_NPROFILES; p++) {
        webhook_profile prof = (webhook_profile)p;
        char *rel = wih_asprintf("webhook/%s", webhook_profile_name(prof));
        total += wih_cases_run(rel, rel, 15, golden_case, &prof);
        free(rel);
    }
    printf("webhook golden: %zu cases, all passed\n", total);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook_golden");
    TCase *tc = tcase_create("golden");
    tcase_add_test(tc, golden_cases);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
