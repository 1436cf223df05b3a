/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LVM2: physical volumes, the volume groups they form and their logical
 * volumes as volume maps.
 *
 * On-disk facts (lvm2 lib/format_text/layout.h, format_text.c; libvslvm
 * docs; docs/volumes-format.md §3).  All little-endian.
 * - Label in one of sectors 0-3: "LABELONE" at 0, u64 sector number of
 *   itself at 8, u32 CRC at 16 over bytes 20-511, u32 offset of the
 *   pv_header at 20, "LVM2 001" at 24.
 * - pv_header: PV UUID (32 chars, no dashes), u64 device size, then a
 *   zero-terminated list of data areas {u64 offset, u64 size} and one of
 *   metadata areas, all inside the label sector.
 * - mda_header (512 bytes at a metadata area's offset): u32 CRC over
 *   bytes 4-511, magic " LVM2 x[5A%r0N*>", u32 version 1, u64 start
 *   (== the area offset), u64 area size, raw_locn[0] = {u64 offset
 *   (relative to the area), u64 size, u32 text CRC, u32 flags (1 =
 *   ignored)}.  Text past the area end wraps to area start + 512.
 * - CRCs: lvm2's calc_crc (crc32.h vdk__vol_crc32_lvm).
 * - The copy with the highest seqno among all PVs of a VG wins.
 * - Text: extent_size in sectors; pvN { id, pe_start (sectors) };
 *   LVs with segments: "striped" (stripe_count 1 = linear), "mirror"
 *   (mirrors = [sub-LV, LE, ...]), "raid1" and "raid5"/"raid5_ls" (raids
 *   = [rmeta, rimage, ...]), "raid0" (raid0_lvs = [rimage, ...]) and
 *   "raid0_meta".  Other segment types (thin, cache, raid4/6/10, other
 *   raid5 layouts, snapshots, ...) are listed but not readable, with the
 *   reason in `problem`.  Without device-mapper here, the raid0/raid5
 *   mappings follow md's documented layouts and are checked only against
 *   data we place ourselves (tests/mount/test-lvm.sh).
 * Mapping: PV byte = PV start + pe_start*512 + pe*E (E = extent bytes).
 * Damaged labels or metadata produce warnings, never a failed scan. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "mount-internal.h"

#define MDA_MAGIC " LVM2 x[5A%r0N*>"
/* LVM's own default limit for metadata text is 1 MiB per copy
 * (metadata/metadata_area_size can raise the area, but real text stays
 * far below); 16 MiB bounds what a hostile header can make us read. */
#define MAX_TEXT (16u << 20)
/* Sub-LV references nest two levels in practice (mirror -> mimage). */
#define MAX_LV_DEPTH 4
/* Map nodes (LV references and PV leaves) one scan may build over all
 * its VGs.  Nested mirror/raid images multiply: F images per level give
 * F^4 leaves at depth 4, so a few KiB of text could ask for gigabytes.
 * Real VGs need a few per LV; 65536 nodes cost under 10 MiB
 * (docs/security.md). */
#define MAX_MAP_NODES 65536

struct pv {
  char uuid[33];         /* without dashes */
  int disk;              /* set index */
  uint64_t base, size;   /* PV position on the disk */
};

struct vg_text {
  const char *id;        /* VG UUID (its name if the text has none) */
  char *name;
  int64_t seqno;
  struct vdk__vol_lv *tree;    /* root section */
  const struct vdk__vol_lv *vg; /* the VG section in it */
};

struct lvm_state {
  struct pv *pvs;
  size_t npvs;
  struct vg_text *vgs;
  size_t nvgs;
  size_t map_nodes;      /* built so far, capped at MAX_MAP_NODES */
};

/* ---- labels and metadata areas --------------------------------------- */

static int read_mda (struct vdk_diskset *set, struct lvm_state *st,
                     const struct pv *pv, uint64_t off, uint64_t size);

static int
add_pv (struct lvm_state *st, const struct pv *pv)
{
  struct pv *p = realloc (st->pvs, (st->npvs + 1) * sizeof *p);

  if (!p)
    return vdk__err (ENOMEM, "out of memory");
  st->pvs = p;
  p[st->npvs++] = *pv;
  return 0;
}

/* Decode the pv_header in the label sector; then read the metadata. */
static int
decode_pv (struct vdk_diskset *set, struct lvm_state *st, struct pv *pv,
           const uint8_t *sec, const char *where)
{
  uint32_t hoff = le32_get (sec + 20);
  uint64_t mda_off[8], mda_size[8];
  size_t nmda = 0;
  const uint8_t *p;
  int list = 0;

  if (hoff < 32 || hoff > SECTOR - 48) {
    vdk__vol_warn (set, "%s: LVM2 label: pv_header offset %u out of range", where,
             hoff);
    return 0;
  }
  memcpy (pv->uuid, sec + hoff, 32);
  pv->uuid[32] = 0;
  /* Walk the two zero-terminated lists; both must end in the sector. */
  for (p = sec + hoff + 40; p + 16 <= sec + SECTOR; p += 16) {
    uint64_t o = le64_get (p), s = le64_get (p + 8);
    if (o == 0 && s == 0) {
      if (++list == 2)
        break;
      continue;
    }
    if (list == 1 && nmda < ARRAY_SIZE (mda_off)) {
      mda_off[nmda] = o;
      mda_size[nmda++] = s;
    }
  }
  if (list != 2) {
    vdk__vol_warn (set, "%s: LVM2 label: area lists do not end in the label "
             "sector", where);
    return 0;
  }
  if (add_pv (st, pv) == -1)
    return -1;
  for (size_t i = 0; i < nmda; i++)
    if (read_mda (set, st, pv, mda_off[i], mda_size[i]) == -1)
      return -1;
  return 0;
}

/* Look for a label in sectors 0-3 of [base, base+size) on disk d. */
static int
probe_pv (struct vdk_diskset *set, struct lvm_state *st, size_t d,
          uint64_t base, uint64_t size, const char *where, bool *found)
{
  uint8_t buf[4 * SECTOR];
  struct pv pv = { .disk = (int) d, .base = base, .size = size };

  *found = false;
  if (size < 8 * SECTOR)
    return 0;
  if (vdk__vol_read (set, d, buf, sizeof buf, base) == -1)
    return -1;
  for (int s = 0; s < 4; s++) {
    const uint8_t *sec = buf + s * SECTOR;
    if (memcmp (sec, "LABELONE", 8) != 0 || memcmp (sec + 24, "LVM2 001", 8))
      continue;
    if (le64_get (sec + 8) != (uint64_t) s) {
      vdk__vol_warn (set, "%s: LVM2 label in sector %d names sector %" PRIu64
               "; ignored", where, s, le64_get (sec + 8));
      continue;
    }
    if (vdk__vol_crc32_lvm (sec + 20, SECTOR - 20) != le32_get (sec + 16)) {
      vdk__vol_warn (set, "%s: LVM2 label CRC mismatch; ignored", where);
      continue;
    }
    *found = true;
    return decode_pv (set, st, &pv, sec, where);
  }
  return 0;
}

/* Read the committed text of one metadata area into st->vgs. */
static int
read_text (struct vdk_diskset *set, const struct pv *pv, uint64_t area,
           uint64_t asize, const uint8_t *loc, char **text, size_t *len)
{
  uint64_t off = le64_get (loc), size = le64_get (loc + 8), first;
  char *t;

  if (off < SECTOR || off >= asize || size == 0 || size > MAX_TEXT
      || size > asize - SECTOR)
    return 1;
  t = malloc (size + 1);
  if (!t)
    return vdk__err (ENOMEM, "out of memory");
  first = MIN (size, asize - off);   /* wraps to area + 512 past the end */
  if (vdk__vol_read (set, (size_t) pv->disk, t, first, area + off) == -1
      || (first < size && vdk__vol_read (set, (size_t) pv->disk, t + first,
                                   size - first, area + SECTOR) == -1)) {
    free (t);
    return -1;
  }
  if (vdk__vol_crc32_lvm (t, size) != le32_get (loc + 16)) {
    free (t);
    return 2;
  }
  t[size] = 0;
  *text = t;
  *len = size;
  return 0;
}

static int
keep_text (struct vdk_diskset *set, struct lvm_state *st, char *text,
           size_t len, const char *where)
{
  struct vdk__vol_lv *tree = vdk__vol_lvtext_parse (text, len);
  const struct vdk__vol_lv *vg = NULL;
  struct vg_text *v;

  if (!tree) {
    vdk__vol_warn (set, "%s: LVM2 metadata ignored: %s", where, vdk_last_error ());
    return 0;
  }
  for (const struct vdk__vol_lv *c = tree->child; c && !vg; c = c->next)
    if (c->type == VOL_LV_SECTION && vdk__vol_lv_int (c, "seqno") >= 0)
      vg = c;
  if (!vg) {
    vdk__vol_warn (set, "%s: LVM2 metadata has no volume group section", where);
    vdk__vol_lvtext_free (tree);
    return 0;
  }
  /* Copies of one VG share its id; two VGs may share a name (disks of
   * two machines made from one installer). */
  const char *id = vdk__vol_lv_str (vg, "id") ? vdk__vol_lv_str (vg, "id") : vg->key;
  for (size_t i = 0; i < st->nvgs; i++)
    if (strcmp (st->vgs[i].id, id) == 0) {
      if (st->vgs[i].seqno >= vdk__vol_lv_int (vg, "seqno")) {
        vdk__vol_lvtext_free (tree);
        return 0;
      }
      vdk__vol_lvtext_free (st->vgs[i].tree);
      st->vgs[i].tree = tree;
      st->vgs[i].vg = vg;
      st->vgs[i].name = vg->key;
      st->vgs[i].id = id;
      st->vgs[i].seqno = vdk__vol_lv_int (vg, "seqno");
      return 0;
    }
  v = realloc (st->vgs, (st->nvgs + 1) * sizeof *v);
  if (!v) {
    vdk__vol_lvtext_free (tree);
    return vdk__err (ENOMEM, "out of memory");
  }
  st->vgs = v;
  v[st->nvgs++] = (struct vg_text) { id, vg->key, vdk__vol_lv_int (vg, "seqno"),
                                     tree, vg };
  return 0;
}

static int
read_mda (struct vdk_diskset *set, struct lvm_state *st, const struct pv *pv,
          uint64_t off, uint64_t size)
{
  const char *dn = set->disks[pv->disk].name;
  uint8_t h[SECTOR];
  uint64_t area, asize;
  char *text = NULL;
  size_t len = 0;
  int r;

  if (ADD_OVERFLOW (pv->base, off, &area) || size < 2 * SECTOR
      || off > pv->size || size > pv->size - off) {
    vdk__vol_warn (set, "%s: LVM2 metadata area %" PRIu64 "+%" PRIu64 " lies "
             "outside the PV", dn, off, size);
    return 0;
  }
  if (vdk__vol_read (set, (size_t) pv->disk, h, SECTOR, area) == -1)
    return -1;
  if (memcmp (h + 4, MDA_MAGIC, 16) != 0
      || vdk__vol_crc32_lvm (h + 4, SECTOR - 4) != le32_get (h)) {
    vdk__vol_warn (set, "%s: LVM2 metadata header at %" PRIu64 " has a bad magic "
             "or CRC; ignored", dn, area);
    return 0;
  }
  asize = le64_get (h + 32);
  if (asize > size || asize < 2 * SECTOR || le64_get (h + 24) != off)
    asize = size;
  if (le32_get (h + 40 + 20) & 1)      /* raw_locn[0].flags IGNORED */
    return 0;
  r = read_text (set, pv, area, asize, h + 40, &text, &len);
  if (r == -1)
    return -1;
  if (r == 1 || r == 2) {
    vdk__vol_warn (set, "%s: LVM2 metadata text at %" PRIu64 " %s; ignored", dn,
             area, r == 1 ? "lies outside its area" : "fails its CRC");
    return 0;
  }
  r = keep_text (set, st, text, len, dn);
  free (text);
  return r;
}

/* ---- finding PVs ------------------------------------------------------ */

static int
find_pvs (struct vdk_diskset *set, struct lvm_state *st)
{
  bool found;
  size_t nvols = set->nvols;

  for (size_t d = 0; d < set->ndisks; d++) {
    struct vdk__vol_disk *md = &set->disks[d];
    if (md->has_table)
      continue;
    if (probe_pv (set, st, d, 0, md->size, md->name, &found) == -1)
      return -1;
    md->layout.lvm_pv = found;
  }
  for (size_t i = 0; i < nvols; i++) {
    struct vdk__vol *v = set->vols[i];
    char where[256];
    if (v->set_disk < 0 || (v->info.flags & VDK_VOLUME_CONTAINER)
        || v->info.nmembers != 1 || v->members[0].disk < 0)
      continue;
    snprintf (where, sizeof where, "%s partition %d",
              set->disks[v->set_disk].name, v->part_number);
    if (probe_pv (set, st, (size_t) v->members[0].disk, v->members[0].offset,
                  v->info.size, where, &found) == -1)
      return -1;
    if (found)
      v->info.flags |= VDK_VOLUME_CONTAINER;
  }
  return 0;
}

/* ---- building LVs ---------------------------------------------------- */

struct vg_ctx {
  struct vdk_diskset *set;
  struct lvm_state *st;
  const char *vgname;
  const struct vdk__vol_lv *pvsec, *lvsec;
  uint64_t extent;       /* bytes */
  char why[256];         /* first reason an LV cannot be mapped */
};

#define NOMAP(c, ...) (snprintf ((c)->why, sizeof (c)->why, __VA_ARGS__), \
                       (struct vdk__vol_map *) NULL)

