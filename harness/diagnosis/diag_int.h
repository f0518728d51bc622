/* Private to harness/diagnosis: the rule context and helpers. */
#ifndef WIH_DIAG_INT_H
#define WIH_DIAG_INT_H

#include "wiharness/diagnosis.h"
#include "wiharness/osmo.h"

struct diag_ctx {
    const cJSON *facts;
    const cJSON *values;     /* SOURCE or NULL */
    osmo_config *cfg;        /* values layered over the chart defaults, or NULL */
    char *tbase, *pbase;     /* JSON pointers of podTemplates / pools in the values tree */
    cJSON *pools;            /* names (strings) the pool rules evaluate */
    const char *platform;
    const char *profile;     /* explicit or inferred; NULL when unknown */
    bool profile_explicit;
    char *ns;                /* workflow namespace */
    cJSON *findings;
    bool runtime_phase;      /* drop runtime findings whose id a static one reported */
};

/* Add a finding (strings are taken over; duplicates of (id, where) dropped). */
void diag_emit(diag_ctx *c, const diag_rule *r, char *where, char *cause, char *fix);

/* JSON pointer helpers (RFC 6901). */
char *diag_ptr_join(const char *base, const char *key);  /* new string */
const cJSON *diag_ptr_get(const cJSON *root, const char *ptr);
/* "file:line:col" of ptr in a SOURCE (nearest ancestor with a position),
 * else "file#ptr". New string. */
char *diag_where(const cJSON *src, const char *ptr);
/* "facts#ptr" */
char *diag_where_facts(const char *ptr);

const char *diag_str(const cJSON *o, const char *k); /* string member or NULL */
const cJSON *diag_obj(const cJSON *o, const char *k); /* object member or NULL */

/* The known annotation/label keys of every profile. */
typedef enum { DK_SA_ANNOTATION, DK_SA_LABEL, DK_POD_LABEL, DK_POD_ANNOTATION } diag_key_kind;
typedef struct diag_key {
    const char *key, *profile;
    diag_key_kind kind;
    bool required; /* the trigger annotation of the profile */
} diag_key;
const diag_key *diag_known_keys(size_t *n);
/* Nearest known key of a near-miss (typo, wrong prefix, wrong case), or NULL. */
const diag_key *diag_near_key(const char *k);

/* The rule functions (static.c, runtime.c); a function may serve several
 * rows (it checks r->id). */
void diag_r_configs_disabled(diag_ctx *c, const diag_rule *r);
void diag_r_helm_list_replaced(diag_ctx *c, const diag_rule *r);
void diag_r_sa_on_wrong_object(diag_ctx *c, const diag_rule *r);
void diag_r_annotation_typo(diag_ctx *c, const diag_rule *r);
void diag_r_annotation_missing(diag_ctx *c, const diag_rule *r);
void diag_r_malformed_role_arn(diag_ctx *c, const diag_rule *r);
void diag_r_malformed_client_id(diag_ctx *c, const diag_rule *r);
void diag_r_malformed_gsa_email(diag_ctx *c, const diag_rule *r);
void diag_r_malformed_wi_provider(diag_ctx *c, const diag_rule *r);
void diag_r_pfnet_half(diag_ctx *c, const diag_rule *r);
void diag_r_azure_expiration(diag_ctx *c, const diag_rule *r);
void diag_r_sa_wrong_namespace(diag_ctx *c, const diag_rule *r);
void diag_r_template_unknown(diag_ctx *c, const diag_rule *r);
void diag_r_template_not_in_pool(diag_ctx *c, const diag_rule *r);
void diag_r_template_sa_unset(diag_ctx *c, const diag_rule *r);
void diag_r_sa_missing(diag_ctx *c, const diag_rule *r);
void diag_rt_aws_sa_race(diag_ctx *c, const diag_rule *r);
void diag_r_azure_use_label(diag_ctx *c, const diag_rule *r);
void diag_r_static_credential(diag_ctx *c, const diag_rule *r);
void diag_r_env_preset(diag_ctx *c, const diag_rule *r);
void diag_r_env_breaks_mount(diag_ctx *c, const diag_rule *r);
void diag_r_volume_collision(diag_ctx *c, const diag_rule *r);
void diag_r_gcs_ambient(diag_ctx *c, const diag_rule *r);
void diag_rt_webhook_absent(diag_ctx *c, const diag_rule *r);
void diag_rt_namespace_not_selected(diag_ctx *c, const diag_rule *r);
void diag_rt_cabundle(diag_ctx *c, const diag_rule *r);
void diag_rt_cloud_verdict(diag_ctx *c, const diag_rule *r);
void diag_rt_token_perms(diag_ctx *c, const diag_rule *r);
void diag_rt_bucket(diag_ctx *c, const diag_rule *r);
void diag_rt_wrong_identity(diag_ctx *c, const diag_rule *r);

/* Static helpers shared with runtime rules. */
/* Every SOURCE of facts.service_accounts whose tree is kind ServiceAccount. */
bool diag_is_sa(const cJSON *src);
const char *diag_annotation(const cJSON *obj, const char *key);

/* helpers.c */
#define FOR_POOLS(c, it) cJSON_ArrayForEach(it, (c)->pools)
const cJSON *diag_sa_list(const diag_ctx *c);
const char *diag_obj_name(const cJSON *src);           /* metadata.name or "?" */
char *diag_ann_ptr(const char *kind, const char *key);  /* /metadata/<kind>/<key> */
char *diag_sa_where(const cJSON *src, const char *kind, const char *key);
bool diag_has_sa(const diag_ctx *c);
const cJSON *diag_sa_named(const diag_ctx *c, const char *name);
const cJSON *diag_user_tpl(const diag_ctx *c, const char *name); /* NULL: the chart's */
char *diag_tpl_where(const diag_ctx *c, const char *name, const char *sub);
const char *diag_values_file(const diag_ctx *c);
cJSON *diag_pool_names(const diag_ctx *c, const char *pool); /* merge order, new array */
const cJSON *diag_tpl(const diag_ctx *c, const char *name);
cJSON *diag_merged(const diag_ctx *c, const char *pool);     /* NULL when OSMO's merge fails */
const char *diag_sa_setter(const diag_ctx *c, const char *pool, const char **sa);
bool diag_sa_relevant(const diag_ctx *c, const cJSON *src);
cJSON *diag_wlog(const diag_ctx *c);                         /* webhook lines as objects */
bool diag_emitted(const diag_ctx *c, const char *id);
const cJSON *diag_wlog_find(cJSON *lines, const char *dec, const char *needle, int *idx);
char *diag_wl_where(int i);

#endif
