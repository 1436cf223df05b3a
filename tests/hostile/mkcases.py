#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mkcases.py OUTDIR - make the hostile catalog (issue 9).

Every case is a folder OUTDIR/NAME holding crafted files, made here from
the documented layouts (docs/vmdk-format.md, docs/volumes-format.md)
rather than kept as blobs.  The manifest OUTDIR/cases lists one case a
line, tab-separated:

    NAME  RC  STDERR-REGEX  ARGS...

run.sh runs `vdk ARGS` inside the case folder and checks the exit
status, that stderr matches the regular expression (a clear error that
names what is wrong), that no signal killed vdk, and that time and peak
memory stay inside the limits docs/security.md states.  An RC of 0 means
the command must succeed (hostile input that vdk handles, e.g. by
refusing a volume while listing the others).
"""
import os
import struct
import sys
import zlib

SECTOR = 512
OUT = sys.argv[1]
MANIFEST = []


def case(name, rc, regex, *args):
    MANIFEST.append("\t".join([name, str(rc), regex or "-"] + list(args)))


def put(name, rel, data):
    path = os.path.join(OUT, name, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def sparse_file(name, rel, size):
    """An apparent size without data (a sparse tail)."""
    path = put(name, rel, b"")
    os.truncate(path, size)
    return path


# ---- VMDK building blocks ----------------------------------------------

def kdmv(capacity, grain=128, gtes=512, desc_off=1, desc_size=20,
         rgd=None, gd=None, overhead=None, version=1, flags=3, ngd=None):
    """A hosted sparse extent with empty grain tables laid out as VMware
    does: header, descriptor, RGD, RGTs, GD, GTs."""
    ngrains = (capacity + grain - 1) // grain
    ngts = ngd if ngd is not None else (ngrains + gtes - 1) // gtes
    gd_secs = (ngts * 4 + SECTOR - 1) // SECTOR
    gt_secs = (gtes * 4 + SECTOR - 1) // SECTOR
    r = desc_off + desc_size if rgd is None else rgd
    g = r + gd_secs + ngts * gt_secs if gd is None else gd
    end = g + gd_secs + ngts * gt_secs
    oh = ((end + grain - 1) // grain) * grain if overhead is None else overhead
    h = struct.pack("<IIIQQQQIQQQB4sH", 0x564d444b, version, flags, capacity,
                    grain, desc_off, desc_size, gtes, r, g, oh, 0,
                    b"\n \r\n", 0)
    img = bytearray(max(oh, end) * SECTOR)
    img[:len(h)] = h
    for base in (r, g):
        if gd is not None or rgd is not None:
            break
        for i in range(ngts):
            struct.pack_into("<I", img, base * SECTOR + 4 * i,
                             base + gd_secs + i * gt_secs)
    return img, r, g


def descriptor(extents, ctype="monolithicSparse", extra=""):
    lines = ["# Disk DescriptorFile", "version=1", "CID=12345678",
             "parentCID=ffffffff", 'createType="%s"' % ctype, ""]
    lines += extents
    lines += ["", 'ddb.adapterType = "ide"', extra]
    return ("\n".join(lines) + "\n").encode()


def embed(img, text, desc_off=1):
    img[desc_off * SECTOR:desc_off * SECTOR + len(text)] = text
    return img


def mono(capacity=2048, **kw):
    img, r, g = kdmv(capacity, **kw)
    embed(img, descriptor(['RW %d SPARSE "d.vmdk"' % capacity]))
    return img


# ---- other formats' magics (defect 4) ------------------------------------

def foreign_formats():
    n = 1 << 20
    blobs = {
        "qcow2": b"QFI\xfb" + struct.pack(">IQIIQ", 3, 0, 0, 16, n),
        "qed": b"QED\x00" + struct.pack("<III", 65536, 16, 1),
        "vdi": (b"<<< Oracle VM VirtualBox Disk Image >>>\n".ljust(64, b"\0")
                + struct.pack("<II", 0xbeda107f, 0x00010001)),
        "vhdx": b"vhdxfile" + "vdk".encode("utf-16-le"),
        "parallels": b"WithoutFreeSpace" + struct.pack("<II", 2, 0),
        "parallels-ext": b"WithouFreSpacExt" + struct.pack("<II", 2, 0),
    }
    for fmt, head in blobs.items():
        data = bytearray(n)
        data[:len(head)] = head
        put("fmt-" + fmt, "img", bytes(data))
        case("fmt-" + fmt, 1, "img.*%s" % fmt.split("-")[0].replace(
            "parallels", "Parallels").replace("qcow2", "qcow2")
            .replace("qed", "QED").replace("vdi", "VDI")
            .replace("vhdx", "VHDX"), "info", "img")
    # VHD: the footer "conectix" at the end (fixed) and a copy at 0
    # (dynamic).
    foot = b"conectix" + struct.pack(">II", 2, 0x10000)
    data = bytearray(n)
    data[-512:-512 + len(foot)] = foot
    put("fmt-vhd-fixed", "img", bytes(data))
    case("fmt-vhd-fixed", 1, "img.*VHD", "info", "img")
    data = bytearray(n)
    data[:len(foot)] = foot
    data[-512:-512 + len(foot)] = foot
    put("fmt-vhd-dynamic", "img", bytes(data))
    case("fmt-vhd-dynamic", 1, "img.*VHD", "convert", "img", "out.vmdk")
    # ISO 9660 and UDF: volume descriptors from byte 32768.
    data = bytearray(n)
    data[0x8000:0x8006] = b"\x01CD001"
    put("fmt-iso9660", "img", bytes(data))
    case("fmt-iso9660", 1, "img.*ISO 9660", "read", "img")
    data = bytearray(n)
    data[0x8000:0x8006] = b"\x00BEA01"
    data[0x8800:0x8806] = b"\x00NSR02"
    put("fmt-udf", "img", bytes(data))
    case("fmt-udf", 1, "img.*UDF", "info", "img")


# ---- sparse headers --------------------------------------------------------

FIELDS = {"version": (4, "I"), "flags": (8, "I"), "capacity": (12, "Q"),
          "grain": (20, "Q"), "desc_off": (28, "Q"), "desc_size": (36, "Q"),
          "gtes": (44, "I"), "rgd": (48, "Q"), "gd": (56, "Q"),
          "overhead": (64, "Q")}


def patch(img, **kw):
    for k, v in kw.items():
        off, fmt = FIELDS[k]
        struct.pack_into("<" + fmt, img, off, v)
    return img


def sparse_headers():
    def hdr_case(name, regex, **kw):
        put(name, "d.vmdk", bytes(patch(mono(), **kw)))
        case(name, 1, regex, "read", "d.vmdk")

    hdr_case("sparse-grain-not-pow2", "grain", grain=100)
    hdr_case("sparse-grain-huge", "grain", grain=1 << 30)
    hdr_case("sparse-gtes-zero", "(grain table|GTE|numGTEsPerGT)", gtes=0)
    hdr_case("sparse-gtes-huge", "(grain table|GTE|numGTEsPerGT)",
             gtes=1 << 30)
    hdr_case("sparse-version-9", "version", version=9)
    hdr_case("sparse-gd-past-eof", "(beyond|past|end of file)",
             gd=1 << 40)
    hdr_case("sparse-rgd-past-eof", "(beyond|past|end of file)",
             rgd=1 << 40)
    hdr_case("sparse-desc-past-eof", "descriptor", desc_off=1 << 30)
    hdr_case("sparse-desc-huge", "descriptor", desc_size=1 << 30)
    # A capacity of 2^62 sectors with a real grain directory size would
    # need a GD of petabytes: refused by size, not allocated.
    img, r, g = kdmv(2048)
    struct.pack_into("<Q", img, 12, 1 << 62)
    embed(img, descriptor(['RW 2048 SPARSE "d.vmdk"']))
    put("sparse-capacity-huge", "d.vmdk", bytes(img))
    case("sparse-capacity-huge", 1, "(capacity|beyond|grain directory)",
         "info", "d.vmdk")


# ---- descriptors ------------------------------------------------------------

def descriptors():
    img, r, g = kdmv(2048)
    flat = bytes(SECTOR * 2048)

    def desc_case(name, lines, regex, ctype="monolithicFlat", cmd="read",
                  files=None, rc=1, extra=""):
        put(name, "d.vmdk", descriptor(lines, ctype, extra))
        for rel, data in (files or {}).items():
            put(name, rel, data)
        if cmd == "write":
            put(name, "stdin", b"vdk was here" * 100)
        case(name, rc, regex, cmd, "d.vmdk")

    desc_case("desc-no-extents", [], "no extents")
    desc_case("desc-escape-parent", ['RW 2048 FLAT "../x-flat.vmdk" 0'],
              "(outside|external)")
    desc_case("desc-absolute", ['RW 2048 FLAT "/etc/passwd" 0'],
              "(outside|external)")
    desc_case("desc-missing-extent", ['RW 2048 FLAT "nope-flat.vmdk" 0'],
              "nope-flat.vmdk")
    desc_case("desc-unknown-type", ['RW 2048 WEIRD "x-flat.vmdk" 0'],
              "(WEIRD|extent)", files={"x-flat.vmdk": flat})
    desc_case("desc-sectors-overflow",
              ['RW 18446744073709551615 FLAT "x-flat.vmdk" 0',
               'RW 18446744073709551615 FLAT "x-flat.vmdk" 0'],
              "(sector|size|overflow|2\\^63|large)",
              files={"x-flat.vmdk": flat})
    desc_case("desc-rdm-needs-override",
              ['RW 2048 VMFSRDM "x-flat.vmdk"'], "external",
              ctype="vmfsRawDeviceMap", files={"x-flat.vmdk": flat})
    desc_case("desc-parent-missing", ['RW 2048 SPARSE "c.vmdk"'],
              "parent.vmdk", ctype="monolithicSparse",
              files={"c.vmdk": bytes(kdmv(2048)[0])},
              extra='parentFileNameHint="parent.vmdk"')
    # A parent outside the folder needs the override.
    desc_case("desc-parent-outside", ['RW 2048 SPARSE "c.vmdk"'],
              "(outside|external)", ctype="monolithicSparse",
              files={"c.vmdk": bytes(kdmv(2048)[0])},
              extra='parentFileNameHint="../p.vmdk"')
    # The descriptor is its own parent.
    desc_case("desc-parent-self", ['RW 2048 SPARSE "c.vmdk"'],
              "(loop|itself|chain|parent)", ctype="monolithicSparse",
              files={"c.vmdk": bytes(kdmv(2048)[0])},
              extra='parentFileNameHint="d.vmdk"')
    # Defect 6: one COWD extent named 5000 times; one sparse extent named
    # eight times with a huge size each.
    desc_case("desc-same-extent-5000",
              ['RW 2048 SPARSE "x.vmdk"'] * 5000,
              "(same file|more than once|named|extent)",
              ctype="twoGbMaxExtentSparse",
              files={"x.vmdk": bytes(kdmv(2048)[0])})
    desc_case("desc-extent-size-beyond-header",
              ['RW 4294967296 SPARSE "x%d.vmdk"' % i for i in range(8)],
              "(capacity|header|size)", ctype="twoGbMaxExtentSparse",
              files={"x%d.vmdk" % i: bytes(kdmv(2048)[0])
                     for i in range(8)})
    # Headers claiming 2^40 sectors behind descriptor lines of 2048: the
    # grain directories are sized by the descriptor (64 MiB each
    # otherwise).
    big = [bytes(patch(kdmv(2048)[0], capacity=1 << 40)) for i in range(8)]
    desc_case("desc-header-capacity-huge",
              ['RW 2048 SPARSE "x%d.vmdk"' % i for i in range(8)],
              "", ctype="twoGbMaxExtentSparse", rc=0,
              files={"x%d.vmdk" % i: big[i] for i in range(8)})
    for i in range(8):      # a sparse tail makes room for the claimed GD
        os.truncate(os.path.join(OUT, "desc-header-capacity-huge",
                                 "x%d.vmdk" % i), 256 << 20)
    # One sparse extent named twice, read-write: refused, not a crash.
    for cmd in ("read", "write"):
        desc_case("desc-same-sparse-twice-" + cmd,
                  ['RW 2048 SPARSE "x.vmdk"'] * 2, "more than one extent",
                  ctype="twoGbMaxExtentSparse", cmd=cmd,
                  files={"x.vmdk": bytes(kdmv(2048)[0])})
    # Flat extents may share a file (partitioned devices do).
    desc_case("desc-same-flat-twice",
              ['RW 1024 FLAT "x-flat.vmdk" 0', 'RW 1024 FLAT "x-flat.vmdk" 1024'],
              "", rc=0, files={"x-flat.vmdk": flat})
    # A descriptor file bigger than allowed.
    put("desc-huge", "d.vmdk", descriptor(
        ['RW 2048 FLAT "x-flat.vmdk" 0'], "monolithicFlat",
        "#" + "x" * (2 << 20)))
    case("desc-huge", 1, "descriptor", "info", "d.vmdk")
    # Defect 9: NOACCESS everywhere.
    for cmd in ("read", "convert", "map"):
        name = "desc-noaccess-" + cmd
        put(name, "d.vmdk", descriptor(
            ['NOACCESS 2048 FLAT "x-flat.vmdk" 0'], "monolithicFlat"))
        put(name, "x-flat.vmdk", flat)
        if cmd == "convert":
            case(name, 1, "(NOACCESS|no access).*x-flat.vmdk|x-flat.vmdk.*"
                 "(NOACCESS|no access)", cmd, "d.vmdk", "out.raw")
        else:
            case(name, 1, "(NOACCESS|no access)", cmd, "d.vmdk")


# ---- COWD, seSparse ------------------------------------------------------------

def cowd_header(capacity, gtes=4096, gdentries=None, gdoff=4, gran=1):
    nge = gdentries if gdentries is not None else \
        (capacity + gtes * max(gran, 1) - 1) // (gtes * max(gran, 1))
    h = bytearray(2048)
    struct.pack_into("<IIIIIIII", h, 0, 0x44574f43, 1, 3, capacity, gran,
                     gdoff, nge, 0)
    return h


def esx():
    for name, kw, regex in (
            ("cowd-gd-huge", {"gdentries": 1 << 30}, "(grain directory|GD)"),
            ("cowd-gd-past-eof", {"gdoff": 1 << 30},
             "(beyond|past|end of file)"),
            ("cowd-granularity-0", {"gran": 0}, "grain")):
        h = cowd_header(2048, **kw)
        data = bytes(h) + bytes(4096 * 4)
        put(name, "x-delta.vmdk", data)
        put(name, "d.vmdk", descriptor(['RW 2048 VMFSSPARSE "x-delta.vmdk"'],
                                       "vmfsSparse"))
        case(name, 1, regex, "read", "d.vmdk")


def grain_on_metadata():
    """Defect 7: grain entries that point at metadata must not be written
    through, whatever overHead says (here 0)."""
    for what in ("gd", "rgd", "gt", "desc"):
        name = "sparse-grain-on-" + what
        img, r, g = kdmv(2048)
        gt0 = struct.unpack_from("<I", img, g * SECTOR)[0]
        rgt0 = struct.unpack_from("<I", img, r * SECTOR)[0]
        target = {"gd": g, "rgd": r, "gt": gt0 + 1,
                  "desc": 2}[what]
        for t in (gt0, rgt0):
            struct.pack_into("<I", img, t * SECTOR, target)
        patch(img, overhead=0)
        embed(img, descriptor(['RW 2048 SPARSE "d.vmdk"']))
        put(name, "d.vmdk", bytes(img))
        put(name, "stdin", b"x" * 512)
        case(name, 1, "metadata", "write", "d.vmdk")


def check_cases():
    """Defect 6: `vdk check` must cost what the file holds, not its
    apparent size.  A 64 GiB file (a sparse tail) whose grain directory
    names one grain table 262144 times, that table naming 512 grains."""
    name = "check-one-table-everywhere"
    cap = 1 << 27                        # sectors: 64 GiB, grain 1 sector
    ngd = cap // 512
    gd_secs = ngd * 4 // SECTOR
    gd, gt = 2, 2 + gd_secs
    first = gt + 4
    h = struct.pack("<IIIQQQQIQQQB4sH", 0x564d444b, 1, 1, cap, 1, 0, 0, 512,
                    0, gd, first, 0, b"\n \r\n", 0)
    img = bytearray((first + 512) * SECTOR)
    img[:len(h)] = h
    struct.pack_into("<%dI" % ngd, img, gd * SECTOR, *([gt] * ngd))
    struct.pack_into("<512I", img, gt * SECTOR,
                     *[first + i for i in range(512)])
    path = put(name, "d.vmdk", bytes(img))
    os.truncate(path, cap * SECTOR)
    case(name, 2, "overlap", "check", "d.vmdk")


# ---- LVM2 (volumes.md) ------------------------------------------------------

def lvm_crc(data):
    """LVM2's CRC-32: zlib's polynomial, initial 0xf597a6cf, no final
    inversion."""
    return (~zlib.crc32(data, 0xf597a6cf ^ 0xffffffff)) & 0xffffffff


PV_UUID = "hostilePVhostilePVhostilePV00001"


def lvm_disk(name, lvs_text, extents=16):
    """A raw disk holding one PV (label in sector 1, metadata area at
    4 KiB, extents of 8 sectors from 1 MiB) whose VG text lists the
    given logical_volumes body."""
    pe_start = 2048
    size = (pe_start + extents * 8) * SECTOR
    dashed = "-".join([PV_UUID[0:6], PV_UUID[6:10], PV_UUID[10:14],
                       PV_UUID[14:18], PV_UUID[18:22], PV_UUID[22:26],
                       PV_UUID[26:32]])
    text = ('vg0 {\nid = "hostileVGhostileVGhostileVG00001"\nseqno = 1\n'
            'format = "lvm2"\nstatus = ["RESIZEABLE", "READ", "WRITE"]\n'
            'extent_size = 8\nmax_lv = 0\nmax_pv = 0\n'
            'physical_volumes {\npv0 {\nid = "%s"\ndevice = "/dev/x"\n'
            'status = ["ALLOCATABLE"]\ndev_size = %d\npe_start = %d\n'
            'pe_count = %d\n}\n}\nlogical_volumes {\n%s}\n}\n'
            % (dashed, size // SECTOR, pe_start, extents, lvs_text)).encode()
    img = bytearray(size)
    lab = bytearray(SECTOR)
    lab[0:8] = b"LABELONE"
    struct.pack_into("<Q", lab, 8, 1)
    struct.pack_into("<I", lab, 20, 32)
    lab[24:32] = b"LVM2 001"
    lab[32:64] = PV_UUID.encode()
    struct.pack_into("<Q", lab, 64, size)
    # data area list, then metadata area list, each ending in 0,0
    struct.pack_into("<QQQQQQQQ", lab, 72, pe_start * SECTOR, 0, 0, 0,
                     4096, pe_start * SECTOR - 4096, 0, 0)
    struct.pack_into("<I", lab, 16, lvm_crc(bytes(lab[20:])))
    img[SECTOR:2 * SECTOR] = lab
    mda = bytearray(SECTOR)
    mda[4:20] = b" LVM2 x[5A%r0N*>"
    struct.pack_into("<IQQ", mda, 20, 1, 4096, pe_start * SECTOR - 4096)
    struct.pack_into("<QQII", mda, 40, SECTOR, len(text), lvm_crc(text), 0)
    struct.pack_into("<I", mda, 0, lvm_crc(bytes(mda[4:])))
    img[4096:4096 + SECTOR] = mda
    img[4096 + SECTOR:4096 + SECTOR + len(text)] = text
    put(name, "disk.img", bytes(img))


def lv(name, seg, visible=False, extents=1):
    st = '"READ", "WRITE"' + (', "VISIBLE"' if visible else "")
    return ('%s {\nid = "%s-id"\nstatus = [%s]\nsegment_count = 1\n'
            'segment1 {\nstart_extent = 0\nextent_count = %d\n%s}\n}\n'
            % (name, name, st, extents, seg))


def linear(pe):
    return 'type = "striped"\nstripe_count = 1\nstripes = ["pv0", %d]\n' % pe


def mirror(images):
    return ('type = "mirror"\nmirror_count = %d\nmirrors = [%s]\n'
            % (len(images), ", ".join('"%s", 0' % i for i in images)))


def volumes_cases():
    # Defect 6: images nest four deep, 20 per level, shared names: 20^4
    # map leaves per top LV from 2 KiB of text.
    f = 20
    body = lv("d0", linear(0))
    for lvl, child in (("c", "d"), ("b", "c"), ("a", "b")):
        kids = ["%s0" % child] * f
        body += lv("%s0" % lvl, mirror(kids))
    for i in range(4):
        body += lv("top%d" % i, mirror(["a0"] * f), visible=True)
    lvm_disk("lvm-nested-mirrors", body)
    case("lvm-nested-mirrors", 0, "more than 65536 nodes", "volumes",
         "disk.img")
    # Defect 8: raid5 with two images (the message read the freed map).
    body = lv("r0", linear(0)) + lv("r1", linear(1))
    body += lv("bad5", 'type = "raid5"\nstripe_size = 8\n'
               'raids = ["m0", "r0", "m1", "r1"]\n', visible=True)
    lvm_disk("lvm-raid5-two-images", body)
    case("lvm-raid5-two-images", 0, "2 images cannot hold", "volumes",
         "disk.img")
    # An LV whose image is itself (a loop) and one naming a missing LV.
    body = lv("self", mirror(["self", "self"]), visible=True)
    body += lv("ghost", mirror(["nope"]), visible=True)
    lvm_disk("lvm-self-and-missing", body)
    case("lvm-self-and-missing", 0, "nest too deeply|no valid segment",
         "volumes", "disk.img")


def main():
    os.makedirs(OUT, exist_ok=True)
    foreign_formats()
    sparse_headers()
    descriptors()
    esx()
    check_cases()
    grain_on_metadata()
    volumes_cases()
    with open(os.path.join(OUT, "cases"), "w") as f:
        f.write("\n".join(MANIFEST) + "\n")


main()
