/* SPDX-License-Identifier: GPL-2.0-or-later */
/* User-namespace ID mappings: podman's CONTAINER:HOST:SIZE, subordinate ranges, free-range allocation, a userns fd. */
#ifndef OCIP_IDMAP_H
#define OCIP_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oci-prep/error.h>

/* CONTAINER..CONTAINER+SIZE-1 in the namespace is HOST..HOST+SIZE-1 outside it.  */
struct ocip_idmap_range
{
  uint32_t container, host, size;
};

/* One uid_map or gid_map: at most OCIP_LIMIT_IDMAP_RANGES ranges, none empty, no two
   overlapping on either side (what the kernel accepts).  */
struct ocip_idmap_list
{
  struct ocip_idmap_range *v; /* owned */
  size_t n;
};

/* A user namespace's mappings.  Both lists empty: no user namespace.  */
struct ocip_idmap
{
  struct ocip_idmap_list uid, gid;
};

/* Parse TEXT, "CONTAINER:HOST:SIZE" (decimal, podman's --uidmap syntax), into *RET.
   EINVAL for anything else, a SIZE of 0, or a range that runs past 2^32-2 on either
   side (the kernel keeps (u32) -1 as "no ID").  */
int ocip_idmap_range_parse (const char *text, struct ocip_idmap_range *ret, ocip_error_t *err);

/* Append RANGE to LIST after checking it against the ranges there: EINVAL when it
   overlaps one in the container or on the host, or is empty or wraps; E2BIG past
   OCIP_LIMIT_IDMAP_RANGES.  LIST is unchanged on failure.  */
int ocip_idmap_list_add (struct ocip_idmap_list *list, const struct ocip_idmap_range *range, ocip_error_t *err);

/* Build *RET (cleared first by the caller, or zeroed) from the NULL-terminated
   CONTAINER:HOST:SIZE strings UIDMAP and GIDMAP (either may be NULL); GIDMAP NULL or
   empty takes UIDMAP's ranges, as podman does.  GIDMAP without UIDMAP is EINVAL.
   Errors name the offending string; *RET is left empty on failure.  */
int ocip_idmap_from_strings (char *const *uidmap, char *const *gidmap, struct ocip_idmap *ret, ocip_error_t *err);

bool ocip_idmap_is_empty (const struct ocip_idmap *map);
/* ID in the namespace to its host ID: false when LIST does not map it.  */
bool ocip_idmap_to_host (const struct ocip_idmap_list *list, uint32_t id, uint32_t *ret);
/* Host ID to the namespace: false when LIST does not map it.  */
bool ocip_idmap_to_container (const struct ocip_idmap_list *list, uint32_t id, uint32_t *ret);
/* Whether two maps are the same, range for range.  */
bool ocip_idmap_equal (const struct ocip_idmap *a, const struct ocip_idmap *b);
/* *DST, a deep copy of SRC (DST's old content is not freed).  */
void ocip_idmap_copy (struct ocip_idmap *dst, const struct ocip_idmap *src);
/* Free what MAP holds and empty it.  */
void ocip_idmap_clear (struct ocip_idmap *map);

struct ocip_json_gen;
struct ocip_json_node;

/* LIST as the runtime-spec writes it, [{"containerID": C, "hostID": H, "size": S}...],
   the value of KEY in the open map of GEN (base/json.h).  */
void ocip_idmap_gen_list (struct ocip_json_gen *gen, const char *key, const struct ocip_idmap_list *list);
/* The member KEY of the object OBJ, in that form, into *RET (owned by the caller;
   written only on success; absent: empty).  EINVAL when it is not such an array or a
   range is refused by ocip_idmap_list_add (E2BIG for too many).  */
int ocip_idmap_parse_list (const struct ocip_json_node *obj, const char *key, struct ocip_idmap_list *ret,
                           ocip_error_t *err);

/* A user namespace carrying MAP (not empty, else EINVAL), as an fd of its nsfs file
   (O_RDONLY|O_CLOEXEC, owned by the caller), for mount_setattr(MOUNT_ATTR_IDMAP) or
   setns.  A child is created in a new user namespace and kept waiting while this
   process writes its uid_map and gid_map (which needs CAP_SETUID and CAP_SETGID over
   the host IDs, i.e. root, or newuidmap for a user) and opens its ns/user; the child
   (which shares this process's memory, so that its exit costs next to nothing) is
   then killed and reaped, the namespace living on through the fd.  Errors: the
   kernel's (EPERM when the mapping is not allowed).  */
int ocip_idmap_userns_fd (const struct ocip_idmap *map, ocip_error_t *err);

/* Whether this process is in the initial user namespace: its /proc/self/uid_map is
   the identity over every ID ("0 0 4294967295").  A map that cannot be read counts as
   not initial, the cautious answer for callers choosing what needs real root.  */
bool ocip_idmap_in_initial_userns (void);

/* The mappings of the user namespace this process is in, as /proc/self/uid_map and
   gid_map show them (to the parent namespace), into *RET (owned by the caller, written
   only on success).  The initial namespace gives its identity map.  */
int ocip_idmap_current (struct ocip_idmap *ret, ocip_error_t *err);

/* Subordinate IDs (subuid(5)): the ranges of /etc/subuid or /etc/subgid (FILE) whose
   first field is USER (by name; numeric lines match UID when UID_TEXT is not NULL) as
   HOST:SIZE ranges (container 0) in *RET, owned by the caller (ocip_idmap_list's v).
   A file without such a line is ENOENT naming FILE and USER; an unreadable one, its
   errno.  Malformed lines are skipped, as shadow-utils does.  */
int ocip_idmap_subid_ranges (const char *file, const char *user, const char *uid_text, struct ocip_idmap_list *ret,
                             ocip_error_t *err);

/* The lowest HOST such that HOST..HOST+SIZE-1 lies inside one range of AVAILABLE (host
   side) and overlaps no range of TAKEN (host side): 0 with *RET_HOST, or ENOSPC when
   none is free.  */
int ocip_idmap_find_free (const struct ocip_idmap_list *available, const struct ocip_idmap_list *taken,
                          uint32_t size, uint32_t *ret_host, ocip_error_t *err);

#endif
