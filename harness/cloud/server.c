/* The mock cloud's HTTP layer (libmicrohttpd, a thread per connection, TLS,
 * 127.0.0.1): a request → cloud_request → the pure router/handlers
 * (route.c, aws_sts.c, entra.c, google.c) under the cloud's lock → MinIO
 * for AWS sessions (mint.c), the admin API (admin.c) → the reply and one
 * decision-log line. Lifecycle: start, serve, stop. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud_srv.h"

#define REQ_MAX_BODY (CLOUD_FORM_MAX_BODY + 1)

typedef struct {
    wih_buf body;
} req_state;

cloud_env cl_env_locked(cloud *c, int64_t now)
{
    return (cloud_env){.reg = c->reg,
                       .url = c->url,
                       .key = c->key,
                       .jwks = c->jwks,
                       .minio_client_id = c->minio_client_id,
                       .sessions = c->sessions,
                       .now = now};
}

void cl_log_decision(cloud *c, cJSON *line)
{
    if (!line) return;
    char *s = cJSON_PrintUnformatted(line);
    pthread_mutex_lock(&c->mu);
    if (c->dlog) {
        fprintf(c->dlog, "%s\n", s);
        fflush(c->dlog);
    }
    pthread_mutex_unlock(&c->mu);
    wih_debug("cloud decision: %s", s);
    free(s);
    cJSON_Delete(line);
}

/* ------------------------------------------------------------- requests */
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    cJSON *h = cls;
    char *k = wih_strdup(key);
    for (char *p = k; *p; p++) *p = (char)tolower((unsigned char)*p);
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, k));
    char *v = old ? wih_asprintf("%s,%s", old, value ? value : "") : wih_strdup(value ? value : "");
    cJSON_DeleteItemFromObjectCaseSensitive(h, k);
    cJSON_AddStringToObject(h, k, v);
    free(k);
    free(v);
    return MHD_YES;
}

static void add_escaped(wih_buf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-_.~", c)) wih_buf_add(b, s, 1);
        else wih_buf_addf(b, "%%%02X", c);
    }
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    wih_buf *b = cls;
    if (b->len) wih_buf_adds(b, "&");
    add_escaped(b, key);
    wih_buf_adds(b, "=");
    add_escaped(b, value);
    return MHD_YES;
}

/* The pure handlers under the lock; then MinIO (AWS) or the admin API. */
static cloud_result handle(cloud *c, const cloud_request *rq)
{
    cloud_result r = {0};
    pthread_mutex_lock(&c->mu);
    cloud_env e = cl_env_locked(c, wih_wall_ms() / 1000);
    cloud_route(&e, rq, &r);
    pthread_mutex_unlock(&c->mu);
    if (r.admin) {
        cl_admin(c, rq, &r);
    } else if (r.mint) {
        s3_creds cr;
        wih_err *err = NULL;
        if (cl_minio_session(c, &r, &cr, &err) != 0) {
            cloud_aws_assume_reply(&r, NULL, wih_err_str(err));
            wih_err_free(err);
        } else {
            cloud_aws_assume_reply(&r, &cr, NULL);
            /* remembered for GetCallerIdentity (MinIO's expiry follows DurationSeconds) */
            int64_t now = wih_wall_ms() / 1000;
            pthread_mutex_lock(&c->mu);
            cloud_aws_session_add(c->sessions, &cr, r.role, r.session, now + r.duration, now);
            pthread_mutex_unlock(&c->mu);
            s3_creds_clear(&cr);
        }
    }
    cl_log_decision(c, r.decision);
    r.decision = NULL;
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    cloud *c = cls;
    req_state *st = *con_cls;
    if (!st) {
        st = wih_xcalloc(1, sizeof *st);
        wih_buf_init(&st->body, REQ_MAX_BODY);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        wih_buf_add(&st->body, upload, *upload_size); /* an overrun is remembered and answered with 413 */
        *upload_size = 0;
        return MHD_YES;
    }
    cJSON *headers = cJSON_CreateObject();
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, headers);
    wih_buf q;
    wih_buf_init(&q, REQ_MAX_BODY);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    cloud_request rq = {.method = method,
                        .path = url,
                        .query = q.len ? q.data : NULL,
                        .headers = headers,
                        .body = st->body.data ? st->body.data : "",
                        .len = st->body.len,
                        .too_big = st->body.overrun};
    cloud_result r = handle(c, &rq);
    wih_buf_free(&q);
    cJSON_Delete(headers);
    if (!r.reply.body) {
        r.reply.status = 500;
        r.reply.ctype = "application/json";
        r.reply.body = wih_strdup("{\"error\":\"internal error\"}");
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(r.reply.body), r.reply.body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", r.reply.ctype ? r.reply.ctype : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r.reply.status, resp);
    MHD_destroy_response(resp);
    r.reply.body = NULL; /* MHD owns it now */
    cloud_result_clear(&r);
    return ok;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_state *st = *con_cls;
    if (!st) return;
    if (st->body.data) OPENSSL_cleanse(st->body.data, st->body.len);
    wih_buf_free(&st->body);
    free(st);
    *con_cls = NULL;
}

