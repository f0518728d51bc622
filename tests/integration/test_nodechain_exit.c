/* A test process that brings a chain up with wih_test_chain_up and then
 * exits without wih_test_chain_down (a failed assertion outside a test, an
 * exit() anywhere) must not leave the chain running with its state removed:
 * the cleanup stack runs `down` before it removes the temp dir. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leftovers.h"
#include "nodechain.h"

/* The child: up, tell the parent where, then exit(1) as a failed test would. */
static void child(int fd)
{
    wih_test_chain c = {0};
    wih_test_chain_up(&c, "wih-ncexit");
    size_t n = strlen(c.base);
    if (write(fd, c.base, n) != (ssize_t)n) _exit(4);
    close(fd);
    exit(1);
}

int main(void)
{
    int p[2];
    if (pipe(p)) return 1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        close(p[0]);
        child(p[1]);
    }
    close(p[1]);
    char base[4096] = {0};
    ssize_t n = read(p[0], base, sizeof base - 1);
    close(p[0]);
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
        fprintf(stderr, "FAIL: the child did not exit normally\n");
        return 1;
    }
    if (WEXITSTATUS(st) == 77) {
        printf("SKIPPED: the child could not bring a node chain up (its reason is above)\n");
        return 77;
    }
    if (n <= 0) {
        fprintf(stderr, "FAIL: the child exited %d before its chain was up\n", WEXITSTATUS(st));
        return 1;
    }
    int left = wih_test_procs_naming(base);
    struct stat sb;
    bool dir_left = stat(base, &sb) == 0;
    if (left || dir_left) {
        fprintf(stderr, "FAIL: after the child's exit(1): %d process(es) of its chain still run, temp dir %s %s\n",
                left, base, dir_left ? "still there" : "removed");
        return 1;
    }
    printf("ok: the child's chain in %s was taken down and its temp dir removed at exit\n", base);
    return 0;
}
