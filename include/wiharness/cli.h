/* cli — subcommands and their options. One table per subcommand drives both
 * parsing and --help, so they cannot drift (curl's tool_getparam.c idea).
 *
 * A command's options write into its own config struct through offsetof():
 *   WIH_OPT_FLAG → bool, WIH_OPT_STR → const char * (borrowed from argv),
 *   WIH_OPT_INT → long (WIH_OPT_PORT: a long in 1-65535), WIH_OPT_LIST → wih_strlist (each use appends; values
 *   given as "a,b" are split on commas when the option's `split` is set; an
 *   empty item is exit 2), WIH_OPT_CHOICE → const char * that is one of the values its metavar lists
 *   ("text|json"): --help shows them, any other value is exit 2 naming the
 *   nearest. Use it for every --output, --log-level, --profile.
 * Positional arguments are passed to run() after the options are removed.
 */
#ifndef WIHARNESS_CLI_H
#define WIHARNESS_CLI_H

#include <stddef.h>

#include "wiharness/core.h"

typedef enum { WIH_OPT_FLAG, WIH_OPT_STR, WIH_OPT_INT, WIH_OPT_LIST, WIH_OPT_CHOICE, WIH_OPT_PORT } wih_opt_type;

typedef struct wih_strlist {
    char **v; /* entries (owned by the list; freed by wih_strlist_free) */
    size_t n;
} wih_strlist;
void wih_strlist_add(wih_strlist *l, const char *s);
void wih_strlist_free(wih_strlist *l);

typedef struct wih_opt {
    const char *name; /* long name without "--" */
    char letter;      /* short form, or 0 */
    wih_opt_type type;
    size_t offset; /* offsetof(<cfg>, field) */
    const char *metavar; /* CHOICE: the valid values, "a|b|c" */
    const char *help;
    bool split; /* LIST: split values on ',' */
} wih_opt;
/* The identity profiles, as a CHOICE metavar for --profile. */
#define WIH_PROFILE_CHOICES "aws-irsa|azure-wi|gcp-fleet"

typedef struct wih_cmd {
    const char *name;    /* "version", "webhook mutate" (words) */
    const char *summary; /* one line */
    const char *args;    /* positional synopsis, e.g. "NAME", or NULL */
    const char *details; /* more text for --help, or NULL */
    const wih_opt *opts;
    size_t nopts;
    size_t cfg_size;
    int min_args, max_args; /* positional count; max -1 = any */
    int (*run)(void *cfg, int argc, char **argv);
} wih_cmd;

/* The global options every command accepts. */
typedef struct wih_global_opts {
    bool help, verbose, quiet, no_color;
    const char *log_level;
} wih_global_opts;

/* Every command, in the order `wiharness help` lists them (cli/commands.c). */
extern const wih_cmd *const wih_commands[];
extern const size_t wih_ncommands;

/* Entry point used by main(): parse, dispatch, map errors to exit codes. */
int wih_cli_main(int argc, char **argv);

/* Print a command's --help (generated from its table). */
void wih_cli_usage(const wih_cmd *c, FILE *out);
/* Parse argv (after the command words) into cfg; returns 0, or 2 with a message
 * on stderr naming the nearest valid flag. Exposed for tests. */
int wih_cli_parse(const wih_cmd *c, int argc, char **argv, void *cfg, wih_global_opts *g, int *npos,
                  char ***pos);

/* The commands implemented so far (one function per command, in cli/). */
extern const wih_cmd wih_cmd_version;
extern const wih_cmd wih_cmd_help;

#endif
