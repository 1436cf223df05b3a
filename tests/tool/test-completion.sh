#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bash completion of vdk (tools/vdk-completion.bash): commands, options
# of a command as its --help lists them, option values, file names; and
# `meson install` puts it where bash-completion looks for it.
source "$(dirname "$0")/../lib.sh"
: "${COMPLETION:?COMPLETION must name tools/vdk-completion.bash}"

# The tool under its usual name, on PATH, as a user would have it.
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec %s "$VDK" "$@"\n' "${VDK_WRAPPER:-}" > "$T/bin/vdk"
chmod +x "$T/bin/vdk"
export PATH="$T/bin:$PATH"
# shellcheck source=/dev/null
source "$COMPLETION"

# complete WORDS...: COMPREPLY for the last word, one per line, sorted.
complete_words () {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _vdk
  printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort
}

check_eq "registered for vdk" "complete -F _vdk vdk" "$(complete -p vdk)"
got=$(complete_words vdk co | tr '\n' ' ')
check_eq "commands by prefix" "commit compare convert " "$got"
got=$(complete_words vdk "" | wc -l)
[ "$got" -ge 20 ] && pass "all commands ($got)" || fail "all commands: $got"
got=$(complete_words vdk help me | tr '\n' ' ')
check_eq "vdk help COMMAND" "measure meta " "$got"
got=$(complete_words vdk convert --s | tr '\n' ' ')
check_eq "options of convert" "--single-link " "$got"
got=$(complete_words vdk read FILE --l | tr '\n' ' ')
check_eq "options after a file" "--length " "$got"
got=$(complete_words vdk info - | tr '\n' ' ')
check_eq "all options of info" \
  "--allow-external-paths --chain --format --help --json --no-cid-check --version -V -f -h " \
  "$got"
got=$(complete_words vdk create -t stream | tr '\n' ' ')
check_eq "disk types" "streamOptimized " "$got"
got=$(complete_words vdk child -t vmfs | tr '\n' ' ')
check_eq "child types" "vmfsSparse " "$got"
got=$(complete_words vdk convert -a lsi | tr '\n' ' ')
check_eq "adapters" "lsilogic " "$got"
got=$(complete_words vdk info --format r | tr '\n' ' ')
check_eq "formats" "raw " "$got"
got=$(complete_words vdk read --offset "" | wc -w)
check_eq "no completion of a number" 0 "$got"
touch "$T/disk-one.vmdk" "$T/disk-two.vmdk"
got=$(complete_words vdk info "$T/disk-t" | tr '\n' ' ')
check_eq "file names" "$T/disk-two.vmdk " "$got"

# Installed as share/bash-completion/completions/vdk.
if [ -n "${BUILD_DIR:-}" ] && [ -f "$BUILD_DIR/meson-info/intro-installed.json" ]; then
  got=$(python3 -c '
import json, sys
for src, dst in json.load(open(sys.argv[1])).items():
    if src.endswith("/vdk-completion.bash"):
        print(dst)' "$BUILD_DIR/meson-info/intro-installed.json")
  case $got in
    */share/bash-completion/completions/vdk) pass "installed as $got" ;;
    *) fail "install location of the completion: '$got'" ;;
  esac
else
  fail "no meson-info/intro-installed.json in BUILD_DIR '${BUILD_DIR:-}'"
fi
finish
