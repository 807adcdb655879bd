#!/usr/bin/env bash
# Builds what a user downloads, from the checked-out commit, into dist/ (or the folder given):
#
#   azure-cacerts-VERSION-x86_64-pc-windows-gnu.zip
#       azure-cacerts.exe, README.md, README-ja.md (the Japanese runbook), scheduling.md,
#       azure-cacerts-refresh.xml (the Task Scheduler definition), LICENSE-MIT,
#       LICENSE-APACHE, THIRD-PARTY.txt
#   azure-cacerts-VERSION-x86_64-unknown-linux-musl.tar.gz
#       azure-cacerts-VERSION-x86_64-unknown-linux-musl/ with the static binary and the same
#       documents
#   SHA256SUMS   (sha256sum -c SHA256SUMS; on Windows: certutil -hashfile FILE SHA256)
#
#   bash scripts/release.sh [DIR]
#
# Reproducible: the same commit gives the same bytes. Archive entries are sorted and dated
# at the commit's time with fixed modes; the .exe is linked without a PE time stamp; cargo
# builds with --locked in a cache outside the clone ($AZURE_CACERTS_CROSS_TARGET_DIR, default
# ~/.cache/azure-cacerts-win, shared with scripts/windows-check.sh). Needs a clean work tree
# (uncommitted changes would ship without a commit to reproduce them from); installs the
# Rust targets, mingw and musl-tools when missing. Checks: the musl binary runs here, the
# .exe inside the .zip runs under wine (scripts/windows-check.sh tests it in depth).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=$(realpath -m "${1:-dist}")
WIN=x86_64-pc-windows-gnu
MUSL=x86_64-unknown-linux-musl
export CARGO_TARGET_DIR="${AZURE_CACERTS_CROSS_TARGET_DIR:-${AZURE_CACERTS_WIN_TARGET:-$HOME/.cache/azure-cacerts-win}}"
export DEBIAN_FRONTEND=noninteractive

if [ -n "$(git status --porcelain --untracked-files=no)" ] && [ -z "${ALLOW_DIRTY:-}" ]; then
  echo "error: uncommitted changes (release.sh): a release is built from a commit. Commit or stash them (ALLOW_DIRTY=1 for a trial build)." >&2
  exit 2
fi
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
COMMIT=$(git rev-parse HEAD)
export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)

apt_install() {
  apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1; }
}
for t in "$WIN" "$MUSL"; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t" >/dev/null
done
command -v x86_64-w64-mingw32-gcc >/dev/null || apt_install gcc-mingw-w64-x86-64
command -v musl-gcc >/dev/null || apt_install musl-tools

echo "== building $VERSION ($COMMIT) into $DIST, cache $CARGO_TARGET_DIR"
# `cargo rustc` passes the flag to the final link only, so the dependencies' cache is the one
# the plain builds use.
cargo rustc --locked --release --target "$WIN" --bin azure-cacerts -- \
  -C link-arg=-Wl,--no-insert-timestamp
CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-musl-gcc} \
  cargo build --locked --release --target "$MUSL" --bin azure-cacerts
EXE="$CARGO_TARGET_DIR/$WIN/release/azure-cacerts.exe"
ELF="$CARGO_TARGET_DIR/$MUSL/release/azure-cacerts"

# The musl binary is static and runs here.
if file "$ELF" | grep -q 'dynamically linked'; then
  echo "error: $ELF is dynamically linked" >&2
  exit 1
fi
"$ELF" --version
"$ELF" catalog --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["cas"]) > 0'

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
docs() { # DIR: the documents every archive carries
  cp README.md "$1/README.md"
  cp docs/ja/README.md "$1/README-ja.md"
  cp docs/scheduling.md "$1/scheduling.md"
  cp docs/azure-cacerts-refresh.xml "$1/azure-cacerts-refresh.xml"
  cp LICENSE-MIT LICENSE-APACHE "$1/"
  # Every crate compiled into the binaries, with its licence (Cargo.lock's packages).
  cargo metadata --locked --format-version 1 --filter-platform "$WIN" --filter-platform "$MUSL" |
    python3 -c "$THIRD_PARTY" >"$1/THIRD-PARTY.txt"
}
THIRD_PARTY=$(
  cat <<'EOF'
import json, sys
m = json.load(sys.stdin)
normal = {}
for n in m["resolve"]["nodes"]:
    for d in n["deps"]:
        if any(k["kind"] in (None, "build") for k in d["dep_kinds"]):
            normal.setdefault(n["id"], set()).add(d["pkg"])
root = m["resolve"]["root"]
seen, todo = set(), [root]
while todo:
    i = todo.pop()
    if i not in seen:
        seen.add(i)
        todo.extend(normal.get(i, ()))
print("Crates compiled into azure-cacerts (or run to build it) and their licences (SPDX).")
print("Each licence text is in the crate as published on crates.io, same name and version.")
print()
crates = [p for p in m["packages"] if p["id"] in seen and p["id"] != root]
for p in sorted(crates, key=lambda p: (p["name"], p["version"])):
    print("%s %s: %s" % (p["name"], p["version"], p.get("license") or "see the crate"))
EOF
)

