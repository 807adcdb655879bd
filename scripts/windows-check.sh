#!/usr/bin/env bash
# Windows for real, on this Linux machine: cross-builds the release azure-cacerts.exe with
# mingw, runs it under wine as an administrator of a (Japanese) Windows server would, and
# runs the library's unit tests with wine as the runner. One PASS or FAIL line per check;
# exits non-zero on any FAIL (and when the tools cannot be installed or the build fails).
#
#   bash scripts/windows-check.sh
#
# Installs what is missing: the Rust target x86_64-pc-windows-gnu (rustup), mingw and wine
# (apt). The build cache is outside the clone, in $AZURE_CACERTS_WIN_TARGET (default
# ~/.cache/azure-cacerts-win), so a second run takes minutes; the wine prefix is made anew
# in a temporary folder each run and removed afterwards (AZURE_CACERTS_KEEP_WINE=1 keeps it).
#
# Debian 12's wine 8.0 lacks ProcessPrng in bcryptprimitives.dll, which Rust's std imports:
# the .exe as built does not start there. A ten-line DLL that forwards ProcessPrng to
# RtlGenRandom (scripts/wine/bcryptprimitives.c) is built with mingw into the wine prefix
# only; it is never part of a release (Windows 10 and later have the real one).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=x86_64-pc-windows-gnu
export CARGO_TARGET_DIR="${AZURE_CACERTS_WIN_TARGET:-$HOME/.cache/azure-cacerts-win}"
export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)

PASSED=0
FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
# check NAME COMMAND...: PASS when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
die() {
  echo "FAIL: $*"
  echo "windows-check: stopped after $(($(date +%s) - started)) s"
  exit 1
}
elapsed() { echo "   ($(($(date +%s) - started)) s so far)"; }

# --- tools -------------------------------------------------------------------------------
apt_install() {
  apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1; }
}
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" ||
  rustup target add "$TARGET" >/dev/null 2>&1 || die "cannot add the Rust target $TARGET"
command -v x86_64-w64-mingw32-gcc >/dev/null ||
  apt_install gcc-mingw-w64-x86-64 || die "cannot install gcc-mingw-w64-x86-64"
