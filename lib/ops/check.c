/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_check: check (and repair) every link of a disk.
 *
 * Design
 * - Each link is opened with VDK__OPEN_NO_FORMAT: its descriptor is
 *   parsed and its files opened (read-only unless repairing, with the
 *   usual locks, so a disk in use is not checked behind its writer's
 *   back), but the extent readers are not started, since they refuse
 *   exactly the damage check has to describe.  Each extent goes to its
 *   format's check (vdk__ext_check): the structural walker for sparse
 *   extents (format/sparse-check.c), the size against the descriptor
 *   for flat ones, the format's own reader over every byte otherwise.
 * - The chain is followed through parentFileNameHint; a parent whose CID
 *   differs from the child's parentCID is a problem (repair does not
 *   guess which side is right).
 * - The report lists problems (file, text, repairable, repaired), the
 *   exact changes repair made, and notes that are not corruption (leaked
 *   space after a crash).
 * - Progress (vdk_check_ex) counts the bytes of the extents checked, of
 *   the sum over the chain, which a first walk of the chain (descriptors
 *   only) adds up; it moves once per extent. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <unistd.h>

#include "maint.h"

#define MAX_CHAIN 255

struct rep {
  struct vdk_check_report *r;
  const char *file;
  int failed;            /* out of memory while reporting */
  vdk_progress_fn progress;
  void *opaque;
  uint64_t done, total;  /* bytes of extents checked, of the chain */
};

static char *
dup_line (const char *file, const char *text)
{
  size_t n = strlen (file) + strlen (text) + 3;
  char *s = malloc (n);
  if (s)
    snprintf (s, n, "%s: %s", file, text);
  return s;
}

static void
add_problem (void *ctx, int repairable, int repaired, const char *text)
{
  struct rep *p = ctx;
  struct vdk_check_report *r = p->r;
  struct vdk_check_item **n = realloc (r->problems,
                                       (r->nproblems + 1) * sizeof *n);
  struct vdk_check_item *it;
  if (n)
    r->problems = n;
  if (!n || !(it = calloc (1, sizeof *it))) {
    p->failed = 1;
    return;
  }
  n[r->nproblems++] = it;
  *it = (struct vdk_check_item) {
    strdup (p->file), strdup (text), repairable, repaired,
  };
  if (!it->file || !it->what)
    p->failed = 1;
}

static void
add_line (struct rep *p, char ***arr, size_t *n, const char *text)
{
  char **a = realloc (*arr, (*n + 1) * sizeof *a);
  if (!a || !(a[*n] = dup_line (p->file, text))) {
    if (a)
      *arr = a;
    p->failed = 1;
    return;
  }
  *arr = a;
  (*n)++;
}

static void
add_change (void *ctx, const char *text)
{
  struct rep *p = ctx;
  add_line (p, &p->r->changes, &p->r->nchanges, text);
}

static void
add_note (void *ctx, const char *text)
{
  struct rep *p = ctx;
  add_line (p, &p->r->notes, &p->r->nnotes, text);
}

/* NAME.vdk-new-XXXXXX beside an extent is what an interrupted shrink,
 * defrag or grow left (ops/rewrite.c): never in use once the link is
 * ours (we hold its lock), so repair removes it. */
static void
leftovers (struct rep *p, struct vdk_extent *e, bool repair)
{
  size_t n = strlen (e->path) + 16;
  CLEANUP_FREE char *pat = malloc (n);
  char msg[768];
  glob_t g;

  if (!pat)
    return;
  snprintf (pat, n, "%s.vdk-new-*", e->path);
  for (char *c = pat; *c && c < pat + strlen (e->path); c++)
    if (*c == '*' || *c == '?' || *c == '[')
      return;                     /* a name glob would misread */
  if (glob (pat, GLOB_NOSORT, NULL, &g) != 0)
    return;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    if (repair && vdk__fs_unlink (g.gl_pathv[i]) == 0) {
      snprintf (msg, sizeof msg, "removed %s, left by an interrupted "
                "rewrite", g.gl_pathv[i]);
      add_change (p, msg);
    } else {
      snprintf (msg, sizeof msg, "%s is left over from an interrupted "
                "shrink, defrag or grow (repair removes it)", g.gl_pathv[i]);
      add_note (p, msg);
    }
  }
  globfree (&g);
}

