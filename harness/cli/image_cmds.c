/* wiharness image build — the probe image as an OCI image-layout tar, for
 * backends that load images themselves (kind: `kind load image-archive FILE`;
 * an existing cluster: push it to your registry). The local backend's node
 * builds and imports its own at `up`. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/node.h"

typedef struct {
    const char *output, *ca;
    bool pause;
} image_cfg;

static const wih_opt k_opts[] = {
    {"ca", 0, WIH_OPT_STR, offsetof(image_cfg, ca), "FILE",
     "a CA certificate (PEM) to add to the image's CA bundle, e.g. your chain's pki/ca.crt", false},
    {"archive", 0, WIH_OPT_STR, offsetof(image_cfg, output), "FILE", "where to write the tar (required)", false},
    {"pause", 0, WIH_OPT_FLAG, offsetof(image_cfg, pause), NULL, "write the sandbox (pause) image instead", false},
};

static int run_build(void *vcfg, int argc, char **argv)
{
    image_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    if (!c->output) {
        fprintf(stderr, "wiharness image build: --archive FILE is required\n");
        return WIH_EXIT_INPUT;
    }
    char *ref = NULL;
    wih_err *e = c->pause ? node_image_pause(c->output, &ref) : node_image_probe(NULL, c->ca, c->output, &ref);
    if (e) return wih_err_report(e);
    printf("%s\n", ref);
    free(ref);
    return WIH_EXIT_OK;
}

const wih_cmd wih_cmd_image_build = {
    .name = "image build",
    .summary = "write the probe image (wiharness as entrypoint + its libraries + CA bundle) as an OCI tar",
    .details = "Prints the image reference wiharness.local/probe:<12 hex of the manifest digest>.\n"
               "The tar is an OCI image layout with one uncompressed layer; it imports with\n"
               "`ctr -n k8s.io images import FILE` and `kind load image-archive FILE`. Pods use\n"
               "imagePullPolicy: IfNotPresent (or Never). The image's CA bundle is the system bundle\n"
               "plus --ca; SSL_CERT_FILE points at it.",
    .opts = k_opts,
    .nopts = sizeof k_opts / sizeof k_opts[0],
    .cfg_size = sizeof(image_cfg),
    .max_args = 0,
    .run = run_build,
};