command -v wine >/dev/null || apt_install wine wine64 || die "cannot install wine"
command -v script >/dev/null || apt_install bsdutils || die "cannot install script (bsdutils)"
command -v python3 >/dev/null || apt_install python3 || die "cannot install python3"
KEYTOOL=$(ls /usr/lib/jvm/java-17-openjdk-amd64/bin/keytool /usr/lib/jvm/*/bin/keytool 2>/dev/null | head -n1)
[ -n "$KEYTOOL" ] || KEYTOOL=$(command -v keytool || true)
[ -n "$KEYTOOL" ] || die "no keytool: the keystores wine writes are judged by Java (.ci/run installs a JDK)"
echo "windows-check: $(wine --version 2>/dev/null), $(x86_64-w64-mingw32-gcc --version | head -n1), keytool $KEYTOOL"

# --- build -------------------------------------------------------------------------------
WORK=$(mktemp -d)
cleanup() {
  wineserver -k >/dev/null 2>&1 || true
  if [ -n "${AZURE_CACERTS_KEEP_WINE:-}" ]; then
    echo "kept: $WORK (the wine prefix, the batch files and their output in prefix/drive_c/t)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
echo "== cross-build (cache: $CARGO_TARGET_DIR)"
# The same command as scripts/release.sh: the .exe tested here is the one released.
if ! cargo rustc --locked --release --target "$TARGET" --bin azure-cacerts -- \
  -C link-arg=-Wl,--no-insert-timestamp >"$WORK/build.log" 2>&1; then
  tail -n 30 "$WORK/build.log"
  die "the release build for $TARGET failed"
fi
EXE="$CARGO_TARGET_DIR/$TARGET/release/azure-cacerts.exe"
[ -f "$EXE" ] || die "the release build produced no $EXE"
if grep -q '^warning' "$WORK/build.log"; then
  grep -A5 '^warning' "$WORK/build.log" | head -n 30
  fail "the release .exe builds without warnings"
else
  pass "the release .exe builds without warnings"
fi
if ! cargo test --locked --release --target "$TARGET" --lib --no-run >"$WORK/test-build.log" 2>&1; then
  tail -n 30 "$WORK/test-build.log"
  die "the unit tests did not build for $TARGET"
fi
TEST_EXE=$(sed -n 's/.*Executable unittests src\/lib.rs (\(.*\.exe\)).*/\1/p' "$WORK/test-build.log" | tail -n1)
[ -n "$TEST_EXE" ] && [ -f "$TEST_EXE" ] || die "no unit test executable in the build's output"
elapsed

# --- wine prefix -------------------------------------------------------------------------
# shellcheck source=wine/prefix.sh
. "$ROOT/scripts/wine/prefix.sh"
echo "== wine prefix in $WORK"
wine_prefix "$WORK" "$EXE" || die "the .exe does not start under wine: $(wine "$EXE" --version 2>&1 | head -n 3)"
C="$WINEPREFIX/drive_c"
pass "the .exe starts under wine ($(wine "$EXE" --version 2>&1 | tr -d '\r'))"
x86_64-w64-mingw32-gcc -O2 -municode -o "$WORK/holdlock.exe" "$ROOT/scripts/wine/holdlock.c" ||
  die "cannot build holdlock.exe"

# --- a PIMSYNC server --------------------------------------------------------------------
# C:\PIMSYNC as in the runbook, with the tool where docs/ja/README.md puts it;
# C:\Program Files\PIMSYNC Test (spaces); C:\ピムシンク (a Japanese name) whose CP932
# bin\startup.bat names "%PIMSYNC_HOME%\信頼ストア\trust.jks", with CP932 logs.
JKS="$ROOT/tests/fixtures/cacerts-debian.jks"
P12_NOPASS="$ROOT/tests/fixtures/keystore-samples/cacerts-debian-nopass-jdk25.p12"
P12="$ROOT/tests/fixtures/keystore-samples/pkcs12-default-jdk17.p12"
make_pimsync() { # DIR
  mkdir -p "$1/jre/lib/security" "$1/config" "$1/log" "$1/bin"
  cp "$JKS" "$1/jre/lib/security/cacerts"
  printf 'JAVA_VERSION="1.8.0_392"\r\n' >"$1/jre/release"
}
make_pimsync "$C/PIMSYNC"
mkdir -p "$C/PIMSYNC/azure-cacerts"
cp "$EXE" "$C/PIMSYNC/azure-cacerts/azure-cacerts.exe"
SPACED="$C/Program Files/PIMSYNC Test"
make_pimsync "$SPACED"
mkdir -p "$SPACED/keystores"
cp "$P12_NOPASS" "$SPACED/keystores/trust.p12"
JP="$C/ピムシンク"
make_pimsync "$JP"
mkdir -p "$JP/信頼ストア"
cp "$JKS" "$JP/信頼ストア/trust.jks"
cp "$P12" "$JP/信頼ストア/store.p12"
python3 - "$JP" <<'EOF'
import sys
home = sys.argv[1]
startup = ('@echo off\r\nrem PIMSYNC 起動スクリプト\r\n'
           'set JAVA_OPTS=-Xmx1g -Djavax.net.ssl.trustStore="%PIMSYNC_HOME%\\信頼ストア\\trust.jks" '
           '-Djavax.net.ssl.trustStorePassword=changeit\r\n')
open(home + '/bin/startup.bat', 'wb').write(startup.encode('cp932'))
log = ('INFO - 11/25 10:00:00|PIMSYNCサーバーを起動しました\r\n'
       'ERROR - 11/25 10:15:01|ユーザー[太郎]の同期タスク[exchange]の実行に失敗しました。\r\n'
       'javax.net.ssl.SSLHandshakeException: sun.security.validator.ValidatorException: '
       'PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: '
       'unable to find valid certification path to requested target\r\n')
open(home + '/log/server.log', 'wb').write(log.encode('cp932'))
EOF
mkdir -p "$C/t"
cp "$WORK/holdlock.exe" "$C/t/holdlock.exe"
# Japanese and spaced paths reach cmd through the environment (wine converts it from
# UTF-8), so that the batch files stay ASCII whatever code page cmd reads them in.
export PIMSYNC_JP='C:\ピムシンク' PIMSYNC_SPACED='C:\Program Files\PIMSYNC Test'
export JP_P12='C:\ピムシンク\信頼ストア\store.p12' JP_STORE='C:\ピムシンク\信頼ストア\trust.jks'
export JP_MISSING='C:\ピムシンク\存在しない.jks'
AC='C:\PIMSYNC\azure-cacerts\azure-cacerts.exe'
OUT="$C/t"

# bat NAME LINES...: writes C:\t\NAME.bat (CRLF) from the lines.
bat() {
  local name=$1
  shift
  { printf '@echo off\r\n'; printf '%s\r\n' "$@"; } >"$C/t/$name.bat"
}
# run NAME: runs C:\t\NAME.bat with cmd /c; stdout and stderr to $OUT/NAME.out, .err.
run() {
  wine cmd /c "C:\\t\\$1.bat" >"$OUT/$1.out" 2>"$OUT/$1.err" </dev/null
}
# run_console NAME: the same in a console (a pseudo-terminal), where chcp works.
run_console() {
  script -qec "wine cmd /c C:\\\\t\\\\$1.bat" /dev/null </dev/null >"$OUT/$1.console" 2>&1
}
entries() { # keystore file (Unix path) -> number of entries keytool sees
  "$KEYTOOL" -list -keystore "$1" -storepass changeit 2>/dev/null |
    sed -n 's/^Your keystore contains \([0-9]*\) entr.*/\1/p'
}
json() { # FILE PYTHON-EXPRESSION-ON-d
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1],encoding="utf-8")); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}
has() { grep -qF -- "$2" "$1"; }
# pycheck FILE EXPR: EXPR is true of the JSON document d (c: doctor's checks by id).
pycheck() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1],encoding="utf-8")); c={x["id"]:x for x in d.get("checks",[])}; sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}
rc_is() { [ "$1" = "$2" ]; }