/* The leaf for `count` extents from extent `pe` of metadata PV `name`. */
static struct vdk__vol_map *
pv_leaf (struct vg_ctx *c, const char *name, int64_t pe, uint64_t count)
{
  const struct vdk__vol_lv *p = vdk__vol_lv_get (c->pvsec, name);
  const char *id = p ? vdk__vol_lv_str (p, "id") : NULL;
  int64_t pe_start = p ? vdk__vol_lv_int (p, "pe_start") : -1;
  char uuid[64];
  size_t k = 0;
  uint64_t off, len, end;

  if (!id || pe_start < 0 || pe < 0)
    return NOMAP (c, "PV %s is not described in the metadata", name);
  if (++c->st->map_nodes > MAX_MAP_NODES)
    return NOMAP (c, "the LV maps need more than %d nodes (nested "
                  "mirror/raid images); not mapped", MAX_MAP_NODES);
  for (const char *q = id; *q && k < sizeof uuid - 1; q++)
    if (*q != '-')
      uuid[k++] = *q;
  uuid[k] = 0;
  if (MUL_OVERFLOW ((uint64_t) pe, c->extent, &off)
      || MUL_OVERFLOW (count, c->extent, &len)
      || ADD_OVERFLOW (off, (uint64_t) pe_start * SECTOR, &off)
      || ADD_OVERFLOW (off, len, &end))
    return NOMAP (c, "extent numbers of PV %s overflow", name);
  for (size_t i = 0; i < c->st->npvs; i++) {
    const struct pv *pv = &c->st->pvs[i];
    if (strcmp (pv->uuid, uuid) != 0)
      continue;
    if (end > pv->size)
      return NOMAP (c, "extents %" PRId64 "+%" PRIu64 " lie beyond the end "
                    "of PV %s", pe, count, name);
    return vdk__vol_map_leaf (pv->disk, pv->base + off, len);
  }
  return vdk__vol_map_leaf (-1, off, len);   /* PV missing from the set */
}

