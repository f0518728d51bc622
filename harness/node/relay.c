/* The relay: pods reach the mock cloud, MinIO and the API server on the bridge address.
 * Those servers listen on 127.0.0.1 (their owners' choice, and what the API
 * server and host-side tools use); a pod's packets to 127.0.0.1 stay in its
 * own network namespace. So for each server one TCP listener on
 * <bridge address>:<same port> copies bytes both ways to 127.0.0.1:<port>;
 * TLS stays end to end (the serving certificates carry the bridge address).
 * One thread per connection, blocking copies with poll(). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wiharness/node.h"

typedef struct {
    int a, b;
} pair;

static void *pump(void *v)
{
    pair *p = v;
    char buf[65536];
    struct pollfd fds[2] = {{p->a, POLLIN, 0}, {p->b, POLLIN, 0}};
    for (;;) {
        int r = poll(fds, 2, 1000);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || wih_interrupted()) break;
        bool done = false;
        for (int i = 0; i < 2 && !done; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                done = true;
                break;
            }
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(fds[1 - i].fd, buf + off, (size_t)(n - off));
                if (w <= 0) {
                    done = true;
                    break;
                }
                off += w;
            }
        }
        if (done) break;
    }
    close(p->a);
    close(p->b);
    free(p);
    return NULL;
}

static int listen_on(const char *ip, int port, wih_err **err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 64) != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "relay: listening on %s:%d: %s", ip, port, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

static int dial_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

wih_err *node_relay_serve(const char *ip, const int *ports, int n, const char *ready_file)
{
    wih_err *err = NULL;
    struct pollfd fds[16];
    if (n < 1 || n > 16) return wih_err_new(WIH_EXIT_INPUT, "relay: 1 to 16 ports");
    for (int i = 0; i < n; i++) {
        fds[i].fd = listen_on(ip, ports[i], &err);
        fds[i].events = POLLIN;
        if (fds[i].fd < 0) {
            for (int j = 0; j < i; j++) close(fds[j].fd);
            return err;
        }
    }
    if (ready_file) {
        char *r = wih_asprintf("{\"ip\":\"%s\",\"pid\":%d}\n", ip, (int)getpid());
        wih_write_file(ready_file, r, strlen(r), 0600, &err);
        free(r);
    }
    while (!err && !wih_interrupted()) {
        int r = poll(fds, (nfds_t)n, 500);
        if (r <= 0) continue;
        for (int i = 0; i < n; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            int c = accept(fds[i].fd, NULL, NULL);
            if (c < 0) continue;
            int up = dial_loopback(ports[i]);
            if (up < 0) {
                close(c);
                continue;
            }
            pair *p = malloc(sizeof *p);
            if (!p) abort();
            p->a = c;
            p->b = up;
            pthread_t t;
            pthread_attr_t at;
            pthread_attr_init(&at);
            pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&t, &at, pump, p) != 0) {
                close(c);
                close(up);
                free(p);
            }
            pthread_attr_destroy(&at);
        }
    }
    for (int i = 0; i < n; i++) close(fds[i].fd);
    if (ready_file) unlink(ready_file);
    return err;
}