echo "== flows under wine"; elapsed

# list, JSON parsed back, native separators, through PIMSYNC_HOME.
bat list_env 'set PIMSYNC_HOME=C:\PIMSYNC' "$AC list --format json > C:\\t\\list_env.json" "$AC diff > C:\\t\\diff_env.txt" 'exit /b %ERRORLEVEL%'
run list_env
rc=$?
check "diff through PIMSYNC_HOME finds CAs missing (exit 1)" rc_is "$rc" 1
check "list --format json parses back, path C:\\PIMSYNC\\jre\\lib\\security\\cacerts" \
  rc_is "$(json "$OUT/list_env.json" 'd["keystore"]["path"]+" "+str(d["keystore"]["entries"])')" \
  'C:\PIMSYNC\jre\lib\security\cacerts 144'
check "text output names the keystore with native separators only" \
  bash -c "grep -qF 'C:\\PIMSYNC\\jre\\lib\\security\\cacerts (JKS' '$OUT/diff_env.txt' && ! grep -q 'lib/security' '$OUT/diff_env.txt' && ! grep -qF '\\\\?\\' '$OUT/diff_env.txt'"

# import under C:\Program Files\... (JKS via --pimsync-home, PKCS12 via -k), backups.
before=$(entries "$SPACED/jre/lib/security/cacerts")
p12_before=$(entries "$SPACED/keystores/trust.p12")
bat import_spaced \
  "$AC import --pimsync-home \"%PIMSYNC_SPACED%\" --format json > C:\\t\\import_spaced.json" \
  'if errorlevel 1 exit /b %ERRORLEVEL%' \
  "$AC import --pimsync-home \"%PIMSYNC_SPACED%\" > C:\\t\\import_spaced2.txt" \
  'if errorlevel 1 exit /b %ERRORLEVEL%' \
  "$AC import -k \"%PIMSYNC_SPACED%\\keystores\\trust.p12\" --format json > C:\\t\\import_p12.json" \
  'exit /b %ERRORLEVEL%'
run import_spaced
rc=$?
added=$(json "$OUT/import_spaced.json" 'd["summary"]["added"]')
check "import under C:\\Program Files\\...: exit 0, CAs added" bash -c "[ $rc = 0 ] && [ '${added:-0}' -gt 0 ]"
check "keytool reads the JKS wine wrote: $before + $added entries" \
  rc_is "$(entries "$SPACED/jre/lib/security/cacerts")" "$((before + ${added:-0}))"
check "a second import adds nothing (0 added)" has "$OUT/import_spaced2.txt" "0 added"
backup=$(json "$OUT/import_spaced.json" 'd["backup"]')
check "a backup beside the keystore, the original bytes ($backup)" \
  bash -c "ls '$SPACED/jre/lib/security/'cacerts.*.bak >/dev/null && cmp -s '$JKS' \"\$(ls '$SPACED/jre/lib/security/'cacerts.*.bak | head -n1)\" && [[ '$backup' == 'C:\\Program Files\\PIMSYNC Test\\jre\\lib\\security\\cacerts.'*.bak ]]"
