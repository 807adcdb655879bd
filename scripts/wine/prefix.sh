# Sourced by scripts/windows-check.sh and scripts/release.sh: a throw-away wine prefix in
# which azure-cacerts.exe starts.
#   wine_prefix DIR EXE   -> exports WINEPREFIX=DIR/prefix and the rest; 0 when EXE starts
wine_prefix() {
  local dir=$1 exe=$2 here
  here=$(dirname "${BASH_SOURCE[0]}")
  export WINEPREFIX="$dir/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  # wine turns Unix file names and the environment into UTF-16 with the Unix locale's
  # charset: it must be UTF-8, or Japanese names are lost.
  export LC_ALL=C.UTF-8
  wineboot -i >/dev/null 2>&1
  wineserver -w
  [ -d "$WINEPREFIX/drive_c/windows/system32" ] || return 1
  if ! wine "$exe" --version >/dev/null 2>&1; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
      "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" -ladvapi32 || return 1
    echo "   wine lacks ProcessPrng: the test-only bcryptprimitives.dll is in the wine prefix"
  fi
  wine "$exe" --version >/dev/null 2>&1
}
