/* The command table: `wiharness help` lists them in this order. */
#include "wiharness/cli.h"

extern const wih_cmd wih_cmd_up;
extern const wih_cmd wih_cmd_status;
extern const wih_cmd wih_cmd_env;
extern const wih_cmd wih_cmd_down;
extern const wih_cmd wih_cmd_smoke;

const wih_cmd *const wih_commands[] = {
    &wih_cmd_up,
    &wih_cmd_status,
    &wih_cmd_env,
    &wih_cmd_down,
    &wih_cmd_smoke,
    &wih_cmd_version,
    &wih_cmd_help,
};
const size_t wih_ncommands = sizeof wih_commands / sizeof wih_commands[0];