/* ------------------------------------------------------------ lifecycle */
static struct MHD_Daemon *listen_tls(cloud *c, int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)(port > 0 ? port : 0));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_request, c, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_HTTPS_MEM_CERT, c->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, c->key_pem,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, c, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
}

cloud *cloud_start(const cloud_opts *o, wih_err **err)
{
    wih_err *e = NULL;
    if (!o || !o->cert_file || !o->key_file) {
        *err = wih_err_new(WIH_EXIT_INPUT, "starting the mock cloud: a serving certificate and key are required");
        return NULL;
    }
    if (o->admin_token && strlen(o->admin_token) < CLOUD_ADMIN_TOKEN_MIN) {
        *err = wih_err_new(WIH_EXIT_INPUT, "starting the mock cloud: the admin token has %zu characters, at least %d "
                                           "are required (an empty one would turn admin auth off)",
                           strlen(o->admin_token), CLOUD_ADMIN_TOKEN_MIN);
        return NULL;
    }
    cloud *c = wih_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->reg = cJSON_Parse("{\"providers\":{},\"roles\":{}}");
    c->sessions = cJSON_CreateObject();
    c->minio_client_id = wih_strdup(o->minio_client_id ? o->minio_client_id : "wiharness-minio");
    c->admin_token = o->admin_token ? wih_strdup(o->admin_token) : cl_rand_token(32);
    if (!(c->cert_pem = wih_read_file(o->cert_file, 1 << 20, NULL, &e)) ||
        !(c->key_pem = wih_read_file(o->key_file, 1 << 20, NULL, &e)))
        goto fail;
    if (cl_load_or_make_key(c, o->signing_key_file, &e) != 0) goto fail;
    if (o->registry_file && cl_load_registry(c, o->registry_file, &e) != 0) goto fail;
    c->jwks = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c->jwks, "keys"), wih_jwk_public(c->key));
    if (o->decision_log && !(c->dlog = fopen(o->decision_log, "ae"))) {
        e = wih_err_new(WIH_EXIT_INFRA, "opening the decision log %s: %s", o->decision_log, strerror(errno));
        goto fail;
    }
    if (!(c->d = listen_tls(c, o->port))) {
        e = wih_err_new(WIH_EXIT_INFRA, "libmicrohttpd could not listen on 127.0.0.1:%d with TLS", o->port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(c->d, MHD_DAEMON_INFO_BIND_PORT);
    c->port = di ? di->port : 0;
    c->url = wih_asprintf("https://127.0.0.1:%d", c->port);
    if (o->minio_endpoint) cloud_set_minio(c, o->minio_endpoint, o->minio_root_user, o->minio_root_password);
    wih_info("mock cloud listening on %s", c->url);
    return c;
fail:
    *err = wih_err_wrap(e, "starting the mock cloud");
    cloud_stop(c);
    return NULL;
}

wih_err *cloud_serve(const cloud_opts *o, const char *ready_file)
{
    wih_err *e = NULL;
    cloud *c = cloud_start(o, &e);
    if (!c) return e;
    if (ready_file) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "url", c->url);
        cJSON_AddNumberToObject(j, "port", c->port);
        cJSON_AddNumberToObject(j, "pid", (double)getpid());
        char *s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        int rc = wih_write_file(ready_file, s, strlen(s), 0600, &e);
        free(s);
        if (rc != 0) {
            cloud_stop(c);
            return wih_err_wrap(e, "writing %s", ready_file);
        }
    }
    while (!wih_interrupted()) wih_sleep_ms(200);
    cloud_stop(c);
    return NULL;
}

static void free_secret(char *s)
{
    if (s) OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void cloud_stop(cloud *c)
{
    if (!c) return;
    if (c->d) MHD_stop_daemon(c->d);
    cJSON_Delete(c->reg);
    cloud_aws_sessions_free(c->sessions);
    cJSON_Delete(c->jwks);
    wih_jwk_free(c->key);
    free(c->url);
    free(c->minio_endpoint);
    free(c->minio_user);
    free_secret(c->minio_pass);
    free(c->minio_client_id);
    free_secret(c->admin_token);
    free_secret(c->key_pem);
    free(c->cert_pem);
    free(c->registry_file);
    if (c->dlog) fclose(c->dlog);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const char *cloud_url(const cloud *c) { return c->url; }
int cloud_port(const cloud *c) { return c->port; }
const char *cloud_admin_token(const cloud *c) { return c->admin_token; }
const char *cloud_minio_client_id(const cloud *c) { return c->minio_client_id; }

void cloud_set_minio(cloud *c, const char *endpoint, const char *user, const char *password)
{
    pthread_mutex_lock(&c->mu);
    free(c->minio_endpoint);
    free(c->minio_user);
    free_secret(c->minio_pass);
    c->minio_endpoint = wih_strdup(endpoint);
    c->minio_user = wih_strdup(user);
    c->minio_pass = wih_strdup(password);
    pthread_mutex_unlock(&c->mu);
}
