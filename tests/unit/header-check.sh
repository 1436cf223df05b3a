#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Each public header (include/, and the VDDK headers of compat/) compiles
# alone as strict C11 and as C++.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-cc}
fail=0 n=0
for h in "$src"/include/*.h "$src"/compat/vix[DM]*.h \
         "$src"/compat/vm_basic_types.h; do
  [ -e "$h" ] || continue
  n=$((n + 1))
  if echo "#include \"$h\"" | $cc -std=c11 -Wall -Wextra -pedantic -Werror \
       -I"$src/include" -I"$src/compat" -x c -fsyntax-only -; then
    echo "ok $n - $(basename "$h") as C11"
  else
    echo "not ok $n - $(basename "$h") as C11"; fail=1
  fi
  cxx=$(command -v g++ || command -v clang++ || true)
  n=$((n + 1))
  if [ -z "$cxx" ]; then
    echo "ok $n - $(basename "$h") as C++ # SKIP no C++ compiler installed"
  elif echo "#include \"$h\"" | $cxx -std=c++11 -Wall -Wextra -pedantic \
         -Werror -I"$src/include" -I"$src/compat" -x c++ -fsyntax-only -; then
    echo "ok $n - $(basename "$h") as C++"
  else
    echo "not ok $n - $(basename "$h") as C++"; fail=1
  fi
done
echo "1..$n"
exit $fail