static int
check_extents (struct rep *p, struct vdk_link *l, bool repair)
{
  struct vdk_check_sink sink = { p, add_problem, add_change, add_note };
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    int r = 0;
    if (e->access == VDK_ACCESS_NOACCESS) {
      /* Not damage repair could mend: the disk lacks the data. */
      char msg[768];
      snprintf (msg, sizeof msg, "extent \"%s\" is NOACCESS: its %" PRIu64
                " bytes at disk offset %" PRIu64 " cannot be read",
                e->name, e->length, e->start);
      p->file = l->path;
      add_problem (p, 0, 0, msg);
      continue;
    }
    if (!e->io)
      continue;
    p->file = e->path;
    r = vdk__ext_check (e, repair, &sink);
    if (r == -1)
      return -1;
    if (!vdk__ext_can (e, VDK_FMT_PREALLOCATED))
      leftovers (p, e, repair);
    p->done += e->length;
    if (p->progress
        && p->progress (p->opaque, MIN (p->done, p->total), p->total))
      return vdk__err (ECANCELED, "%s: check cancelled", l->path);
  }
  return 0;
}

static struct vdk_link *
open_raw_link (const char *path, unsigned open_flags, bool repair)
{
  unsigned f = VDK__OPEN_NO_FORMAT | VDK_OPEN_SINGLE_LINK
    | (open_flags & (VDK_OPEN_ALLOW_EXTERNAL | VDK__OPEN_FORMATS
                     | VDK__OPEN_PARENT))
    | (repair ? 0 : VDK_OPEN_READ_ONLY);
  return vdk__link_open (path, f);
}

/* Links opened without their format must not be flushed on close. */
static void
close_raw_link (struct vdk_link *l)
{
  if (l)
    l->readonly = true;
  vdk__link_close (l, NULL);
}

/* The parent of l, opened without format; NULL with *err set (a
 * problem, reported) or without (no parent). */
static struct vdk_link *
open_parent (struct rep *p, struct vdk_link *l, unsigned open_flags,
             bool repair, bool *err)
{
  const char *hint = l->desc ? vdk__desc_get (l->desc, "parentFileNameHint")
    : NULL;
  CLEANUP_FREE char *pp = NULL;
  struct vdk_link *pl;
  char msg[512];
  uint32_t want, have;

  *err = false;
  if (!hint)
    return NULL;
  p->file = l->path;
  pp = vdk__path_resolve (l->dir, hint, open_flags & VDK_OPEN_ALLOW_EXTERNAL);
  if (!pp && vdk_last_errno () == EACCES)   /* as chain.c: try the base name */
    pp = vdk__path_resolve (l->dir, vdk__path_base (hint), false);
  /* a format given by the caller names the top link, not its parents */
  pl = pp ? open_raw_link (pp, (open_flags & ~VDK__OPEN_FORMATS)
                           | VDK__OPEN_PARENT, repair)
    : NULL;
  if (!pl) {
    snprintf (msg, sizeof msg, "cannot open the parent \"%s\": %s", hint,
              vdk_last_error ());
    add_problem (p, 0, 0, msg);
    *err = true;
    return NULL;
  }
  want = vdk__desc_cid (l->desc, "parentCID");
  have = pl->desc ? vdk__desc_cid (pl->desc, "CID") : UINT32_MAX;
  if (want != UINT32_MAX && want != have) {
    snprintf (msg, sizeof msg, "chain CID mismatch: parentCID is %08x but "
              "the parent %s has CID %08x", want, pl->path, have);
    add_problem (p, 0, 0, msg);
  }
  return pl;
}

/* Bytes of the extents of every link, for progress; a link that cannot
 * be opened ends the sum (the real walk reports it). */
static uint64_t
chain_total (const char *path, unsigned open_flags)
{
  struct vdk_link *l = open_raw_link (path, open_flags, false);
  uint64_t total = 0;

  for (int depth = 0; l && depth < MAX_CHAIN; depth++) {
    const char *hint = l->desc
      ? vdk__desc_get (l->desc, "parentFileNameHint") : NULL;
    CLEANUP_FREE char *pp = NULL;
    struct vdk_link *next = NULL;

    for (size_t i = 0; i < l->nextents; i++)
      total += l->extents[i].length;
    if (hint)
      pp = vdk__path_resolve (l->dir, hint,
                              open_flags & VDK_OPEN_ALLOW_EXTERNAL);
    if (!pp && hint)
      pp = vdk__path_resolve (l->dir, vdk__path_base (hint), false);
    if (pp)
      next = open_raw_link (pp, (open_flags & ~VDK__OPEN_FORMATS)
                            | VDK__OPEN_PARENT, false);
    close_raw_link (l);
    l = next;
  }
  close_raw_link (l);
  return total;
}