p12_added=$(json "$OUT/import_p12.json" 'd["summary"]["added"]')
check "PKCS12 (password-less, JDK 25) imported, keytool reads it: $p12_before + $p12_added" \
  bash -c "[ '${p12_added:-0}' -gt 0 ] && [ \"\$('$KEYTOOL' -list -keystore '$SPACED/keystores/trust.p12' -storepass changeit 2>/dev/null | sed -n 's/^Your keystore contains \\([0-9]*\\) entr.*/\\1/p')\" = $((p12_before + ${p12_added:-0})) ]"
check "no lock file left behind" bash -c "! ls '$SPACED/jre/lib/security/'*.lock '$SPACED/keystores/'*.lock 2>/dev/null | grep -q ."

# Japanese folder: the truststore named by a CP932 startup.bat, PKCS12 with a password,
# doctor on CP932 logs.
jp_before=$(entries "$JP/信頼ストア/trust.jks")
bat japanese \
  'set PIMSYNC_HOME=%PIMSYNC_JP%' \
  "$AC diff --format json > C:\\t\\jp_diff.json" \
  "$AC import --format json > C:\\t\\jp_import.json" \
  'if errorlevel 1 exit /b 10' \
  "$AC import -k \"%JP_P12%\" --storepass changeit --format json > C:\\t\\jp_p12.json" \
  'if errorlevel 1 exit /b 11' \
  "$AC doctor --format json > C:\\t\\jp_doctor.json" \
  'exit /b 0'
run japanese
rc=$?
check "diff finds the truststore a CP932 startup.bat names (C:\\ピムシンク\\信頼ストア\\trust.jks)" \
  rc_is "$(json "$OUT/jp_diff.json" 'd["keystore"]["path"]')" 'C:\ピムシンク\信頼ストア\trust.jks'
jp_added=$(json "$OUT/jp_import.json" 'd["summary"]["added"]')
check "import into the Japanese folder: keytool reads $jp_before + $jp_added" \
  bash -c "[ $rc = 0 ] && [ '${jp_added:-0}' -gt 0 ] && [ \"\$('$KEYTOOL' -list -keystore '$JP/信頼ストア/trust.jks' -storepass changeit 2>/dev/null | sed -n 's/^Your keystore contains \\([0-9]*\\) entr.*/\\1/p')\" = $((jp_before + ${jp_added:-0})) ]"
check "PKCS12 with a password in the Japanese folder imported" \
  bash -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$OUT/jp_p12.json\"))[\"summary\"][\"added\"])')\" -gt 0 ] && '$KEYTOOL' -list -keystore '$JP/信頼ストア/store.p12' -storepass changeit >/dev/null 2>&1"
check "doctor reads the CP932 log: the PKIX failure, with its Japanese message" \
  pycheck "$OUT/jp_doctor.json" 'c["logs-pkix"]["message"] == "ユーザー[太郎]の同期タスク[exchange]の実行に失敗しました。" and c["logs-pkix"]["file"] == r"C:\ピムシンク\log\server.log"'
check "doctor follows the CP932 startup.bat to the truststore" \
  pycheck "$OUT/jp_doctor.json" 'c["truststore"]["path"] == r"C:\ピムシンク\信頼ストア\trust.jks"'

# Read-only keystore: refused, exit 3, unchanged.
mkdir -p "$C/ro"
cp "$JKS" "$C/ro/cacerts"
bat readonly 'attrib +r C:\ro\cacerts' "$AC import -k C:\\ro\\cacerts" 'exit /b %ERRORLEVEL%'
run readonly
rc=$?
check "a read-only keystore: exit 3, one error line, file unchanged" \
  bash -c "[ $rc = 3 ] && cmp -s '$JKS' '$C/ro/cacerts' && grep -q '^error: .*read-only' '$OUT/readonly.err' && [ \$(wc -l <'$OUT/readonly.err') = 1 ]"

# Lock contention: another process holds LockFileEx on the lock file.
mkdir -p "$C/locked"
cp "$JKS" "$C/locked/cacerts"
rm -f "$C/t/ready" "$C/t/release"
wine "$C/t/holdlock.exe" 'C:\locked\cacerts.lock' 'C:\t\ready' 'C:\t\release' >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 300); do [ -e "$C/t/ready" ] && break; sleep 0.1; done
bat locked "$AC import -k C:\\locked\\cacerts --lock-timeout 2" 'exit /b %ERRORLEVEL%'
run locked
rc=$?
check "a keystore locked by another process (LockFileEx): exit 3 after --lock-timeout, unchanged" \
  bash -c "[ -e '$C/t/ready' ] && [ $rc = 3 ] && grep -q 'held by another process' '$OUT/locked.err' && cmp -s '$JKS' '$C/locked/cacerts'"
