/* --report KIND=configmap:NAME: the reports in a ConfigMap of the run's own
 * namespace (the in-cluster Job's results, read back by the host). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/kube.h"
#include "wiharness/report.h"

const char *report_configmap_name(const char *path)
{
    return path && !strncmp(path, "configmap:", 10) && path[10] ? path + 10 : NULL;
}

const char *report_configmap_key(report_kind k)
{
    return k == REPORT_JUNIT ? "junit.xml" : k == REPORT_HTML ? "report.html" : "report.json";
}

cJSON *report_configmap_doc(const char *ns, const char *name, const cJSON *data)
{
    cJSON *cm = kube_obj_new("v1", "ConfigMap", ns, name);
    cJSON *lb = cJSON_AddObjectToObject(cJSON_GetObjectItem(cm, "metadata"), "labels");
    cJSON_AddStringToObject(lb, "app.kubernetes.io/managed-by", "wiharness");
    cJSON_AddItemToObject(cm, "data", cJSON_Duplicate(data, true));
    return cm;
}

int report_configmap_write(kube_client *kc, const char *ns, const char *name, const cJSON *data, wih_err **err)
{
    cJSON *cm = report_configmap_doc(ns, name, data);
    cJSON *got = kube_create(kc, cm, err);
    if (!got && *err && (*err)->http_status == 409) { /* there already: replace it (update) */
        wih_err_free(*err);
        *err = NULL;
        char *path = wih_asprintf("/api/v1/namespaces/%s/configmaps/%s", ns, name); /* DNS names: no escaping */
        got = kube_request(kc, "PUT", path, NULL, cm, NULL, err);
        free(path);
    }
    cJSON_Delete(cm);
    cJSON_Delete(got);
    if (*err) *err = wih_err_wrap(*err, "writing the reports to ConfigMap %s/%s", ns, name);
    return *err ? -1 : 0;
}
