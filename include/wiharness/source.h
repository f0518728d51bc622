/* source — inputs from git (libgit2) and provenance for every input.
 *
 * A git source is "git+URL#REF:PATH": URL a local path, file://, or any URL
 * libgit2 fetches (https, ssh); REF a branch, a tag or a commit (full or
 * abbreviated id); PATH a file (or, for src_git_export, a directory) inside
 * the tree at REF. The repository is fetched into a bare cache,
 * <cache>/git/<12 hex of sha256(URL)>, and blobs are read straight from the
 * tree at REF: nothing is checked out.
 *
 * Provenance (a JSON object, in every report that used the input):
 *   {"source": "<as written>", "repository": "<URL or work tree>",
 *    "ref": "<REF>" | null, "commit": "<40 hex>" | null, "path": "<PATH>",
 *    "dirty": true|false}
 * dirty is only ever true for a plain file inside a git work tree whose
 * tracked files differ from HEAD (or the file itself is untracked); a git+
 * source names a commit and is never dirty.
 *
 * Errors: a malformed source, an unknown ref, a missing path, a local
 * repository that does not exist → WIH_EXIT_INPUT; a fetch that fails
 * otherwise → WIH_EXIT_INFRA (libgit2's message kept). */
#ifndef WIHARNESS_SOURCE_H
#define WIHARNESS_SOURCE_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"

bool src_is_git(const char *spec);
/* Split "git+URL#REF:PATH" (the last '#', then the first ':' after it). */
int src_git_parse(const char *spec, char **url, char **ref, char **path, wih_err **err);

/* Read a source: git+… from the cache (fetching first), or a plain file.
 * cache_dir NULL = $WIH_GIT_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/wiharness/git
 * (cache_dir given: <cache_dir>/git). Returns the
 * content (NUL-terminated, *len its length), *provenance a new object. */
char *src_read(const char *spec, const char *cache_dir, size_t *len, cJSON **provenance, wih_err **err);

/* Write the tree at PATH of a git source (a directory, or one file) under
 * dest (created), e.g. a scenario directory. *provenance as above. */
int src_git_export(const char *spec, const char *cache_dir, const char *dest, cJSON **provenance,
                   wih_err **err);

/* Provenance of a plain file: the work tree it is in (commit = HEAD, dirty),
 * or {"repository": null, …} outside any repository. Never fails. */
cJSON *src_file_provenance(const char *path);

#endif
