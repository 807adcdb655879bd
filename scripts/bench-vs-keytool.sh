#!/usr/bin/env bash
# Imports the missing Azure CAs into copies of Debian's cacerts (a) with azure-cacerts and
# (b) with one `keytool -importcert` per certificate, and prints both times and the ratio.
# Usage: scripts/bench-vs-keytool.sh [CACERTS] (default /etc/ssl/certs/java/cacerts; never written)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/etc/ssl/certs/java/cacerts}
keytool=${KEYTOOL:-$(command -v keytool)}
cargo build --release --quiet
bin=target/release/azure-cacerts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$src" "$work/ours"; cp "$src" "$work/theirs"
"$bin" diff -k "$work/theirs" --format json > "$work/diff.json" || true
# The certificates import would add, as PEM files for keytool.
python3 - "$work" <<'PY'
import json, sys, pathlib
work = pathlib.Path(sys.argv[1])
d = json.loads((work / "diff.json").read_text())
names = [c for c in d["cas"] if c["status"] == "missing"]
(work / "missing.txt").write_text("\n".join(c["sha1"] for c in names))
print(f"{len(names)} CAs missing")
PY
"$bin" fetch --out "$work/bundle" --quiet >/dev/null

# Pick the PEM of each missing CA before timing anything.
: > "$work/pems.txt"
for sha1 in $(cat "$work/missing.txt"); do
  for f in "$work"/bundle/pem/*.pem; do
    if openssl x509 -in "$f" -noout -fingerprint -sha1 | tr -d ':' | grep -qi "$sha1"; then echo "$f" >> "$work/pems.txt"; break; fi
  done
done

now_ms() { date +%s%N | cut -b1-13; }
t0=$(now_ms)
"$bin" import -k "$work/ours" --no-backup --quiet --bundle "$work/bundle" >/dev/null
t1=$(now_ms)
n=0
while read -r pem; do
  "$keytool" -importcert -noprompt -keystore "$work/theirs" -storepass changeit -alias "bench-$n" -file "$pem" >/dev/null 2>&1
  n=$((n+1))
done < "$work/pems.txt"
t2=$(now_ms)
ours=$((t1-t0)); theirs=$((t2-t1))
echo "azure-cacerts import (one process):     ${ours} ms"
echo "keytool -importcert x $n (one JVM each): ${theirs} ms"
if [ "$ours" -gt 0 ]; then echo "ratio: $(python3 -c "print(round($theirs/$ours,1))")x"; fi