touch "$C/t/release"
wait "$holder"
run locked
rc=$?
check "once the other process lets go, the import goes through" rc_is "$rc" 0

# Two runs racing on the same keystore (take, write, remove the lock): both succeed, the
# CAs are added once.
mkdir -p "$C/race"
cp "$JKS" "$C/race/cacerts"
bat race1 "$AC import -k C:\\race\\cacerts --lock-timeout 120 --format json > C:\\t\\race1.json" 'exit /b %ERRORLEVEL%'
bat race2 "$AC import -k C:\\race\\cacerts --lock-timeout 120 --format json > C:\\t\\race2.json" 'exit /b %ERRORLEVEL%'
run race1 &
r1=$!
run race2 &
r2=$!
wait "$r1"
rc1=$?
wait "$r2"
rc2=$?
a1=$(json "$OUT/race1.json" 'd["summary"]["added"]')
a2=$(json "$OUT/race2.json" 'd["summary"]["added"]')
check "two imports racing: both exit 0, one adds ($a1 + $a2), keytool agrees, no lock left" \
  bash -c "[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ \$(( ${a1:-0} * ${a2:-0} )) = 0 ] && [ \$(( ${a1:-0} + ${a2:-0} )) -gt 0 ] && [ \"\$('$KEYTOOL' -list -keystore '$C/race/cacerts' -storepass changeit 2>/dev/null | sed -n 's/^Your keystore contains \\([0-9]*\\) entr.*/\\1/p')\" = \$(( 144 + ${a1:-0} + ${a2:-0} )) ] && ! [ -e '$C/race/cacerts.lock' ]"

# A PIMSYNC_HOME that ends in a backslash, in the quoted form: explained, exit 2; the
# runbook's form "%PIMSYNC_HOME%\." works with and without the backslash.
bat trailing 'set PIMSYNC_HOME=C:\PIMSYNC\' "$AC diff --pimsync-home \"%PIMSYNC_HOME%\" -q" 'exit /b %ERRORLEVEL%'
run trailing
rc=$?
check "\"%PIMSYNC_HOME%\" with PIMSYNC_HOME=C:\\PIMSYNC\\ : exit 2, says what happened and how to write it" \
  bash -c "[ $rc = 2 ] && grep -q '^error: a quote character inside an argument' '$OUT/trailing.err' && grep -qF '\"%PIMSYNC_HOME%\\.\"' '$OUT/trailing.err'"
for home in 'C:\PIMSYNC\' 'C:\PIMSYNC'; do
  bat immune "set PIMSYNC_HOME=$home" "$AC diff --pimsync-home \"%PIMSYNC_HOME%\\.\" > C:\\t\\immune.txt" 'exit /b %ERRORLEVEL%'
  run immune
  rc=$?
  check "\"%PIMSYNC_HOME%\\.\" with PIMSYNC_HOME=$home works and shows C:\\PIMSYNC\\jre\\lib\\security\\cacerts" \
    bash -c "[ $rc = 1 ] && grep -qF 'Keystore: C:\\PIMSYNC\\jre\\lib\\security\\cacerts (JKS' '$OUT/immune.txt'"
done

# The cmd lines of the Japanese runbook, verbatim (those that need the internet are left
# out), with PIMSYNC_HOME as setx would leave it: with and without a trailing backslash.
python3 - "$ROOT/docs/ja/README.md" "$WORK/doc-lines.txt" <<'EOF'
import re, sys
doc = open(sys.argv[1], encoding='utf-8').read()
lines = []
for block in re.findall(r'```bat\n(.*?)```', doc, re.S):
    for line in block.splitlines():
        if line.startswith('C:\\PIMSYNC\\azure-cacerts\\azure-cacerts.exe') and '--online' not in line and '--host' not in line:
            lines.append(line)
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(lines) + '\n')
EOF
doc_lines=$(grep -c . "$WORK/doc-lines.txt")
for home in 'C:\PIMSYNC\' 'C:\PIMSYNC'; do
  make_pimsync "$C/PIMSYNC"
  i=0
  ok=1
  while IFS= read -r line; do
    i=$((i + 1))
    bat "doc$i" "set PIMSYNC_HOME=$home" "$line" 'exit /b %ERRORLEVEL%'
    run "doc$i"
    rc=$?
    case "$line" in
      *" import "*) want="0" ;;
      *) want="0 1" ;;
    esac
    if [[ " $want " != *" $rc "* ]]; then
      ok=0
      echo "   runbook line $i (PIMSYNC_HOME=$home) exited $rc: $line"
      sed 's/^/   | /' "$OUT/doc$i.err" | head -n 3
    fi
  done <"$WORK/doc-lines.txt"
  check "the runbook's $doc_lines cmd lines run as written (PIMSYNC_HOME=$home)" rc_is "$ok$([ "$doc_lines" -gt 0 ] && echo y)" 1y