static struct vdk__vol_map *
seg_striped (struct vg_ctx *c, const struct vdk__vol_lv *seg, uint64_t extents)
{
  int64_t k = vdk__vol_lv_int (seg, "stripe_count");
  int64_t ssize = vdk__vol_lv_int (seg, "stripe_size");
  const struct vdk__vol_lv *l = vdk__vol_lv_get (seg, "stripes"), *it;
  struct vdk__vol_map *m;

  /* dm-stripe needs an even split; LVM caps stripes at 128. */
  if (k < 1 || k > 128 || extents % (uint64_t) k || !l
      || l->type != VOL_LV_LIST)
    return NOMAP (c, "bad striped segment (stripe_count %" PRId64 ")", k);
  it = l->child;
  if (k == 1)
    return it && it->type == VOL_LV_STR && it->next
      && it->next->type == VOL_LV_INT
      ? pv_leaf (c, it->str, it->next->num, extents)
      : NOMAP (c, "bad stripes list");
  if (ssize < 1 || (uint64_t) ssize * SECTOR > c->extent
      || !IS_POWER_OF_2 (ssize))
    return NOMAP (c, "bad stripe_size %" PRId64, ssize);
  m = vdk__vol_map_node (VOL_STRIPED, (uint64_t) ssize * SECTOR);
  for (int64_t i = 0; m && i < k; i++, it = it->next->next) {
    if (!it || it->type != VOL_LV_STR || !it->next
        || it->next->type != VOL_LV_INT) {
      vdk__vol_map_free (m);
      return NOMAP (c, "stripes list shorter than stripe_count");
    }
    if (vdk__vol_map_add (m, pv_leaf (c, it->str, it->next->num,
                                extents / (uint64_t) k)) == -1) {
      vdk__vol_map_free (m);
      return NULL;
    }
  }
  if (m && vdk__vol_map_finish (m) == -1) {
    vdk__vol_map_free (m);
    return NOMAP (c, "%s", vdk_last_error ());
  }
  return m;
}

