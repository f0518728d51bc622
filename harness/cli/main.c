/* wiharness — end-to-end checks for workload identity on OSMO workflow pods. */
#include "wiharness/cli.h"

int main(int argc, char **argv)
{
    return wih_cli_main(argc, argv);
}
