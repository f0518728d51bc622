/* The command table: `wiharness help` lists them in this order. */
#include "wiharness/cli.h"

extern const wih_cmd wih_cmd_webhook_mutate;

const wih_cmd *const wih_commands[] = {
    &wih_cmd_version,
    &wih_cmd_webhook_mutate,
    &wih_cmd_help,
};
const size_t wih_ncommands = sizeof wih_commands / sizeof wih_commands[0];
