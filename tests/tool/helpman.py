#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""helpman.py - every option of every `vdk` command is in its --help and
in the man page, and the two agree.

Usage: helpman.py VDK DOCS_DIR TOOLS_DIR   (VDK_WRAPPER is honoured)

For each command listed by `vdk --help`:
- `vdk help CMD` prints exactly what `vdk CMD --help` prints;
- the option lines of that help ("  -t, --type TYPE", "  --json") are
  the command's options; each is accepted by the command (`vdk CMD
  OPTION [x] --help` prints the help: nothing runs);
- the command's SYNOPSIS in the man page (docs/vdk.1, or vdk-mount.1 for
  the volume commands) names the same options: each help option but
  -h/-V appears there (by its short or its long name), and each option
  of the synopsis is in the help;
- every long option of the help is described in the OPTIONS section of
  that man page.
And every long option in a getopt table of tools/vdk.c and tools/cmd-*.c
is in some help.
Prints one line per check; exits 1 if any failed.
"""
import glob
import os
import re
import shlex
import subprocess
import sys

VDK, DOCS, TOOLS = sys.argv[1:4]
WRAP = shlex.split(os.environ.get("VDK_WRAPPER", ""))
MOUNT_CMDS = {"volumes", "mount", "umount", "mounts"}
failures = 0
checks = 0


def result(ok, what):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
    print(("ok - " if ok else "FAIL - ") + what)


def vdk(*args):
    p = subprocess.run(WRAP + [VDK] + list(args), capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def commands():
    rc, out, _ = vdk("--help")
    cmds = []
    in_list = False
    for line in out.splitlines():
        if line.startswith("Commands:"):
            in_list = True
        elif in_list and line.startswith("  "):
            cmds.append(line.split()[0])
        elif in_list:
            break
    return cmds


OPT_LINE = re.compile(r"^  (-[A-Za-z0-9])?(?:, )?(--[a-z][a-z0-9-]*)?"
                      r"((?: \S+)*)(?:\s{2,}|$)")


def help_options(text):
    """[(aliases, takes_value)] of the option lines of a --help: "  -t,
    --type TYPE   text" (a value is anything between the names and the
    two spaces before the text)."""
    opts = []
    for line in text.splitlines():
        m = OPT_LINE.match(line)
        if m and (m.group(1) or m.group(2)):
            names = {n for n in (m.group(1), m.group(2)) if n}
            opts.append((names, m.group(3).strip() != ""))
    return opts


def actions(text, cmd):
    """The actions of a command used as "vdk CMD ACTION ..." (ticket)."""
    return sorted(set(re.findall(r"vdk %s ([a-z]+)\b" % re.escape(cmd),
                                 text)))


def man_text(cmd):
    page = "vdk-mount.1" if cmd in MOUNT_CMDS else "vdk.1"
    with open(os.path.join(DOCS, page)) as f:
        return page, f.read().replace("\\-", "-")


def section(text, name):
    m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH )" % name, text, re.M | re.S)
    return m.group(1) if m else ""


def synopsis_options(text, cmd):
    """Options named in the synopsis blocks of `vdk CMD`, or None."""
    found = None
    block = None
    for line in section(text, "SYNOPSIS").splitlines():
        m = re.match(r"^\.B vdk (\S+)", line)
        if m:
            block = m.group(1) == cmd
            if block:
                found = found or set()
                line = line[len(m.group(0)):]
        elif line.startswith(".br"):
            block = False
            continue
        if block:
            found |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[A-Za-z])"
                                    r"(?![\w-])", line))
    return found


def accepted(cmd, names, takes_value, acts):
    """`vdk CMD [ACTION] OPTION [x] --help` prints the help and exits 0:
    getopt took OPTION (an unknown one is a usage error before --help),
    and --help ends the run before anything is done."""
    name = max(names, key=len)
    value = VALUES.get(name, "x")
    for act in [None] + acts:
        args = [cmd] + ([act] if act else []) + [name] \
            + ([value] if takes_value else []) + ["--help"]
        rc, out, _ = vdk(*args)
        if rc == 0 and (out.startswith("Usage") or out.startswith("vdk ")):
            return True
    return False


# Values the options check as they parse them.
VALUES = {"--format": "auto", "--max-read": "1M", "--datastore": "a=/tmp",
          "--ttl": "60", "--compress-level": "3", "--threads": "4",
          "--port": "10809", "--offset": "0", "--length": "0"}


def check_command(cmd, all_help_longs):
    rc1, help1, _ = vdk(cmd, "--help")
    rc2, help2, _ = vdk("help", cmd)
    result(rc1 == 0 and rc2 == 0 and help1 == help2 and help1,
           "%s: vdk help %s is vdk %s --help" % (cmd, cmd, cmd))
    opts = help_options(help1)
    acts = actions(help1, cmd)
    page, text = man_text(cmd)
    syn = synopsis_options(text, cmd)
    result(syn is not None, "%s: has a synopsis in %s" % (cmd, page))
    syn = syn or set()
    described = section(text, "OPTIONS")
    for names, takes_value in opts:
        label = "/".join(sorted(names))
        all_help_longs |= {n for n in names if n.startswith("--")}
        result(accepted(cmd, names, takes_value, acts),
               "%s: %s in --help is accepted" % (cmd, label))
        if names & {"-h", "--help", "-V", "--version"}:
            continue
        result(bool(names & syn),
               "%s: %s of --help is in the synopsis of %s" %
               (cmd, label, page))
        for n in names:
            if n.startswith("--"):
                result(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(n),
                                 described) is not None,
                       "%s: %s is described in OPTIONS of %s" %
                       (cmd, n, page))
    listed = set().union(*[n for n, _ in opts]) if opts else set()
    for n in sorted(syn - listed):
        result(False, "%s: %s of the synopsis in %s is missing from --help" %
               (cmd, n, page))
    result(not syn - listed,
           "%s: every option of the synopsis is in --help" % cmd)


def check_sources(all_help_longs):
    longs = set()
    # The vdk tool's own sources (vdk-vdiskmanager and vdk-mount, the
    # VMware-compatible front-ends, have their own command lines).
    for path in (glob.glob(os.path.join(TOOLS, "vdk.c"))
                 + glob.glob(os.path.join(TOOLS, "cmd-*.c"))):
        with open(path) as f:
            longs |= {"--" + n for n in re.findall(
                r'\{\s*"([a-z][a-z0-9-]*)",\s*(?:no|required|optional)'
                r'_argument', f.read())}
    result(bool(longs), "found the getopt tables of the tool's sources")
    for n in sorted(longs - all_help_longs):
        result(False, "%s of a getopt table is in no command's --help" % n)


def main():
    cmds = commands()
    result(len(cmds) > 10 and "help" in cmds,
           "vdk --help lists the commands (%d)" % len(cmds))
    all_help_longs = set()
    for cmd in cmds:
        check_command(cmd, all_help_longs)
    check_sources(all_help_longs)
    print("# %d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


sys.exit(main())
