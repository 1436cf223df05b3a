/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Windows LDM (dynamic disks): PRIVHEAD, TOCBLOCK, VMDB and VBLK
 * records, resolved into volumes.
 *
 * On-disk facts (docs/volumes-format.md §4; checked against
 * the Windows 2003 R2 / 2008 R2 images in tests/data/ldm).  Every
 * number is BIG-endian.
 * - PRIVHEAD: sector 6 of an MBR dynamic disk (MBR slot 1 type 0x42;
 *   a copy sits in the disk's last sector and is used when sector 6 is
 *   damaged), or the last sector of the GPT "LDM metadata" partition.  "PRIVHEAD" at
 *   0; disk GUID (ASCII) at 48, disk group GUID at 176, group name at
 *   240; u64 logical_disk_start at 283 and size at 291 (sectors, the
 *   public region); u64 ldm_config_start at 299 and size at 307.
 * - TOCBLOCK at config start + 2 sectors: "TOCBLOCK", two 34-byte
 *   entries at 36 and 70: name[8] ("config"/"log"), u16 flags, u64
 *   start (sectors from config start), u64 size, u64 flags.
 * - VMDB at the "config" start: "VMDB", u32 vblk_last at 4, u32 vblk
 *   size at 8, u32 first-VBLK offset at 12, group name at 22, group GUID
 *   at 53, u64 committed seq at 117, committed counts of volume,
 *   component, partition and disk records (u32 each) at 133.
 * - VBLKs back to back from VMDB + first offset while "VBLK" matches:
 *   u32 seq, u32 record id, u16 entry, u16 entries total; a record of
 *   several entries is the concatenation of their (size - 16)-byte
 *   payloads in entry order.  Record: u16 status, u8 flags, u8 type
 *   (low nibble type, high nibble revision), u32 size, then fields.
 *   var-int = length byte + big-endian bytes; var-string = length byte
 *   + bytes.  Field layouts are in the parse_* functions below.
 * - Partition start is in sectors from the owning disk's
 *   logical_disk_start; volume offset orders spanned partitions; index
 *   orders stripe/RAID columns.  RAID-5 is left-symmetric (map.c).
 *
 * Each disk carries the whole group's database; the copy with the
 * highest committed sequence is used.  Damage anywhere makes the group
 * (or the volume) unusable with a warning, never a failed scan. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount-internal.h"

/* Windows writes a 1 MiB database; 64 MiB bounds a hostile size. */
#define MAX_CONFIG (64u << 20)
/* Records are a few hundred bytes; 64 entries of any size is plenty. */
#define MAX_ENTRIES 64
/* A disk group holds at most a few thousand objects. */
#define MAX_RECORDS 65536

struct ldm_disk {         /* one dynamic disk of the set */
  size_t set_disk;
  char guid[37], dg_guid[37];
  uint64_t data_start;    /* bytes: logical_disk_start * 512 */
  uint64_t config_start, config_size;  /* bytes */
  uint64_t seq;
};

struct rec_vol { uint32_t id, ncomps; uint8_t type, part_type;
  uint64_t size; char name[256], guid[37]; };
struct rec_comp { uint32_t id, parent, nparts, ncols; uint8_t type;
  uint64_t chunk; };
struct rec_part { uint32_t id, parent, disk_id, index; uint64_t start,
  vol_off, size; char name[256]; };
struct rec_disk { uint32_t id; char name[256], guid[37]; };

struct ldm_db {
  char dg_name[256], dg_guid[37];
  uint64_t seq;           /* VMDB committed sequence */
  struct rec_vol *vols; size_t nvols;
  struct rec_comp *comps; size_t ncomps;
  struct rec_part *parts; size_t nparts;
  struct rec_disk *disks; size_t ndisks;
};

/* ---- byte cursor ------------------------------------------------------ */

struct cur {
  const uint8_t *p, *end;
  bool bad;
};

static uint8_t
get_u8 (struct cur *c)
{
  if (c->p >= c->end) {
    c->bad = true;
    return 0;
  }
  return *c->p++;
}

static void
skip (struct cur *c, size_t n)
{
  if ((size_t) (c->end - c->p) < n) {
    c->bad = true;
    c->p = c->end;
  }
  else
    c->p += n;
}

