/* wiharness-pause: the pod sandbox's process (the "pause" container). It holds
 * the pod's namespaces, reaps orphaned children and exits on SIGTERM/SIGINT.
 * Built static (no shared libraries), so its image is this one file. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
    (void)sig;
    _exit(0);
}

static void on_child(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'v') {
        static const char v[] = "wiharness-pause\n";
        return write(1, v, sizeof v - 1) < 0;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    for (;;) pause();
}