static int
check_chain (struct rep *p, const char *path, unsigned flags,
             unsigned open_flags)
{
  bool repair = flags & VDK_CHECK_REPAIR, err;
  struct vdk_link *l = open_raw_link (path, open_flags, repair), *next;
  int r = 0;

  if (!l)
    return -1;
  for (int depth = 0; l && r == 0; depth++) {
    if (depth >= MAX_CHAIN) {
      p->file = l->path;
      add_problem (p, 0, 0, "chain deeper than 255 links (a loop?)");
      break;
    }
    r = check_extents (p, l, repair);
    next = r == 0 ? open_parent (p, l, open_flags, repair, &err) : NULL;
    close_raw_link (l);
    l = next;
  }
  close_raw_link (l);
  return r;
}

/* A remote disk: its structures are the server's to check (it reads
 * them through its own checks); what a client can check is that every
 * byte of the export can be read.  Repair would need the files. */
#define REMOTE_CHUNK (4u << 20)
static int
check_remote (struct rep *p, const char *path, unsigned flags,
              unsigned open_flags)
{
  vdk_disk *d;
  uint8_t *buf;
  uint64_t cap;
  int r = 0;
  char msg[512];

  if (flags & VDK_CHECK_REPAIR)
    return vdk__errc (VDK_E_NOT_SUPPORTED_BY_TRANSPORT, ENOTSUP, "%s: "
                      "repair is not supported by this transport: repair "
                      "on the server", path);
  if (!(d = vdk__remote_open (path, NULL, open_flags | VDK_OPEN_READ_ONLY)))
    return -1;
  cap = d->top->capacity;
  if (!(buf = malloc (REMOTE_CHUNK)))
    r = vdk__err (ENOMEM, "out of memory");
  for (uint64_t off = 0; r == 0 && off < cap; off += REMOTE_CHUNK) {
    uint64_t n = MIN (REMOTE_CHUNK, cap - off);
    if (vdk__link_pread (d->top, buf, n, off) == -1) {
      snprintf (msg, sizeof msg, "%s", vdk_last_error ());
      add_problem (p, 0, 0, msg);
      break;
    }
  }
  if (r == 0) {
    snprintf (msg, sizeof msg, "remote disk (%s): every byte could be read; "
              "its structures are checked on the server", d->transport);
    add_note (p, msg);
  }
  free (buf);
  {
    bool failed;
    vdk__disk_free (d, &failed);
  }
  return r;
}

VDK_API int
vdk_check (const char *path, unsigned flags, unsigned open_flags,
           struct vdk_check_report **report)
{
  struct vdk_check_params p = VDK_CHECK_PARAMS_INIT;

  vdk__set_call ("vdk_check");
  p.flags = flags;
  p.open_flags = open_flags;
  return vdk_check_ex (path, &p, report);
}

VDK_API int
vdk_check_ex (const char *path, const struct vdk_check_params *params,
              struct vdk_check_report **report)
{
  struct rep p = { .file = path };
  unsigned flags, open_flags;

  vdk__set_call ("vdk_check_ex");
  if (!report)
    return vdk__err (EINVAL, "no report pointer");
  if (vdk__check_version ("check", params, params ? params->version : 0,
                          VDK_CHECK_PARAMS_VERSION) == -1)
    return -1;
  flags = params->flags, open_flags = params->open_flags;
  p.progress = params->progress, p.opaque = params->opaque;
  *report = NULL;
  if (!path || !*path)
    return vdk__err (EINVAL, "no file name");
  if (vdk__check_open_flags (open_flags) == -1)
    return -1;
  if (vdk__check_flags ("check", flags, VDK__CHECK_FLAGS) == -1)
    return -1;
  if (!(p.r = calloc (1, sizeof *p.r)))
    return vdk__err (ENOMEM, "out of memory");
  if (p.progress && !vdk__remote_name (path))
    p.total = chain_total (path, open_flags);
  if ((vdk__remote_name (path) ? check_remote (&p, path, flags, open_flags)
       : check_chain (&p, path, flags, open_flags)) == -1 || p.failed) {
    if (p.failed)
      vdk__err (ENOMEM, "out of memory");
    vdk_free_check_report (p.r);
    return -1;
  }
  *report = p.r;
  return 0;
}

VDK_API void
vdk_free_check_report (struct vdk_check_report *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->nproblems; i++) {
    free (r->problems[i]->file), free (r->problems[i]->what);
    free (r->problems[i]);
  }
  for (size_t i = 0; i < r->nchanges; i++)
    free (r->changes[i]);
  for (size_t i = 0; i < r->nnotes; i++)
    free (r->notes[i]);
  free (r->problems), free (r->changes), free (r->notes);
  free (r);
}
