/* bench_webhook: concurrent TLS clients posting AdmissionReviews to the mock
 * webhook on 127.0.0.1 (all three profiles enabled, a pod every profile
 * patches). Bounded: bench_webhook [clients=8] [requests=4000] [seconds=20].
 * Prints requests/s and client-side latency p50/p99, then the server's /stats. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/webhook.h"

static const char *k_body =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"bench\","
    "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"osmo\","
    "\"object\":{\"metadata\":{\"name\":\"wf-task\",\"labels\":{\"azure.workload.identity/use\":\"true\"}},"
    "\"spec\":{\"serviceAccountName\":\"runner\",\"initContainers\":[{\"name\":\"init\",\"image\":\"i\"}],"
    "\"containers\":[{\"name\":\"task\",\"image\":\"python\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},"
    "{\"name\":\"ctrl\",\"image\":\"osmo/ctrl\"}],\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}]}}}}";

static int lookup(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg)
{
    (void)ctx;
    (void)ns;
    (void)name;
    (void)msg;
    *sa = cJSON_Parse("{\"metadata\":{\"name\":\"runner\",\"annotations\":{"
                      "\"eks.amazonaws.com/role-arn\":\"arn:aws:iam::1:role/r\","
                      "\"azure.workload.identity/client-id\":\"cid\","
                      "\"iam.gke.io/gcp-service-account\":\"g@p.iam.gserviceaccount.com\"}}}");
    return 1;
}

typedef struct {
    int port, n;
    const char *cert;
    int64_t deadline;
    double *lat;
    int done, failed;
} worker;

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static void *run(void *arg)
{
    worker *w = arg;
    CURL *c = curl_easy_init();
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/mutate", w->port);
    struct curl_blob blob = {.data = (void *)w->cert, .len = strlen(w->cert), .flags = CURL_BLOB_COPY};
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, k_body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    for (int i = 0; i < w->n && wih_now_ms() < w->deadline; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CURLcode rc = curl_easy_perform(c);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc != CURLE_OK || code != 200) w->failed++;
        w->lat[w->done++] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    }
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int clients = argc > 1 ? atoi(argv[1]) : 8, total = argc > 2 ? atoi(argv[2]) : 4000,
        secs = argc > 3 ? atoi(argv[3]) : 20;
    if (clients < 1 || clients > 256 || total < clients || secs < 1 || secs > 600) {
        fprintf(stderr, "usage: bench_webhook [clients 1..256] [requests >= clients] [seconds 1..600]\n");
        return 2;
    }
    char *cert, *key;
    wih_err *e = NULL;
    if (webhook_selfsigned(&cert, &key, &e)) return wih_err_report(e);
    webhook_handler h;
    memset(&h, 0, sizeof h);
    webhook_opts_defaults(&h.opts);
    for (int p = 0; p < WEBHOOK_NPROFILES; p++) h.enabled[p] = true;
    h.sa_lookup = lookup;
    webhook_server_cfg cfg = {.cert_pem = cert, .key_pem = key, .handler = &h};
    webhook_server *s = webhook_server_start(&cfg, &e);
    if (!s) return wih_err_report(e);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    worker *w = calloc((size_t)clients, sizeof *w);
    pthread_t *t = calloc((size_t)clients, sizeof *t);
    int64_t t0 = wih_now_ms();
    for (int i = 0; i < clients; i++) {
        w[i].port = webhook_server_port(s);
        w[i].n = total / clients;
        w[i].cert = cert;
        w[i].deadline = t0 + secs * 1000LL;
        w[i].lat = calloc((size_t)w[i].n, sizeof(double));
        pthread_create(&t[i], NULL, run, &w[i]);
    }
    int done = 0, failed = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        done += w[i].done;
        failed += w[i].failed;
    }
    double el = (double)(wih_now_ms() - t0) / 1000.0;
    double *all = malloc((size_t)(done ? done : 1) * sizeof *all);
    int k = 0;
    for (int i = 0; i < clients; i++)
        for (int j = 0; j < w[i].done; j++) all[k++] = w[i].lat[j];
    qsort(all, (size_t)done, sizeof *all, cmpd);
    double p50 = done ? all[(size_t)(0.50 * (done - 1))] : 0, p99 = done ? all[(size_t)(0.99 * (done - 1))] : 0;
    printf("bench_webhook: %d TLS clients (keep-alive), %d requests in %.2f s, %d failed\n", clients, done, el, failed);
    printf("throughput: %.0f req/s\nclient latency: p50 %.2f ms, p99 %.2f ms\n", done / el, p50, p99);
    cJSON *st = webhook_server_stats(s);
    char *ss = cJSON_PrintUnformatted(st);
    printf("server /stats: %s\n", ss);
    free(ss);
    cJSON_Delete(st);
    for (int i = 0; i < clients; i++) free(w[i].lat);
    free(all);
    free(w);
    free(t);
    webhook_server_stop(s);
    webhook_opts_free(&h.opts);
    free(cert);
    free(key);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
