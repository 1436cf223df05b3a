# bash completion for vdk (installed as
# share/bash-completion/completions/vdk).
#
# Commands and options come from the tool itself (`vdk --help`, `vdk
# help COMMAND`), so the completion follows the installed version; the
# values of -t, -a, -f and -c are the names the man pages give.  Every
# other word completes as a file name.

_vdk_commands ()
{
  "$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

_vdk_options ()
{
  local line re='^  (-[A-Za-z0-9])?(, )?(--[a-z][a-z0-9-]*)?'
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      [ -n "${BASH_REMATCH[3]}" ] && echo "${BASH_REMATCH[3]}"
      [ -n "${BASH_REMATCH[1]}" ] && echo "${BASH_REMATCH[1]}"
    fi
  done < <("$1" help "$2" 2>/dev/null)
}

_vdk ()
{
  local vdk=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
  local prev=${COMP_WORDS[COMP_CWORD - 1]} cmd= i words=

  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  if [ -z "$cmd" ] || { [ "$cmd" = help ] && [ "$i" -lt "$COMP_CWORD" ] \
                          && [ "$((i + 1))" -eq "$COMP_CWORD" ]; }; then
    words="$(_vdk_commands "$vdk")"
    [ -z "$cmd" ] && words="$words --help --version"
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return
  fi
  case $cmd:$prev in
    mount:-t | mount:--type)
      words=$(awk '{ print $NF }' /proc/filesystems 2>/dev/null) ;;
    child:-t | child:--type)
      words="monolithicSparse vmfsSparse" ;;
    *:-t | *:--type)
      words="raw monolithicSparse monolithicFlat twoGbMaxExtentSparse
             twoGbMaxExtentFlat streamOptimized vmfs vmfsThin" ;;
    *:-a | *:--adapter) words="ide buslogic lsilogic pvscsi legacyESX" ;;
    *:-f | *:--format) [ "$cmd" = umount ] || words="raw vmdk auto" ;;
    *:-c | *:--compress-level) words="1 2 3 4 5 6 7 8 9 10 11 12" ;;
    *:-H | *:--hw-version | *:--offset | *:--length | *:--max-read | *:-o \
      | *:--options)
      return ;;
  esac
  if [ -n "$words" ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_vdk_options "$vdk" "$cmd")" -- "$cur"))
    return
  fi
  compopt -o filenames 2>/dev/null
  COMPREPLY=($(compgen -f -- "$cur"))
}

complete -F _vdk vdk
