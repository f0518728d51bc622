/* kube_obj_new from fixtures/kube/obj/new.yaml: the object head every
 * module builds before it applies an object. */
#include <stdlib.h>

#include "testutil.h"
#include "wiharness/kube.h"
#include "wiharness/yamljson.h"

START_TEST(obj_new)
{
    char *path = wih_fixture("kube/obj/new.yaml");
    wih_err *e = NULL;
    cJSON *root = wih_yaml_load_one(path, NULL, &e);
    ck_assert_msg(root != NULL, "%s: %s", path, wih_err_str(e));
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "new");
    ck_assert_msg(cJSON_GetArraySize(cases) >= 3, "fixture has too few cases");
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        cJSON *o = kube_obj_new(kube_obj_str(c, "apiVersion"), kube_obj_str(c, "kind"),
                                kube_obj_str(c, "namespace"), kube_obj_str(c, "name"));
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "want");
        char *got = cJSON_PrintUnformatted(o);
        ck_assert_msg(want && cJSON_Compare(o, want, 1), "%s: got %s", kube_obj_str(c, "kind"), got);
        free(got);
        cJSON_Delete(o);
    }
    cJSON_Delete(root);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kube_obj");
    TCase *tc = tcase_create("kube_obj");
    tcase_add_test(tc, obj_new);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
