/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libarchive, loaded on first use.  Only extraction reads tar streams, and libarchive
   brings a dozen libraries with it (libxml2, ICU, libstdc++, nettle, the compressors):
   linked into the binary, the dynamic loader would map and relocate them on every run,
   half of a warm bundle's time, for a path that never calls them.  As systemd does with
   its optional libraries, the binary links none of it and extraction calls through the
   pointers below, resolved once by ocip_libarchive_load().  */
#ifndef OCIP_EXTRACT_LIBARCHIVE_H
#define OCIP_EXTRACT_LIBARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include <oci-prep/error.h>

/* X (FUNCTION) for every libarchive function extraction calls.  */
#define OCIP_LIBARCHIVE_FUNCTIONS(X)                                                                                   \
  X (archive_entry_atime)                                                                                              \
  X (archive_entry_atime_is_set)                                                                                       \
  X (archive_entry_atime_nsec)                                                                                         \
  X (archive_entry_filetype)                                                                                           \
  X (archive_entry_gid)                                                                                                \
  X (archive_entry_hardlink)                                                                                           \
  X (archive_entry_mtime)                                                                                              \
  X (archive_entry_mtime_nsec)                                                                                         \
  X (archive_entry_pathname)                                                                                           \
  X (archive_entry_perm)                                                                                               \
  X (archive_entry_rdevmajor)                                                                                          \
  X (archive_entry_rdevminor)                                                                                          \
  X (archive_entry_size)                                                                                               \
  X (archive_entry_size_is_set)                                                                                        \
  X (archive_entry_symlink)                                                                                            \
  X (archive_entry_uid)                                                                                                \
  X (archive_entry_xattr_next)                                                                                         \
  X (archive_entry_xattr_reset)                                                                                        \
  X (archive_error_string)                                                                                             \
  X (archive_read_data_block)                                                                                          \
  X (archive_read_free)                                                                                                \
  X (archive_read_new)                                                                                                 \
  X (archive_read_next_header)                                                                                         \
  X (archive_read_open)                                                                                                \
  X (archive_read_support_format_tar)                                                                                  \
  X (archive_set_error)

#define OCIP_LIBARCHIVE_DECLARE(f) extern __typeof__ (f) *sym_##f;
OCIP_LIBARCHIVE_FUNCTIONS (OCIP_LIBARCHIVE_DECLARE)
#undef OCIP_LIBARCHIVE_DECLARE

/* Load libarchive (its soname, found by configure) and resolve every sym_ pointer.
   Idempotent and thread-safe: the first call loads, later ones return its result.  The
   library stays loaded for the life of the process.  Call it before entering the
   extraction sandbox, whose seccomp filter is not meant to allow mapping new code
   (ocip_load does).  Returns 0, or -ENOENT (no such library) / -ENOSYS (a function
   missing: a libarchive older than configure required) with ERR set.  */
int ocip_libarchive_load (ocip_error_t *err);

#endif
