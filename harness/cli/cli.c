/* Table-driven option parsing, --help generation and dispatch. */
#include "wiharness/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void wih_strlist_add(wih_strlist *l, const char *s)
{
    l->v = wih_xrealloc(l->v, (l->n + 2) * sizeof *l->v);
    l->v[l->n++] = wih_strdup(s);
    l->v[l->n] = NULL;
}

void wih_strlist_free(wih_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

#define GOPT(n, l, t, f, m, h) {n, l, t, offsetof(wih_global_opts, f), m, h, false}
static const char *const k_log_levels[] = {"debug", "info", "warn", "error", "quiet", NULL};
static const wih_opt k_global[] = {
    GOPT("help", 'h', WIH_OPT_FLAG, help, NULL, "show this help and exit"),
    GOPT("log-level", 0, WIH_OPT_CHOICE, log_level, "debug|info|warn|error|quiet", "how much to log (default info)"),
    GOPT("no-color", 0, WIH_OPT_FLAG, no_color, NULL, "never colour output (NO_COLOR=1 does the same)"),
    GOPT("quiet", 'q', WIH_OPT_FLAG, quiet, NULL, "only errors on stderr"),
    GOPT("verbose", 'v', WIH_OPT_FLAG, verbose, NULL, "debug logging on stderr"),
};
static const size_t k_nglobal = sizeof k_global / sizeof k_global[0];

static const char *nearest_flag(const wih_cmd *c, const char *given)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    for (int pass = 0; pass < 2; pass++) {
        const wih_opt *o = pass ? k_global : (c ? c->opts : NULL);
        size_t n = pass ? k_nglobal : (c ? c->nopts : 0);
        for (size_t i = 0; i < n; i++) {
            size_t d = wih_edit_distance(given, o[i].name);
            /* a prefix of a real flag is the likeliest intent */
            if (strncmp(o[i].name, given, strlen(given)) == 0 && *given) d = 0;
            if (d < bestd) {
                bestd = d;
                best = o[i].name;
            }
        }
    }
    return best;
}

static const wih_opt *find_long(const wih_opt *o, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(o[i].name) == len && !strncmp(o[i].name, name, len)) return &o[i];
    return NULL;
}

static const wih_opt *find_short(const wih_opt *o, size_t n, char l)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].letter && o[i].letter == l) return &o[i];
    return NULL;
}

/* true when val is one of the CHOICE values o's metavar lists ("a|b|c");
 * else says which is nearest */
static bool check_choice(const wih_opt *o, const char *val)
{
    const char *words[32];
    size_t n = 0;
    char *list = wih_strdup(o->metavar ? o->metavar : ""), *save = NULL;
    for (char *t = strtok_r(list, "|", &save); t && n < 31; t = strtok_r(NULL, "|", &save)) words[n++] = t;
    words[n] = NULL;
    bool ok = false;
    for (size_t i = 0; i < n && !ok; i++) ok = !strcmp(val, words[i]);
    if (!ok) {
        /* "--output must be text or json, not 'yaml'", the house style */
        fprintf(stderr, "wiharness: error: --%s must be ", o->name);
        for (size_t i = 0; i < n; i++) fprintf(stderr, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
        fprintf(stderr, ", not '%s'", val);
        const char *near = wih_nearest(val, words);
        size_t d = near ? wih_edit_distance(val, near) : 0;
        bool prefix = near && *val && !strncmp(near, val, strlen(val));
        if (near && (prefix || (d <= 3 && d < strlen(val)))) fprintf(stderr, "; did you mean '%s'?", near);
        fprintf(stderr, "\n");
    }
    free(list);
    return ok;
}

static int set_value(const wih_cmd *c, const wih_opt *o, void *base, const char *val, const char *shown)
{
    char *field = (char *)base + o->offset;
    switch (o->type) {
    case WIH_OPT_FLAG:
        *(bool *)field = true;
        return 0;
    case WIH_OPT_STR:
        *(const char **)field = val;
        return 0;
    case WIH_OPT_CHOICE:
        if (!check_choice(o, val)) return WIH_EXIT_INPUT;
        *(const char **)field = val;
        return 0;
    case WIH_OPT_INT:
    case WIH_OPT_PORT: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end) {
            fprintf(stderr, "wiharness: --%s expects an integer, got '%s'\n", o->name, val);
            return WIH_EXIT_INPUT;
        }
        if (o->type == WIH_OPT_PORT && (v < 1 || v > 65535)) {
            fprintf(stderr, "wiharness: --%s must be a TCP port (1-65535), got %ld\n", o->name, v);
            return WIH_EXIT_INPUT;
        }
        *(long *)field = v;
        return 0;
    }
    case WIH_OPT_LIST: {
        wih_strlist *l = (wih_strlist *)field;
        if (!o->split) {
            wih_strlist_add(l, val);
            return 0;
        }
        /* "a,,b" or ",,," is a typo, not a request for the default */
        size_t n = strlen(val);
        if (!n || val[0] == ',' || val[n - 1] == ',' || strstr(val, ",,")) {
            fprintf(stderr, "wiharness: --%s has an empty item in '%s'\n", o->name, val);
            return WIH_EXIT_INPUT;
        }
        char *copy = wih_strdup(val), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) wih_strlist_add(l, t);
        free(copy);
        return 0;
    }
    }
    (void)c;
    (void)shown;
    return WIH_EXIT_INPUT;
}