static struct vdk__vol_map *lv_map (struct vg_ctx *c, const char *name, int depth,
                              const char **layout);

enum img_kind { IMG_MIRROR, IMG_RAID1, IMG_RAID0, IMG_RAID0_META,
                IMG_RAID5 };

/* The image (sub-LV) names of a segment, each a hidden LV:
 *   mirror:      mirrors = [image, LE, ...]  (LE must be 0)
 *   raid1/5, raid0_meta: raids = [rmeta, rimage, ...]
 *   raid0:       raid0_lvs = [rimage, ...]
 * Mirror images hold the whole segment; raid0 images 1/n of it in
 * stripe_size chunks (dm-raid0 = striping); raid5 (= raid5_ls, md's
 * left-symmetric) images 1/(n-1) plus parity.  The rimage data starts at
 * its first byte (the md superblock lives in rmeta); LVs reshaped in
 * place (which may move data_offset) are not recognised. */
static struct vdk__vol_map *
seg_images (struct vg_ctx *c, const struct vdk__vol_lv *seg, uint64_t extents,
            int kind, int depth)
{
  static const char *const keys[] = { "mirrors", "raids", "raid0_lvs",
                                      "raids", "raids" };
  const struct vdk__vol_lv *l = vdk__vol_lv_get (seg, keys[kind]);
  int type = kind <= IMG_RAID1 ? VOL_MIRROR
    : kind == IMG_RAID5 ? VOL_RAID5 : VOL_STRIPED;
  int64_t ss = vdk__vol_lv_int (seg, "stripe_size");
  bool pairs = kind != IMG_RAID0;
  struct vdk__vol_map *m;
  uint64_t data;
  size_t n;
  const char *dummy = NULL;

  /* Chunks of 4 KiB..2 GiB; md and LVM stay far inside. */
  if (type != VOL_MIRROR && (ss < 8 || ss > (1 << 22) || !IS_POWER_OF_2 (ss)))
    return NOMAP (c, "bad stripe_size %" PRId64, ss);
  if (!l || l->type != VOL_LV_LIST)
    return NOMAP (c, "segment without its image list \"%s\"", keys[kind]);
  m = vdk__vol_map_node (type, type == VOL_MIRROR ? 0 : (uint64_t) ss * SECTOR);
  for (const struct vdk__vol_lv *it = l->child; m && it && (!pairs || it->next);
       it = pairs ? it->next->next : it->next) {
    const struct vdk__vol_lv *img = kind == IMG_MIRROR || !pairs ? it : it->next;
    if (img->type != VOL_LV_STR || (kind == IMG_MIRROR && it->next->num)) {
      vdk__vol_map_free (m);
      return NOMAP (c, "unsupported image reference in \"%s\"", keys[kind]);
    }
    if (vdk__vol_map_add (m, lv_map (c, img->str, depth + 1, &dummy)) == -1) {
      vdk__vol_map_free (m);
      return c->why[0] ? NULL : NOMAP (c, "image %s: %s", img->str,
                                       vdk_last_error ());
    }
  }
  if (!m)
    return NULL;
  n = m->n;
  data = type == VOL_RAID5 ? n - 1 : type == VOL_STRIPED ? n : 1;
  if (n == 0 || (type == VOL_RAID5 && n < 3) || extents % data) {
    /* n, not m->n: the message is made after the map is freed. */
    vdk__vol_map_free (m);
    return NOMAP (c, "%zu images cannot hold %" PRIu64 " extents", n,
                  extents);
  }
  for (size_t i = 0; i < m->n; i++)
    if (m->child[i]->size != extents / data * c->extent) {
      vdk__vol_map_free (m);
      return NOMAP (c, "image %zu has the wrong size", i);
    }
  if (vdk__vol_map_finish (m) == -1) {
    vdk__vol_map_free (m);
    return NOMAP (c, "%s", vdk_last_error ());
  }
  return m;
}