static uint64_t
get_be64 (struct cur *c)
{
  uint64_t v = 0;

  for (int i = 0; i < 8; i++)
    v = (v << 8) | get_u8 (c);
  return v;
}

static uint64_t
get_varint (struct cur *c, unsigned maxlen)
{
  unsigned len = get_u8 (c);
  uint64_t v = 0;

  if (len > maxlen) {
    c->bad = true;
    return 0;
  }
  while (len--)
    v = (v << 8) | get_u8 (c);
  return v;
}

static void
get_varstr (struct cur *c, char *out, size_t outlen)
{
  unsigned len = get_u8 (c);
  size_t n = MIN ((size_t) len, outlen - 1);

  if ((size_t) (c->end - c->p) < len) {
    c->bad = true;
    out[0] = 0;
    return;
  }
  memcpy (out, c->p, n);
  out[n] = 0;
  c->p += len;
}

static void
guid_text (const uint8_t g[16], char out[37])
{
  snprintf (out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
            "%02x%02x%02x%02x%02x%02x", g[0], g[1], g[2], g[3], g[4], g[5],
            g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* ASCII GUID field to lower case, 36 characters. */
static bool
guid_ascii (const uint8_t *s, size_t max, char out[37])
{
  size_t i;

  for (i = 0; i < 36 && i < max && s[i]; i++)
    out[i] = (char) (s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
  out[i] = 0;
  return i == 36;
}

/* ---- records ---------------------------------------------------------- */

#define GROW(arr, n) \
  ((n) % 16 == 0 \
   ? (void *) ((arr) = realloc_or_free ((arr), ((n) + 16) * sizeof *(arr))) \
   : (void *) (arr))

static void *
realloc_or_free (void *p, size_t size)
{
  void *q = realloc (p, size);
  if (!q)
    free (p);
  return q;
}

/* Volume (type 1, rev 5). */
static int
parse_vol (struct ldm_db *db, struct cur *c, unsigned flags)
{
  struct rec_vol v = { 0 };
  char tmp[256];

  v.id = (uint32_t) get_varint (c, 4);
  get_varstr (c, v.name, sizeof v.name);
  get_varstr (c, tmp, sizeof tmp);            /* "gen" / "raid5" */
  get_varstr (c, tmp, sizeof tmp);            /* unknown */
  skip (c, 14);                               /* state */
  v.type = get_u8 (c);                        /* 3 gen, 4 raid5 */
  skip (c, 1 + 1 + 3 + 1);                    /* ?, number, 0, flags */
  v.ncomps = (uint32_t) get_varint (c, 4);
  skip (c, 16);                               /* commit id, id */
  v.size = get_varint (c, 8);
  skip (c, 4);
  v.part_type = get_u8 (c);
  if ((size_t) (c->end - c->p) < 16)
    c->bad = true;
  else
    guid_text (c->p, v.guid);
  (void) flags;                               /* id1/id2/size2/hint unused */
  if (c->bad)
    return 1;
  if (!GROW (db->vols, db->nvols))
    return -1;
  db->vols[db->nvols++] = v;
  return 0;
}

/* Component (type 2, rev 3). */
static int
parse_comp (struct ldm_db *db, struct cur *c, unsigned flags)
{
  struct rec_comp m = { 0 };
  char tmp[256];

  m.id = (uint32_t) get_varint (c, 4);
  get_varstr (c, tmp, sizeof tmp);            /* name */
  get_varstr (c, tmp, sizeof tmp);            /* state */
  m.type = get_u8 (c);                        /* 1 stripe, 2 span, 3 raid */
  skip (c, 4);
  m.nparts = (uint32_t) get_varint (c, 4);
  skip (c, 16);                               /* log commit id, zeroes */
  m.parent = (uint32_t) get_varint (c, 4);
  skip (c, 1);
  if (flags & 0x10) {
    m.chunk = get_varint (c, 8);
    m.ncols = (uint32_t) get_varint (c, 4);
  }
  if (c->bad)
    return 1;
  if (!GROW (db->comps, db->ncomps))
    return -1;
  db->comps[db->ncomps++] = m;
  return 0;
}

/* Partition (type 3, rev 3). */
static int
parse_part (struct ldm_db *db, struct cur *c, unsigned flags)
{
  struct rec_part p = { 0 };

  p.id = (uint32_t) get_varint (c, 4);
  get_varstr (c, p.name, sizeof p.name);
  skip (c, 4 + 8);                            /* zeroes, log commit id */
  p.start = get_be64 (c);
  p.vol_off = get_be64 (c);
  p.size = get_varint (c, 8);
  p.parent = (uint32_t) get_varint (c, 4);
  p.disk_id = (uint32_t) get_varint (c, 4);
  if (flags & 0x08)
    p.index = (uint32_t) get_varint (c, 4);
  if (c->bad)
    return 1;
  if (!GROW (db->parts, db->nparts))
    return -1;
  db->parts[db->nparts++] = p;
  return 0;
}

/* Disk (type 4): rev 3 holds the GUID as text, rev 4 as 16 bytes. */
static int
parse_disk (struct ldm_db *db, struct cur *c, unsigned rev)
{
  struct rec_disk d = { 0 };
  char tmp[256];

  d.id = (uint32_t) get_varint (c, 4);
  get_varstr (c, d.name, sizeof d.name);
  if (rev == 3) {
    get_varstr (c, tmp, sizeof tmp);
    if (!guid_ascii ((const uint8_t *) tmp, sizeof tmp, d.guid))
      c->bad = true;
  }
  else if ((size_t) (c->end - c->p) >= 16)
    guid_text (c->p, d.guid);
  else
    c->bad = true;
  if (c->bad)
    return 1;
  if (!GROW (db->disks, db->ndisks))
    return -1;
  db->disks[db->ndisks++] = d;
  return 0;
}

/* One whole record; 1 if it is malformed. */
static int
parse_record (struct ldm_db *db, const uint8_t *rec, size_t len)
{
  struct cur c = { rec + 8, rec + len, len < 8 };
  unsigned flags, type, rev;

  if (len < 8)
    return 1;
  flags = rec[2];
  type = rec[3] & 0x0F;
  rev = rec[3] >> 4;
  switch (type) {
  case 0:
    return 0;                                 /* blank */
  case 1:
    return rev == 5 ? parse_vol (db, &c, flags) : 1;
  case 2:
    return rev == 3 ? parse_comp (db, &c, flags) : 1;
  case 3:
    return rev == 3 ? parse_part (db, &c, flags) : 1;
  case 4:
    return rev == 3 || rev == 4 ? parse_disk (db, &c, rev) : 1;
  case 5: {
    char tmp[256];
    get_varint (&c, 4);
    get_varstr (&c, tmp, sizeof tmp);
    if (!c.bad)
      snprintf (db->dg_name, sizeof db->dg_name, "%s", tmp);
    return c.bad;
  }
  default:
    return 1;
  }
}

/* ---- the VBLK stream -------------------------------------------------- */

struct frag_rec {
  uint32_t record_id;
  unsigned total, found;
  uint8_t *data;
};

static void
db_free (struct ldm_db *db)
{
  free (db->vols);
  free (db->comps);
  free (db->parts);
  free (db->disks);
  memset (db, 0, sizeof *db);
}

/* Store one fragment; parse the record when it is complete. */
static int
add_fragment (struct ldm_db *db, struct frag_rec **frags, size_t *nfrags,
              const uint8_t *vb, size_t payload)
{
  uint32_t id = be32_get (vb + 8);
  unsigned entry = (vb[12] << 8) | vb[13], total = (vb[14] << 8) | vb[15];
  struct frag_rec *f = NULL;

  if (total > MAX_ENTRIES || entry >= total)
    return 1;
  for (size_t i = 0; i < *nfrags; i++)
    if ((*frags)[i].record_id == id)
      f = &(*frags)[i];
  if (!f) {
    if (!GROW (*frags, *nfrags))
      return -1;
    f = &(*frags)[(*nfrags)++];
    f->record_id = id;
    f->total = total;
    f->found = 0;
    f->data = calloc (total, payload);
    if (!f->data)
      return -1;
  }
  if (f->total != total)
    return 1;
  memcpy (f->data + (size_t) entry * payload, vb + 16, payload);
  if (++f->found == total)
    return parse_record (db, f->data, (size_t) total * payload);
  return 0;
}

static int
walk_vblks (struct ldm_db *db, const uint8_t *p, size_t len,
            uint32_t vblk_size, const char **why)
{
  struct frag_rec *frags = NULL;
  size_t nfrags = 0, n = 0;
  size_t payload = vblk_size - 16;
  int r = 0;

  for (size_t off = 0; r == 0 && off + vblk_size <= len; off += vblk_size) {
    const uint8_t *vb = p + off;
    unsigned total = (vb[14] << 8) | vb[15];
    if (memcmp (vb, "VBLK", 4) != 0)
      break;
    if (++n > MAX_RECORDS) {
      *why = "too many VBLK records";
      r = 1;
    }
    else if (total <= 1)
      r = total == 0 ? 0 : parse_record (db, vb + 16, payload);
    else
      r = add_fragment (db, &frags, &nfrags, vb, payload);
    if (r == 1 && !**why)
      *why = "malformed VBLK record";
  }
  for (size_t i = 0; i < nfrags; i++) {
    if (r == 0 && frags[i].found != frags[i].total) {
      *why = "a multi-entry VBLK record is incomplete";
      r = 1;
    }
    free (frags[i].data);
  }
  free (frags);
  if (r == -1)
    return vdk__err (ENOMEM, "out of memory");
  return r;
}

/* ---- PRIVHEAD, TOCBLOCK, VMDB ----------------------------------------- */

/* PRIVHEAD of disk d at byte `off`; 1 if absent or damaged. */
static int
read_privhead (struct vdk_diskset *set, size_t d, uint64_t off,
               struct ldm_disk *ld, const char **why)
{
  uint8_t ph[SECTOR];
  uint64_t lds, cs, csz, size = set->disks[d].size;

  if (off + SECTOR > size)
    return *why = "PRIVHEAD lies beyond the end of the disk", 1;
  if (vdk__vol_read (set, d, ph, SECTOR, off) == -1)
    return -1;
  if (memcmp (ph, "PRIVHEAD", 8) != 0)
    return *why = "no PRIVHEAD signature", 1;
  if (!guid_ascii (ph + 48, 64, ld->guid)
      || !guid_ascii (ph + 176, 64, ld->dg_guid))
    return *why = "PRIVHEAD GUIDs are not valid text", 1;
  lds = be64_get (ph + 283);
  cs = be64_get (ph + 299);
  csz = be64_get (ph + 307);
  if (lds > size / SECTOR || cs > size / SECTOR || csz > size / SECTOR
      || cs + csz > size / SECTOR || csz * SECTOR > MAX_CONFIG || csz < 4)
    return *why = "PRIVHEAD regions lie outside the disk", 1;
  ld->set_disk = d;
  ld->data_start = lds * SECTOR;
  ld->config_start = cs * SECTOR;
  ld->config_size = csz * SECTOR;
  return 0;
}

/* Locate the VMDB in the config area `cfg`; 1 if damaged. */
static int
find_vmdb (const uint8_t *cfg, size_t len, size_t *vmdb, size_t *vmdb_end,
           const char **why)
{
  const uint8_t *toc = cfg + 2 * SECTOR;

  if (memcmp (toc, "TOCBLOCK", 8) != 0)
    return *why = "no TOCBLOCK at config start + 2 sectors", 1;
  for (int i = 0; i < 2; i++) {
    const uint8_t *e = toc + 36 + 34 * i;
    uint64_t start = be64_get (e + 10), size = be64_get (e + 18);
    if (memcmp (e, "config\0", 7) != 0)
      continue;
    if (start > len / SECTOR || size > len / SECTOR - start
        || size * SECTOR < 2 * SECTOR)
      return *why = "TOCBLOCK config region lies outside the database", 1;
    *vmdb = start * SECTOR;
    *vmdb_end = (start + size) * SECTOR;
    if (memcmp (cfg + *vmdb, "VMDB", 4) != 0)
      return *why = "no VMDB where TOCBLOCK points", 1;
    return 0;
  }
  return *why = "TOCBLOCK has no config entry", 1;
}

/* Read disk ld's database and parse its records into db. */
static int
read_db (struct vdk_diskset *set, const struct ldm_disk *ld,
         struct ldm_db *db, const char **why)
{
  uint8_t *cfg = malloc (ld->config_size);
  size_t vmdb, end;
  uint32_t vsize, first;
  int r;

  if (!cfg)
    return vdk__err (ENOMEM, "out of memory");
  r = vdk__vol_read (set, ld->set_disk, cfg, ld->config_size, ld->config_start);
  if (r == 0)
    r = find_vmdb (cfg, ld->config_size, &vmdb, &end, why);
  if (r == 0) {
    const uint8_t *m = cfg + vmdb;
    vsize = be32_get (m + 8);
    first = be32_get (m + 12);
    /* VBLKs are 128 bytes in every database seen; allow 32..64 KiB. */
    if (vsize < 32 || vsize > 65536 || first < 190 || first >= end - vmdb) {
      *why = "VMDB VBLK size or first offset out of range";
      r = 1;
    }
    else {
      guid_ascii (m + 53, 64, db->dg_guid);
      db->seq = be64_get (m + 117);
      r = walk_vblks (db, m + first, end - vmdb - first, vsize, why);
    }
  }
  free (cfg);
  return r;
}

/* ---- volumes ---------------------------------------------------------- */

struct ldm_ctx {
  struct vdk_diskset *set;
  const struct ldm_db *db;
  const struct ldm_disk *lds;
  size_t nld;
  const char *dg_guid;
  char why[256];
};

#define NOMAP(c, ...) (snprintf ((c)->why, sizeof (c)->why, __VA_ARGS__), \
                       (struct vdk__vol_map *) NULL)

static struct vdk__vol_map *
part_leaf (struct ldm_ctx *c, const struct rec_part *p)
{
  const struct rec_disk *rd = NULL;
  uint64_t off, len, end;

  for (size_t i = 0; i < c->db->ndisks; i++)
    if (c->db->disks[i].id == p->disk_id)
      rd = &c->db->disks[i];
  if (!rd)
    return NOMAP (c, "partition %.64s names an unknown disk %u", p->name,
                  p->disk_id);
  if (MUL_OVERFLOW (p->size, (uint64_t) SECTOR, &len)
      || MUL_OVERFLOW (p->start, (uint64_t) SECTOR, &off))
    return NOMAP (c, "partition %.64s: size or start overflows", p->name);
  for (size_t i = 0; i < c->nld; i++) {
    const struct ldm_disk *ld = &c->lds[i];
    if (strcmp (ld->guid, rd->guid) != 0
        || strcmp (ld->dg_guid, c->dg_guid) != 0)
      continue;
    if (ADD_OVERFLOW (off, ld->data_start, &off) || ADD_OVERFLOW (off, len,
                                                                  &end)
        || end > c->set->disks[ld->set_disk].size)
      return NOMAP (c, "partition %.64s lies beyond the end of %.100s", p->name,
                    c->set->disks[ld->set_disk].name);
    return vdk__vol_map_leaf ((int) ld->set_disk, off, len);
  }
  return vdk__vol_map_leaf (-1, off, len);         /* disk not in the set */
}

static int
by_vol_off (const void *a, const void *b)
{
  const struct rec_part *x = *(const struct rec_part *const *) a;
  const struct rec_part *y = *(const struct rec_part *const *) b;
  return x->vol_off < y->vol_off ? -1 : x->vol_off > y->vol_off;
}

static int
by_index (const void *a, const void *b)
{
  const struct rec_part *x = *(const struct rec_part *const *) a;
  const struct rec_part *y = *(const struct rec_part *const *) b;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* The component's partitions as a concat (spanned) or columns. */
static struct vdk__vol_map *
comp_map (struct ldm_ctx *c, const struct rec_comp *m, int type)
{
  const struct rec_part **ps = calloc (c->db->nparts + 1, sizeof *ps);
  struct vdk__vol_map *map = NULL;
  size_t n = 0;
  uint64_t pos = 0;

  if (!ps)
    return NULL;
  /* Windows uses 64 KiB chunks; anything beyond 2^31 sectors is junk. */
  if (type != VOL_CONCAT && (m->chunk == 0 || m->chunk > (1ull << 31))) {
    free (ps);
    return NOMAP (c, "component %u has a bad chunk size %" PRIu64, m->id,
                  m->chunk);
  }
  for (size_t i = 0; i < c->db->nparts; i++)
    if (c->db->parts[i].parent == m->id)
      ps[n++] = &c->db->parts[i];
  if (n == 0 || n != m->nparts) {
    free (ps);
    return NOMAP (c, "component %u has %zu of %u partitions", m->id, n,
                  m->nparts);
  }
  qsort (ps, n, sizeof *ps, type == VOL_CONCAT ? by_vol_off : by_index);
  map = vdk__vol_map_node (type, m->chunk * SECTOR);
  for (size_t i = 0; map && i < n; i++) {
    if (type == VOL_CONCAT && ps[i]->vol_off != pos) {
      vdk__vol_map_free (map);
      map = NOMAP (c, "partition %.64s leaves a gap in the volume", ps[i]->name);
      break;
    }
    pos += ps[i]->size;
    if (vdk__vol_map_add (map, part_leaf (c, ps[i])) == -1) {
      vdk__vol_map_free (map);
      map = NULL;
    }
  }
  free (ps);
  if (map && vdk__vol_map_finish (map) == -1) {
    vdk__vol_map_free (map);
    return NOMAP (c, "%s", vdk_last_error ());
  }
  return map;
}

/* The whole volume: components are plexes (mirror) or the one layout. */
static struct vdk__vol_map *
vol_map (struct ldm_ctx *c, const struct rec_vol *v, const char **layout,
         const char **kind)
{
  const struct rec_comp *cs[8];
  struct vdk__vol_map *m;
  size_t n = 0;

  for (size_t i = 0; i < c->db->ncomps; i++)
    if (c->db->comps[i].parent == v->id && n < ARRAY_SIZE (cs))
      cs[n++] = &c->db->comps[i];
  if (n == 0 || n != v->ncomps)
    return NOMAP (c, "volume has %zu of %u components", n, v->ncomps);
  if (v->type == 4 && n == 1 && cs[0]->type == 3) {
    *layout = "raid5", *kind = "RAID-5";
    return comp_map (c, cs[0], VOL_RAID5);
  }
  if (v->type == 3 && n == 1 && cs[0]->type == 1) {
    *layout = "striped", *kind = "striped";
    return comp_map (c, cs[0], VOL_STRIPED);
  }
  for (size_t i = 0; i < n; i++)
    if (v->type != 3 || cs[i]->type != 2)
      return NOMAP (c, "unsupported volume/component types %u/%u", v->type,
                    cs[i]->type);
  if (n == 1) {
    *layout = "linear";
    *kind = cs[0]->nparts > 1 ? "spanned" : "simple";
    return comp_map (c, cs[0], VOL_CONCAT);
  }
  *layout = "mirror", *kind = "mirrored";
  m = vdk__vol_map_node (VOL_MIRROR, 0);
  for (size_t i = 0; m && i < n; i++)
    if (vdk__vol_map_add (m, comp_map (c, cs[i], VOL_CONCAT)) == -1) {
      vdk__vol_map_free (m);
      return NULL;
    }
  if (m && vdk__vol_map_finish (m) == -1) {
    vdk__vol_map_free (m);
    return NOMAP (c, "%s", vdk_last_error ());
  }
  return m;
}

static int
add_volume (struct ldm_ctx *c, const struct rec_vol *rv)
{
  struct vdk__vol *v = vdk__vol_new (c->set, "ldm", "linear");
  const char *layout = NULL, *kind = "";
  struct vdk__vol_map *m;
  uint64_t size;

  if (!v)
    return -1;
  c->why[0] = 0;
  m = vol_map (c, rv, &layout, &kind);
  if (layout)
    v->info.layout = layout;
  if (vdk__vol_str (v, &v->info.name, "%s", rv->name)
      || vdk__vol_str (v, &v->info.group, "%s", c->db->dg_name)
      || vdk__vol_str (v, &v->info.uuid, "%s", rv->guid)
      || vdk__vol_str (v, &v->info.part_type, "0x%02x", rv->part_type)
      || vdk__vol_str (v, &v->info.type_name, "LDM %s", kind))
    return -1;
  if (!m) {
    vdk__vol_problem (v, "%s", c->why[0] ? c->why : vdk_last_error ());
    if (!MUL_OVERFLOW (rv->size, (uint64_t) SECTOR, &size))
      v->info.size = size;
    return 0;
  }
  if (vdk__vol_set_map (v, m) == -1)
    return -1;
  /* The volume may be smaller than its members (rounding). */
  if (!MUL_OVERFLOW (rv->size, (uint64_t) SECTOR, &size)
      && size < v->info.size)
    v->info.size = size;
  return 0;
}

/* Use the database copy with the highest committed sequence. */
static int
scan_group (struct vdk_diskset *set, struct ldm_disk *lds, size_t nld,
            size_t first)
{
  struct ldm_db best = { 0 }, db;
  struct ldm_ctx c = { set, &best, lds, nld, lds[first].dg_guid, "" };
  bool have = false;
  int r;

  for (size_t i = first; i < nld; i++) {
    const char *why = "";
    if (strcmp (lds[i].dg_guid, lds[first].dg_guid) != 0)
      continue;
    memset (&db, 0, sizeof db);
    r = read_db (set, &lds[i], &db, &why);
    if (r == -1) {
      db_free (&db);
      db_free (&best);
      return -1;
    }
    if (r == 1) {
      vdk__vol_warn (set, "%s: LDM database ignored: %s",
               set->disks[lds[i].set_disk].name, why);
      db_free (&db);
      continue;
    }
    if (have && db.seq != best.seq)
      vdk__vol_warn (set, "%s: LDM database sequence %" PRIu64 " differs from "
               "%" PRIu64 " on another disk of the group",
               set->disks[lds[i].set_disk].name, db.seq, best.seq);
    if (!have || db.seq > best.seq) {
      db_free (&best);
      best = db;
      have = true;
    }
    else
      db_free (&db);
  }
  for (size_t i = 0; have && i < best.nvols; i++)
    if (add_volume (&c, &best.vols[i]) == -1) {
      db_free (&best);
      return -1;
    }
  db_free (&best);
  return 0;
}

int
vdk__vol_scan_ldm (struct vdk_diskset *set)
{
  struct ldm_disk *lds = calloc (set->ndisks + 1, sizeof *lds);
  size_t nld = 0;
  int r = 0;

  if (!lds)
    return vdk__err (ENOMEM, "out of memory");
  for (size_t d = 0; r == 0 && d < set->ndisks; d++) {
    struct vdk__vol_disk *md = &set->disks[d];
    const char *why = "";
    uint64_t off = md->mbr_first_type == 0x42 ? 6 * SECTOR
      : md->ldm_gpt ? md->ldm_meta_last : 0;
    if (!off)
      continue;
    r = read_privhead (set, d, off, &lds[nld], &why);
    /* MBR dynamic disks keep a PRIVHEAD copy in their last sector. */
    if (r == 1 && md->mbr_first_type == 0x42 && md->size >= 8 * SECTOR) {
      const char *why2 = "";
      r = read_privhead (set, d, md->size - SECTOR, &lds[nld], &why2);
      if (r == 0)
        vdk__vol_warn (set, "%s: LDM: PRIVHEAD in sector 6: %s; using the copy "
                 "in the last sector", md->name, why);
    }
    if (r == 1) {
      vdk__vol_warn (set, "%s: LDM: %s; dynamic disk ignored", md->name, why);
      r = 0;
    }
    else if (r == 0) {
      md->layout.ldm = 1;
      nld++;
    }
  }
  for (size_t i = 0; r == 0 && i < nld; i++) {
    bool seen = false;
    for (size_t j = 0; j < i; j++)
      seen |= strcmp (lds[j].dg_guid, lds[i].dg_guid) == 0;
    if (!seen)
      r = scan_group (set, lds, nld, i);
  }
  free (lds);
  return r;
}