/* The command's option, else the global one; *base is where it writes. */
static const wih_opt *find_opt(const wih_cmd *c, const char *name, size_t len, char letter, void *cfg,
                               wih_global_opts *g, void **base)
{
    const wih_opt *o = NULL;
    if (c) o = letter ? find_short(c->opts, c->nopts, letter) : find_long(c->opts, c->nopts, name, len);
    *base = cfg;
    if (!o) {
        o = letter ? find_short(k_global, k_nglobal, letter) : find_long(k_global, k_nglobal, name, len);
        *base = g;
    }
    return o;
}

static int unknown_long(const wih_cmd *c, const char *name, size_t len)
{
    char *given = wih_xstrndup(name, len);
    const char *near = nearest_flag(c, given);
    if (near)
        fprintf(stderr, "wiharness: unknown option '--%s'; did you mean '--%s'?\n", given, near);
    else
        fprintf(stderr, "wiharness: unknown option '--%s'\n", given);
    fprintf(stderr, "Try 'wiharness %s%s--help'.\n", c ? c->name : "", c ? " " : "");
    free(given);
    return WIH_EXIT_INPUT;
}

/* "--name", "--name=value" or "--name value" at argv[*i]. */
static int parse_long(const wih_cmd *c, int argc, char **argv, int *i, void *cfg, wih_global_opts *g)
{
    const char *a = argv[*i], *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    void *base;
    const wih_opt *o = find_opt(c, name, len, 0, cfg, g, &base);
    if (!o) return unknown_long(c, name, len);
    const char *val = NULL;
    if (o->type == WIH_OPT_FLAG && eq) {
        fprintf(stderr, "wiharness: option '--%s' takes no value\n", o->name);
        return WIH_EXIT_INPUT;
    }
    if (o->type != WIH_OPT_FLAG) {
        val = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!val) {
            fprintf(stderr, "wiharness: option '--%s' needs a value (%s)\n", o->name, o->metavar ? o->metavar : "VALUE");
            return WIH_EXIT_INPUT;
        }
    }
    return set_value(c, o, base, val, a);
}

/* Short options, possibly bundled: -qv, -o json, -ojson. */
static int parse_short(const wih_cmd *c, int argc, char **argv, int *i, void *cfg, wih_global_opts *g)
{
    const char *a = argv[*i];
    for (const char *s = a + 1; *s; s++) {
        void *base;
        const wih_opt *o = find_opt(c, NULL, 0, *s, cfg, g, &base);
        if (!o) {
            fprintf(stderr, "wiharness: unknown option '-%c'\n", *s);
            fprintf(stderr, "Try 'wiharness %s%s--help'.\n", c ? c->name : "", c ? " " : "");
            return WIH_EXIT_INPUT;
        }
        if (o->type == WIH_OPT_FLAG) {
            set_value(c, o, base, NULL, a);
            continue;
        }
        const char *val = s[1] ? s + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!val) {
            fprintf(stderr, "wiharness: option '-%c' needs a value (%s)\n", *s, o->metavar ? o->metavar : "VALUE");
            return WIH_EXIT_INPUT;
        }
        return set_value(c, o, base, val, a);
    }
    return 0;
}