static struct vdk__vol_map *
segment_map (struct vg_ctx *c, const struct vdk__vol_lv *seg, uint64_t extents,
             int depth, const char **layout)
{
  const char *type = vdk__vol_lv_str (seg, "type");

  if (!type)
    return NOMAP (c, "segment without a type");
  if (strcmp (type, "striped") == 0) {
    int64_t k = vdk__vol_lv_int (seg, "stripe_count");
    if (k > 1 || !*layout)
      *layout = k > 1 ? "striped" : "linear";
    return seg_striped (c, seg, extents);
  }
  if (strcmp (type, "mirror") == 0 || strcmp (type, "raid1") == 0) {
    *layout = "mirror";
    return seg_images (c, seg, extents, type[0] == 'r' ? IMG_RAID1
                       : IMG_MIRROR, depth);
  }
  if (strcmp (type, "raid0") == 0 || strcmp (type, "raid0_meta") == 0) {
    *layout = "striped";
    return seg_images (c, seg, extents, type[5] ? IMG_RAID0_META : IMG_RAID0,
                       depth);
  }
  if (strcmp (type, "raid5") == 0 || strcmp (type, "raid5_ls") == 0) {
    *layout = "raid5";
    return seg_images (c, seg, extents, IMG_RAID5, depth);
  }
  return NOMAP (c, "segment type \"%s\" is not supported", type);
}