done
bat docdiff 'set PIMSYNC_HOME=C:\PIMSYNC' "$AC diff --pimsync-home \"%PIMSYNC_HOME%\\.\" -q" 'exit /b %ERRORLEVEL%'
run docdiff
check "after the runbook's import, its diff says nothing is missing (exit 0)" rc_is "$?" 0

# Redirected output under chcp 932 (a console is needed for chcp: a pseudo-terminal).
bat cp932 'chcp 932 >nul' \
  "$AC list -k \"%JP_STORE%\" > C:\\t\\list932.txt" \
  "$AC list -k \"%JP_STORE%\" --format json > C:\\t\\list932.json" \
  "$AC list -k \"%JP_MISSING%\" 2> C:\\t\\err932.txt" \
  "$AC list -k \"%JP_STORE%\" --color always > C:\\t\\color.txt" \
  'chcp 65001 >nul' \
  "$AC list -k \"%JP_STORE%\" > C:\\t\\list65001.txt" \
  'exit /b 0'
run_console cp932
decodes() { # FILE ENCODING TEXT: the file is valid in ENCODING and holds TEXT
  python3 -c 'import sys; sys.exit(sys.argv[3] not in open(sys.argv[1],"rb").read().decode(sys.argv[2]))' "$@" 2>/dev/null
}
not_utf8() { ! python3 -c 'import sys; open(sys.argv[1],"rb").read().decode("utf-8")' "$1" 2>/dev/null; }
check "chcp 932, text redirected to a file: CP932 (what type shows), not UTF-8" \
  bash -c "$(declare -f decodes not_utf8); decodes '$OUT/list932.txt' cp932 'C:\\ピムシンク\\信頼ストア\\trust.jks' && not_utf8 '$OUT/list932.txt'"
check "chcp 932, --format json redirected: UTF-8 JSON all the same" \
  rc_is "$(json "$OUT/list932.json" 'd["keystore"]["path"]')" 'C:\ピムシンク\信頼ストア\trust.jks'
check "chcp 932, an error line redirected (2>): CP932 too" \
  bash -c "$(declare -f decodes); decodes '$OUT/err932.txt' cp932 '存在しない.jks'"
check "chcp 65001: redirected text is UTF-8" \
  bash -c "$(declare -f decodes); decodes '$OUT/list65001.txt' utf-8 '信頼ストア'"
check "colours: --color always writes escape codes, auto redirected writes none" \
  bash -c "grep -q \$'\\x1b\\[' '$OUT/color.txt' && ! grep -q \$'\\x1b' '$OUT/list932.txt'"
# Without a console (a service, a task that redirects): UTF-8.
bat nocon "$AC list -k \"%JP_STORE%\" > C:\\t\\nocon.txt" 'exit /b %ERRORLEVEL%'
run nocon
check "no console at all: redirected text is UTF-8" \
  bash -c "$(declare -f decodes); decodes '$OUT/nocon.txt' utf-8 '信頼ストア'"
elapsed

# --- the library's unit tests, wine as the runner ----------------------------------------
echo "== unit tests under wine ($TEST_EXE)"
(cd "$ROOT" && wine "$TEST_EXE" --test-threads=2 </dev/null >"$WORK/unit.out" 2>&1)
rc=$?
tr -d '\r' <"$WORK/unit.out" | grep -E '^test result:|FAILED|panicked' | head -n 20 | sed 's/^/   /'
if [ "$rc" = 0 ] && tr -d '\r' <"$WORK/unit.out" | grep -q '^test result: ok'; then
  pass "the library's unit tests pass under wine ($(tr -d '\r' <"$WORK/unit.out" | sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p') tests, the lock's two-process race among them)"
else
  fail "the library's unit tests under wine (exit $rc)"
fi

echo "windows-check: $PASSED passed, $FAILED failed in $(($(date +%s) - started)) s"
[ "$FAILED" = 0 ]