# Deterministic archives: sorted names, the commit's time, fixed modes, no owner names.
pack() { # KIND ARCHIVE DIR
  python3 - "$@" <<'EOF'
import gzip, io, os, sys, tarfile, time, zipfile
kind, archive, top = sys.argv[1:]
stamp = int(os.environ["SOURCE_DATE_EPOCH"])
base = os.path.dirname(top)
files = []
for d, _, names in os.walk(top):
    for n in names:
        files.append(os.path.join(d, n))
files.sort()
def mode(p):
    return 0o755 if os.access(p, os.X_OK) and not p.endswith(('.md', '.xml', '.txt')) and 'LICENSE' not in p else 0o644
if kind == 'zip':
    # The .zip holds the files at its top (Expand-Archive puts them in the folder named).
    with zipfile.ZipFile(archive, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for p in files:
            info = zipfile.ZipInfo(os.path.relpath(p, top), time.gmtime(max(stamp, 315532800))[:6])
            info.external_attr = mode(p) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            z.writestr(info, open(p, 'rb').read())
else:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.GNU_FORMAT) as t:
        dirs = sorted({os.path.dirname(p) for p in files})
        for p in dirs + files:
            info = t.gettarinfo(p, os.path.relpath(p, base))
            info.mtime, info.uid, info.gid, info.uname, info.gname = stamp, 0, 0, '', ''
            info.mode = 0o755 if info.isdir() else mode(p)
            if info.isdir():
                t.addfile(info)
            else:
                t.addfile(info, open(p, 'rb'))
    with open(archive, 'wb') as f:
        with gzip.GzipFile(filename='', mode='wb', fileobj=f, mtime=stamp, compresslevel=9) as g:
            g.write(raw.getvalue())
EOF
}

mkdir -p "$DIST"
WIN_NAME="azure-cacerts-$VERSION-$WIN"
MUSL_NAME="azure-cacerts-$VERSION-$MUSL"
mkdir -p "$STAGE/$WIN_NAME" "$STAGE/$MUSL_NAME"
cp "$EXE" "$STAGE/$WIN_NAME/azure-cacerts.exe"
docs "$STAGE/$WIN_NAME"
cp "$ELF" "$STAGE/$MUSL_NAME/azure-cacerts"
chmod 755 "$STAGE/$MUSL_NAME/azure-cacerts"
docs "$STAGE/$MUSL_NAME"
rm -f "$DIST/$WIN_NAME.zip" "$DIST/$MUSL_NAME.tar.gz" "$DIST/SHA256SUMS"
pack zip "$DIST/$WIN_NAME.zip" "$STAGE/$WIN_NAME"
pack tar "$DIST/$MUSL_NAME.tar.gz" "$STAGE/$MUSL_NAME"
(cd "$DIST" && sha256sum "$WIN_NAME.zip" "$MUSL_NAME.tar.gz" >SHA256SUMS)

# What a user does: verify, unpack, run.
(cd "$DIST" && sha256sum -c SHA256SUMS)
CHECK=$(mktemp -d)
trap 'rm -rf "$STAGE" "$CHECK"' EXIT
tar -xzf "$DIST/$MUSL_NAME.tar.gz" -C "$CHECK"
"$CHECK/$MUSL_NAME/azure-cacerts" --version
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$DIST/$WIN_NAME.zip" "$CHECK/win"
if command -v wine >/dev/null; then
  # shellcheck source=wine/prefix.sh
  . "$ROOT/scripts/wine/prefix.sh"
  wine_prefix "$CHECK" "$CHECK/win/azure-cacerts.exe"
  wine "$CHECK/win/azure-cacerts.exe" --version | tr -d '\r'
  wine "$CHECK/win/azure-cacerts.exe" list -k "Z:$(echo "$ROOT/tests/fixtures/cacerts-debian.jks" | tr / '\\')" -q --format json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["keystore"]["entries"] == 144, d["keystore"]'
  wineserver -k >/dev/null 2>&1 || true
  echo "the .exe from the .zip runs under wine (list of a 144-entry JKS)"
else
  echo "note: wine is not installed; the .exe was not run (scripts/windows-check.sh installs it)"
fi
echo "== $DIST"
cat "$DIST/SHA256SUMS"