static struct vdk__vol_map *
lv_map (struct vg_ctx *c, const char *name, int depth, const char **layout)
{
  const struct vdk__vol_lv *lv = vdk__vol_lv_get (c->lvsec, name);
  int64_t nseg = lv ? vdk__vol_lv_int (lv, "segment_count") : -1;
  struct vdk__vol_map *m;
  uint64_t pos = 0;

  if (depth > MAX_LV_DEPTH)
    return NOMAP (c, "LV references nest too deeply");
  if (++c->st->map_nodes > MAX_MAP_NODES)
    return NOMAP (c, "the LV maps need more than %d nodes (nested "
                  "mirror/raid images); not mapped", MAX_MAP_NODES);
  if (!lv || nseg < 1 || nseg > 10000)   /* 10000: far above real LVs */
    return NOMAP (c, "LV %s has no valid segment_count", name);
  m = vdk__vol_map_node (VOL_CONCAT, 0);
  for (int64_t i = 1; m && i <= nseg; i++) {
    char key[32];
    const struct vdk__vol_lv *seg;
    int64_t se, ec;
    snprintf (key, sizeof key, "segment%" PRId64, i);
    seg = vdk__vol_lv_get (lv, key);
    se = vdk__vol_lv_int (seg, "start_extent");
    ec = vdk__vol_lv_int (seg, "extent_count");
    if (!seg || se < 0 || ec < 1 || (uint64_t) se != pos) {
      vdk__vol_map_free (m);
      return NOMAP (c, "LV %s: %s missing or not contiguous", name, key);
    }
    if (vdk__vol_map_add (m, segment_map (c, seg, (uint64_t) ec, depth,
                                    layout)) == -1) {
      vdk__vol_map_free (m);
      return NULL;
    }
    pos += (uint64_t) ec;
  }
  if (m && vdk__vol_map_finish (m) == -1) {
    vdk__vol_map_free (m);
    return NOMAP (c, "%s", vdk_last_error ());
  }
  return m;
}