int wih_cli_parse(const wih_cmd *c, int argc, char **argv, void *cfg, wih_global_opts *g, int *npos, char ***pos)
{
    char **p = wih_xcalloc((size_t)argc + 1, sizeof *p);
    int np = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        int rc = 0;
        if (only_pos || a[0] != '-' || !a[1])
            p[np++] = a;
        else if (!strcmp(a, "--"))
            only_pos = true;
        else
            rc = a[1] == '-' ? parse_long(c, argc, argv, &i, cfg, g) : parse_short(c, argc, argv, &i, cfg, g);
        if (rc) {
            free(p);
            return rc;
        }
    }
    *npos = np;
    *pos = p;
    return 0;
}

static void print_opts(FILE *out, const wih_opt *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char left[96];
        char sh[8] = "    ";
        if (o[i].letter) snprintf(sh, sizeof sh, "-%c, ", o[i].letter);
        snprintf(left, sizeof left, "%s--%s%s%s", sh, o[i].name, o[i].metavar ? " " : "",
                 o[i].metavar ? o[i].metavar : "");
        /* a long left column (a CHOICE's values) puts the help on its own line */
        if (strlen(left) > 30) fprintf(out, "  %s\n%33s", left, "");
        else fprintf(out, "  %-30s ", left);
        fprintf(out, "%s%s\n", o[i].help,
                o[i].type == WIH_OPT_LIST ? (o[i].split ? " (repeatable, comma-separated)" : " (repeatable)") : "");
    }
}

void wih_cli_usage(const wih_cmd *c, FILE *out)
{
    fprintf(out, "Usage: wiharness %s%s%s%s\n\n%s\n", c->name, c->nopts ? " [options]" : "", c->args ? " " : "",
            c->args ? c->args : "", c->summary);
    if (c->details) fprintf(out, "\n%s\n", c->details);
    if (c->nopts) {
        fprintf(out, "\nOptions:\n");
        print_opts(out, c->opts, c->nopts);
    }
    fprintf(out, "\nGlobal options:\n");
    print_opts(out, k_global, k_nglobal);
}

