/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the maintenance operations (lib/ops: grow, shrink,
 * defrag, attach, commit, map, check).  Internal to lib/ops. */
#ifndef VDK_OPS_MAINT_H
#define VDK_OPS_MAINT_H

#include "ops/ops.h"

/* Progress over a whole operation (bytes). */
struct maint_progress {
  vdk_progress_fn fn;
  void *opaque;
  uint64_t done, total;
};
/* Report progress; -1 with ECANCELED if the callback asked to stop. */
int vdk__maint_progress (struct maint_progress *p, uint64_t add);

/* How rewrite_sparse builds the new extent. */
struct rewrite_opts {
  uint64_t new_sectors;   /* capacity of the new extent (>= the old) */
  bool drop_zero;         /* shrink: all-zero grains give their space back */
  bool has_parent;        /* the link has a parent: holes must stay holes */
  bool empty;             /* commit --drop: copy no grain at all */
  const char *desc;       /* descriptor to embed, or NULL */
  struct maint_progress *progress;
};

/* Copy the extent `old` of a REWRITABLE format (opened, format open
 * done) into a new file beside it, grains in LBA order after
 * preallocated tables, fsync it, rename it over old->path and fsync the
 * folder.  The old
 * file stays open (and unchanged) in `old` until the caller closes the
 * link.  A crash at any point leaves either the old or the new file at
 * old->path, both complete. */
int vdk__rewrite_extent (struct vdk_extent *old, const struct rewrite_opts *o);

/* Shrink (drop_zero) and defrag: rewrite every sparse extent of the
 * link at path with vdk__rewrite_extent. */
int vdk__rewrite_link (const char *path, unsigned open_flags, bool drop_zero,
                       vdk_progress_fn fn, void *opaque);

/* Open one link for maintenance: writable (exclusive locks), single
 * link, without CID check. */
/* len bytes at off of link l into buf, zeroes past its end (or for no
 * link at all): how attach and rebase compare parents (rewrite.c). */
int vdk__maint_read_clipped (struct vdk_link *l, uint8_t *buf,
                             uint64_t len, uint64_t off);
struct vdk_link *vdk__maint_open_link (const char *path, unsigned open_flags,
                                       bool readonly);

/* The (possibly embedded) descriptor of l as text; malloc'd. */
char *vdk__maint_desc_text (struct vdk_link *l);

#endif /* VDK_OPS_MAINT_H */
