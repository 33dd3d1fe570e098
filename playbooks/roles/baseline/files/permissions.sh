# govcloud baseline: owner, group and the most permissive mode of each path. Reads lines of
# "mode owner group pattern" on stdin (globs expand; missing paths are skipped). Prints one line
# per path it changes (or, with "check", would change).
set -eu
check=${1:-}
while read -r want owner group pattern; do
  for path in $pattern; do
    [ -e "$path" ] || continue
    stat=$(stat -c '%a %U %G' "$path")
    have=${stat%% *}
    rest=${stat#* }
    newmode=$(printf '%o' $(( 0$have & 0$want )))
    if [ "$newmode" != "$have" ] || [ "$rest" != "$owner $group" ]; then
      echo "$path: $have $rest -> $newmode $owner $group"
      if [ "$check" != check ]; then
        chown "$owner:$group" "$path"
        chmod "$newmode" "$path"
      fi
    fi
  done
done