static void top_usage(FILE *out)
{
    fprintf(out, "Usage: wiharness [global options] COMMAND [options] [args]\n\n"
                 "wiharness proves that cloud workload identity works for OSMO workflow pods.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < wih_ncommands; i++)
        fprintf(out, "  %-22s %s\n", wih_commands[i]->name, wih_commands[i]->summary);
    fprintf(out, "\nGlobal options:\n");
    print_opts(out, k_global, k_nglobal);
    fprintf(out, "\nExit codes: 0 passed, 1 a check failed, 2 usage or invalid input,\n"
                 "3 infrastructure (cluster, webhook, MinIO, RBAC), 130 interrupted.\n"
                 "'wiharness help COMMAND' or 'wiharness COMMAND --help' shows a command's options.\n");
}

/* Longest run of argv words that names a command ("webhook mutate"). */
static const wih_cmd *match_command(int argc, char **argv, int *used)
{
    const wih_cmd *best = NULL;
    int bestw = 0;
    for (size_t i = 0; i < wih_ncommands; i++) {
        const char *n = wih_commands[i]->name;
        int w = 0;
        const char *q = n;
        bool ok = true;
        while (*q) {
            size_t len = strcspn(q, " ");
            if (w >= argc || strlen(argv[w]) != len || strncmp(argv[w], q, len)) {
                ok = false;
                break;
            }
            w++;
            q += len;
            while (*q == ' ') q++;
        }
        if (ok && w > bestw) {
            best = wih_commands[i];
            bestw = w;
        }
    }
    *used = bestw;
    return best;
}

static const wih_cmd *nearest_command(const char *word)
{
    const wih_cmd *best = NULL;
    size_t bestd = (size_t)-1;
    for (size_t i = 0; i < wih_ncommands; i++) {
        size_t d = wih_edit_distance(word, wih_commands[i]->name);
        if (d < bestd) {
            bestd = d;
            best = wih_commands[i];
        }
    }
    return bestd <= 3 ? best : NULL;
}

static void apply_globals(const wih_global_opts *g)
{
    if (g->no_color) wih_log_set_color(0);
    if (g->verbose) wih_log_set_level(WIH_LOG_DEBUG);
    if (g->quiet) wih_log_set_level(WIH_LOG_ERROR);
    if (g->log_level) {
        for (int i = 0; k_log_levels[i]; i++)
            if (!strcmp(g->log_level, k_log_levels[i])) wih_log_set_level((wih_log_level)i);
    }
}

static void free_lists(const wih_cmd *c, void *cfg)
{
    for (size_t i = 0; i < c->nopts; i++)
        if (c->opts[i].type == WIH_OPT_LIST) wih_strlist_free((wih_strlist *)((char *)cfg + c->opts[i].offset));
}

int wih_cli_main(int argc, char **argv)
{
    wih_signals_install();
    wih_global_opts g = {0};
    /* global options before the command */
    int i = 1;
    while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--")) {
        int np = 0;
        char **pos = NULL;
        /* parse one at a time so a value-taking global keeps its value */
        int take = 1;
        if (!strcmp(argv[i], "--log-level") && i + 1 < argc) take = 2;
        int rc = wih_cli_parse(NULL, take, argv + i, NULL, &g, &np, &pos);
        free(pos);
        if (rc) return rc;
        i += take;
    }
    apply_globals(&g);
    if (i >= argc) {
        top_usage(g.help ? stdout : stderr);
        return g.help ? WIH_EXIT_OK : WIH_EXIT_INPUT;
    }
    int used = 0;
    const wih_cmd *c = match_command(argc - i, argv + i, &used);
    if (!c) {
        const wih_cmd *near = nearest_command(argv[i]);
        if (near)
            fprintf(stderr, "wiharness: unknown command '%s'; did you mean '%s'?\n", argv[i], near->name);
        else
            fprintf(stderr, "wiharness: unknown command '%s'\n", argv[i]);
        fprintf(stderr, "Try 'wiharness help'.\n");
        return WIH_EXIT_INPUT;
    }
    i += used;
    void *cfg = wih_xcalloc(1, c->cfg_size ? c->cfg_size : 1);
    int np = 0;
    char **pos = NULL;
    int rc = wih_cli_parse(c, argc - i, argv + i, cfg, &g, &np, &pos);
    if (rc) {
        free_lists(c, cfg);
        free(cfg);
        return rc;
    }
    apply_globals(&g);
    if (g.help) {
        wih_cli_usage(c, stdout);
        rc = WIH_EXIT_OK;
    } else if (np < c->min_args || (c->max_args >= 0 && np > c->max_args)) {
        if (np < c->min_args)
            fprintf(stderr, "wiharness %s: missing argument %s\n", c->name, c->args ? c->args : "");
        else
            fprintf(stderr, "wiharness %s: unexpected argument '%s'\n", c->name, pos[c->max_args]);
        fprintf(stderr, "Try 'wiharness %s --help'.\n", c->name);
        rc = WIH_EXIT_INPUT;
    } else {
        rc = c->run(cfg, np, pos);
        /* an interrupt ends the run: a failure it caused (retries cut short, a
         * killed child) is 130 too, not 3; bad input found before it stays 2 */
        if (wih_interrupted() && rc != WIH_EXIT_INPUT) rc = WIH_EXIT_INTERRUPTED;
    }
    free(pos);
    free_lists(c, cfg);
    free(cfg);
    wih_cleanup_run_all();
    return rc;
}

/* ------------------------------------------------------------ help */
typedef struct {
    int dummy;
} help_cfg;

static int run_help(void *cfg, int argc, char **argv)
{
    (void)cfg;
    if (argc == 0) {
        top_usage(stdout);
        return WIH_EXIT_OK;
    }
    int used = 0;
    const wih_cmd *c = match_command(argc, argv, &used);
    if (!c || used != argc) {
        fprintf(stderr, "wiharness help: no command '%s'\n", argv[0]);
        return WIH_EXIT_INPUT;
    }
    wih_cli_usage(c, stdout);
    return WIH_EXIT_OK;
}

const wih_cmd wih_cmd_help = {
    .name = "help",
    .summary = "show the commands, or one command's options",
    .args = "[COMMAND...]",
    .cfg_size = sizeof(help_cfg),
    .min_args = 0,
    .max_args = -1,
    .run = run_help,
};
