/* The command table: `wiharness help` lists them in this order. */
#include "wiharness/cli.h"

extern const wih_cmd wih_cmd_gen_sa;
extern const wih_cmd wih_cmd_gen_values;
extern const wih_cmd wih_cmd_render;

const wih_cmd *const wih_commands[] = {
    &wih_cmd_version,
    &wih_cmd_help,
    &wih_cmd_render,
    &wih_cmd_gen_sa,
    &wih_cmd_gen_values,
};
const size_t wih_ncommands = sizeof wih_commands / sizeof wih_commands[0];
