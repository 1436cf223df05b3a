#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The exported symbols of libvdk, the symbol map and the man pages agree.
#
#   symbols.sh LIBVDK.so
#
# - the map (lib/libvdk.map) lists names one by one: no glob but the
#   final `local: *;`;
# - `nm -D --defined-only` of the shared library shows exactly the map's
#   names, whatever the build was configured with (the volume API is
#   stubbed when it is not built);
# - every exported name has a prototype in a section-3 man page
#   (docs/*.3: "name(" on a line), so none is undocumented;
# - every VDK_API declaration of the public headers is exported, unless
#   it is listed below as declared ahead of its implementation.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
lib=${1:?usage: symbols.sh LIBVDK.so}
map=$src/lib/libvdk.map
n=0 fail=0
t=$(mktemp -d) || exit 99
trap 'rm -rf "$t"' EXIT

# Declared in a public header now, implemented by work in progress:
# remove a name when its implementation lands (the test says so).
pending=" vdk_last_error_call vdk_error_text vdk_zero_ex vdk_trim
  vdk_aio_pread vdk_aio_pwrite vdk_aio_read vdk_aio_write vdk_aio_wait "
pending=" $(echo $pending) "

result () {   # result OK DESCRIPTION [DETAIL...]
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    fail=1
    shift 2
    for d in "$@"; do echo "# $d"; done
  fi
}

for c in nm perl; do
  command -v $c >/dev/null || { echo "1..0 # SKIP $c is not installed"; exit 0; }
done

perl -0pe 's{/\*.*?\*/}{}gs' "$map" > "$t/map.text"
grep -o '^ *vdk_[a-z0-9_]*;' "$t/map.text" | tr -d ' ;' | sort > "$t/map"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ { print $3 }' \
  | sed 's/@.*//' | grep -v '^VDK_' | sort -u > "$t/exported"
cat "$src"/docs/*.3 | grep -o 'vdk_[a-z0-9_]*(' | tr -d '(' | sort -u \
  > "$t/documented"
cat "$src"/include/*.h | tr '\n' ' ' | grep -o 'VDK_API[^;(]*(' \
  | grep -o 'vdk_[a-z0-9_]*($' | tr -d '(' | sort -u > "$t/declared"

globs=$(grep '[*?]' "$t/map.text" | grep -v '^ *\*; *$')
[ -z "$globs" ]
result $? "the map has no glob but local: *" "globs: $globs"
[ -s "$t/map" ] && [ -s "$t/exported" ]
result $? "the map and the library list symbols ($(wc -l < "$t/map") in the map)"

extra=$(comm -13 "$t/map" "$t/exported" | tr '\n' ' ')
[ -z "$extra" ]
result $? "nothing is exported that the map does not list" \
  "exported but not in the map: $extra"
missing=$(comm -23 "$t/map" "$t/exported" | tr '\n' ' ')
[ -z "$missing" ]
result $? "every name in the map is exported (in this configuration too)" \
  "in the map but not exported: $missing"

undoc=$(comm -23 "$t/exported" "$t/documented" | tr '\n' ' ')
[ -z "$undoc" ]
result $? "every exported symbol has a prototype in a section-3 man page" \
  "not in docs/*.3: $undoc"

unexported=""
for s in $(comm -23 "$t/declared" "$t/exported"); do
  [[ $pending == *" $s "* ]] || unexported+="$s "
done
[ -z "$unexported" ]
result $? "every VDK_API declaration is exported (or pending)" \
  "declared but not exported (add to lib/libvdk.map): $unexported"
for s in $pending; do
  grep -qx "$s" "$t/exported" && echo "# $s is exported now: remove it from pending in $0"
done
undeclared=$(comm -13 "$t/declared" "$t/exported" | tr '\n' ' ')
[ -z "$undeclared" ]
result $? "every exported symbol is declared in a public header" \
  "exported without a declaration: $undeclared"
echo "1..$n"
exit $fail