/* Extents of an LV by its segments (for the size of one we cannot map);
 * 0 if the numbers are implausible. */
static uint64_t
lv_extents (const struct vdk__vol_lv *lv)
{
  uint64_t total = 0;

  for (const struct vdk__vol_lv *s = lv->child; s; s = s->next) {
    int64_t n = s->type == VOL_LV_SECTION && strncmp (s->key, "segment", 7) == 0
      ? vdk__vol_lv_int (s, "extent_count") : 0;
    if (n > 0 && ADD_OVERFLOW (total, (uint64_t) n, &total))
      return 0;
  }
  return total > (UINT64_MAX >> 35) ? 0 : total;   /* extents <= 16 GiB */
}

static int
add_lv (struct vg_ctx *c, const struct vdk__vol_lv *lv)
{
  struct vdk__vol *v = vdk__vol_new (c->set, "lvm", "linear");
  const char *layout = NULL, *id = vdk__vol_lv_str (lv, "id");
  struct vdk__vol_map *m;

  if (!v)
    return -1;
  c->why[0] = 0;
  m = lv_map (c, lv->key, 0, &layout);
  if (layout)
    v->info.layout = layout;
  if (vdk__vol_str (v, &v->info.name, "%s/%s", c->vgname, lv->key)
      || vdk__vol_str (v, &v->info.group, "%s", c->vgname)
      || vdk__vol_str (v, &v->info.uuid, "%s", id ? id : "")
      || vdk__vol_str (v, &v->info.type_name, "LVM2 %s", v->info.layout))
    return -1;
  if (!m) {
    vdk__vol_problem (v, "%s", c->why[0] ? c->why : vdk_last_error ());
    v->info.size = lv_extents (lv) * c->extent;
    return 0;
  }
  return vdk__vol_set_map (v, m);
}

static int
build_vg (struct vdk_diskset *set, struct lvm_state *st, struct vg_text *t)
{
  struct vg_ctx c = { .set = set, .st = st, .vgname = t->name };
  int64_t es = vdk__vol_lv_int (t->vg, "extent_size");
  char display[128];

  /* Same name, different VG: "name@<first 6 of the id>" keeps LV names
   * unique and stable. */
  for (size_t i = 0; i < st->nvgs; i++)
    if (&st->vgs[i] != t && strcmp (st->vgs[i].name, t->name) == 0) {
      snprintf (display, sizeof display, "%.100s@%.6s", t->name, t->id);
      c.vgname = display;
    }

  c.pvsec = vdk__vol_lv_get (t->vg, "physical_volumes");
  c.lvsec = vdk__vol_lv_get (t->vg, "logical_volumes");
  /* LVM allows extents of 1 KiB .. 16 GiB (and must be 8 sectors+). */
  if (es < 2 || es > (1ll << 25) || !c.pvsec) {
    vdk__vol_warn (set, "LVM2 VG %s: bad extent_size or no physical_volumes; "
             "ignored", t->name);
    return 0;
  }
  c.extent = (uint64_t) es * SECTOR;
  if (!c.lvsec)
    return 0;
  for (const struct vdk__vol_lv *lv = c.lvsec->child; lv; lv = lv->next)
    if (lv->type == VOL_LV_SECTION && vdk__vol_lv_has_flag (lv, "status", "VISIBLE")
        && add_lv (&c, lv) == -1)
      return -1;
  return 0;
}

int
vdk__vol_scan_lvm (struct vdk_diskset *set)
{
  struct lvm_state st = { 0 };
  int r = find_pvs (set, &st);

  for (size_t i = 0; r == 0 && i < st.nvgs; i++)
    r = build_vg (set, &st, &st.vgs[i]);
  for (size_t i = 0; i < st.nvgs; i++)
    vdk__vol_lvtext_free (st.vgs[i].tree);
  free (st.vgs);
  free (st.pvs);
  return r;
}
