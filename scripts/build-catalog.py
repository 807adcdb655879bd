#!/usr/bin/env python3
"""Builds the built-in Azure CA catalog from the research data in ../shared/azure-ca.

Writes (and overwrites, so it can be re-run at any time):
  certs/catalog.toml            one [[ca]] table per CA: listed, retired and extra
  certs/pem/<slug>.pem          every certificate with a verified copy, re-encoded canonically
  src/catalog/builtin_records.rs  the same catalog as Rust data, so a run parses no TOML
(build.rs turns certs/pem/ into the DER the binary embeds; the tests prove both agree with
catalog.toml and the pins.)

The manifest's thumbprints are not taken on trust: every PEM is decoded here, its SHA-1 must
equal the page thumbprint, its SHA-256 the manifest's, and serial/notAfter are read from the
certificate itself (and must agree with what the manifest recorded with openssl). Any
disagreement stops the script before a file is written.

Usage: python3 scripts/build-catalog.py [--shared DIR] [--check]
  --shared DIR  the research data (default: ../shared beside the repository)
  --check       write nothing; exit 1 if the committed files differ from what would be written
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import re
import sys
import tomllib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Where `--online` reads the page by default; recorded so the catalog says where it came from.
RAW_PAGE_URL = (
    "https://raw.githubusercontent.com/MicrosoftDocs/azure-docs/main/"
    "articles/security/fundamentals/azure-certificate-authority-details.md"
)


def fail(msg):
    print(f"build-catalog: {msg}", file=sys.stderr)
    sys.exit(1)


# ---- a minimal DER reader: enough to reach serial and validity without a crypto library


def tlv(buf, pos):
    """(tag, value_start, value_end) of the TLV at pos."""
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > len(buf):
        raise ValueError("DER value runs past the end")
    return tag, pos, pos + length


def children(buf, start, end):
    out = []
    pos = start
    while pos < end:
        tag, vs, ve = tlv(buf, pos)
        out.append((tag, vs, ve))
        pos = ve
    return out


def der_time(tag, raw):
    text = raw.decode("ascii")
    if tag == 0x17:  # UTCTime, RFC 5280: YY < 50 is 20YY
        yy = int(text[0:2])
        year = 2000 + yy if yy < 50 else 1900 + yy
        rest = text[2:]
    elif tag == 0x18:
        year = int(text[0:4])
        rest = text[4:]
    else:
        raise ValueError(f"unexpected time tag {tag:#x}")
    return datetime.date(year, int(rest[0:2]), int(rest[2:4]))


def cert_facts(der):
    tag, s, e = tlv(der, 0)
    if tag != 0x30 or e != len(der):
        raise ValueError("not a single DER certificate")
    tbs_tag, ts, te = children(der, s, e)[0]
    fields = children(der, ts, te)
    i = 1 if fields[0][0] == 0xA0 else 0  # optional [0] version
    _, ss, se = fields[i]
    serial = der[ss:se].hex()
    _, vs, ve = fields[i + 3]
    (nb_tag, nbs, nbe), (na_tag, nas, nae) = children(der, vs, ve)
    return {
        "serial": serial,
        "not_before": der_time(nb_tag, der[nbs:nbe]),
        "not_after": der_time(na_tag, der[nas:nae]),
    }


def read_pem(path):
    with open(path, "r", encoding="ascii") as f:
        text = f.read()
    m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
    if not m:
        fail(f"{path}: no PEM certificate")
    if text.count("BEGIN CERTIFICATE") != 1:
        fail(f"{path}: more than one certificate")
    return base64.b64decode("".join(m.group(1).split()), validate=True)


def to_pem(der):
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def norm_serial(s):
    s = s.strip().lower()
    if s.startswith("0x"):
        s = s[2:]
    return s


def q(value):
    """A TOML basic string (JSON's escapes are a subset TOML accepts)."""
    return json.dumps(value, ensure_ascii=False)


def build(shared):
    manifest_path = os.path.join(shared, "azure-ca", "manifest.toml")
    with open(manifest_path, "rb") as f:
        m = tomllib.load(f)

    groups = [("listed", m.get("ca", [])), ("retired", m.get("retired", [])), ("extra", m.get("extra", []))]
    entries = []
    pems = {}  # file name -> PEM text
    for status, rows in groups:
        for row in rows:
            name = row["name"]
            variant = row.get("variant")
            sha1 = row["sha1"].replace(":", "").upper()
            if not re.fullmatch(r"[0-9A-F]{40}", sha1):
                fail(f"{name}: bad SHA-1 {row['sha1']!r}")
            e = {
                "name": name,
                "role": row["role"],
                "variant": variant,
                "status": status,
                "sha1": sha1,
                "sha256": None,
                "serial": norm_serial(row["serial"]) if row.get("serial") else None,
                "not_after": None,
                "not_after_source": None,
                "urls": list(row.get("urls", [])),
                "pem": None,
                "removed": row.get("removed"),
                "note": row.get("note"),
            }
            if row.get("pem"):
                src = os.path.join(shared, "azure-ca", row["pem"])
                der = read_pem(src)
                got1 = hashlib.sha1(der).hexdigest().upper()
                got256 = hashlib.sha256(der).hexdigest().upper()
                if got1 != sha1:
                    fail(f"{src}: SHA-1 {got1} but the page says {sha1}")
                if row.get("sha256") and row["sha256"].upper() != got256:
                    fail(f"{src}: SHA-256 {got256} but the manifest says {row['sha256']}")
                facts = cert_facts(der)
                if row.get("cert_serial") and norm_serial(row["cert_serial"]) != facts["serial"]:
                    fail(f"{src}: serial {facts['serial']} but the manifest says {row['cert_serial']}")
                if row.get("expires") and row["expires"] != facts["not_after"]:
                    fail(f"{src}: notAfter {facts['not_after']} but the manifest says {row['expires']}")
                # The PEM file stem is the slug: stable, and already unique across the data.
                slug = os.path.splitext(os.path.basename(row["pem"]))[0]
                e["sha256"] = got256
                e["serial"] = facts["serial"]
                e["not_after"] = facts["not_after"].isoformat()
                e["pem"] = f"{slug}.pem"
                pems[e["pem"]] = to_pem(der)
            else:
                # Same naming rule as the PEM files: the xsign twin carries the suffix.
                slug = slugify(name) + ("-xsign" if variant == "xsign" else "")
                if row.get("expires"):
                    # No copy of the certificate: the date an older page printed for it.
                    e["not_after"] = row["expires"].isoformat()
                    e["not_after_source"] = "page"
            e["slug"] = slug
            entries.append(e)

    slugs = [e["slug"] for e in entries]
    dupes = sorted({s for s in slugs if slugs.count(s) > 1})
    if dupes:
        fail(f"duplicate slugs: {dupes}")
    for s in slugs:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", s):
            fail(f"slug {s!r} is not lower-case alphanumeric with dashes")
    shas = [e["sha1"] for e in entries]
    if len(set(shas)) != len(shas):
        fail("duplicate SHA-1 thumbprints")
    return m, entries, pems


def render_catalog(m, entries):
    date = m["page_ms_date"]
    date = date.isoformat() if hasattr(date, "isoformat") else str(date)
    checked = m["checked_on"]
    checked = checked.isoformat() if hasattr(checked, "isoformat") else str(checked)
    counts = {s: sum(1 for e in entries if e["status"] == s) for s in ("listed", "retired", "extra")}
    out = [
        "# The built-in Azure CA catalog. GENERATED by scripts/build-catalog.py from",
        "# ../shared/azure-ca/manifest.toml: do not edit by hand, re-run the script.",
        "#",
        f"# {counts['listed']} CAs listed on the page, {counts['retired']} retired from it, "
        f"{counts['extra']} extra (not on the page).",
        "# status: listed | retired | extra. sha1 = the page thumbprint; sha256, serial and",
        "# not_after are read from the certificate (pem = certs/pem/<file>). A CA without `pem`",
        "# has no verified copy offline. not_after_source = \"page\": no copy, the date an",
        "# older page version printed.",
        "",
        "schema_version = 1",
        'source = "built-in"',
        f"page_title = {q(m['page_title'])}",
        f"page_url = {q(m['page_url'])}",
        f"page_source_url = {q(RAW_PAGE_URL)}",
        f"page_repo = {q(m['page_repo'])}",
        f"page_path = {q(m['page_path'])}",
        f"page_commit = {q(m['page_commit'])}",
        f"page_date = {q(date)}",
        f"checked_on = {q(checked)}",
    ]
    for e in entries:
        out.append("")
        out.append("[[ca]]")
        out.append(f"slug = {q(e['slug'])}")
        out.append(f"name = {q(e['name'])}")
        out.append(f"role = {q(e['role'])}")
        if e["variant"]:
            out.append(f"variant = {q(e['variant'])}")
        out.append(f"status = {q(e['status'])}")
        out.append(f"sha1 = {q(e['sha1'])}")
        if e["sha256"]:
            out.append(f"sha256 = {q(e['sha256'])}")
        if e["serial"]:
            out.append(f"serial = {q(e['serial'])}")
        if e["not_after"]:
            out.append(f"not_after = {q(e['not_after'])}")
        if e["not_after_source"]:
            out.append(f"not_after_source = {q(e['not_after_source'])}")
        out.append("urls = [" + ", ".join(q(u) for u in e["urls"]) + "]")
        if e["pem"]:
            out.append(f"pem = {q(e['pem'])}")
        if e["removed"]:
            removed = e["removed"]
            removed = removed.isoformat() if hasattr(removed, "isoformat") else str(removed)
            out.append(f"removed = {q(removed)}")
        if e["note"]:
            out.append(f"note = {q(e['note'])}")
    return "\n".join(out) + "\n"


def rs(value):
    """A Rust string literal."""
    out = []
    for ch in value:
        if ch in "\\\"":
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    return '"' + "".join(out) + '"'


def rs_opt(value):
    if value is None or value == "":
        return "None"
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    return f"Some({rs(str(value))}.into())"


def render_records(m, entries):
    """catalog.toml as the Rust value serde would make of it (file::CatalogFile)."""
    date = m["page_ms_date"]
    date = date.isoformat() if hasattr(date, "isoformat") else str(date)
    checked = m["checked_on"]
    checked = checked.isoformat() if hasattr(checked, "isoformat") else str(checked)
    out = [
        "// GENERATED by scripts/build-catalog.py: do not edit by hand, re-run the script.",
        "// certs/catalog.toml as data, so that a run parses no TOML; a test proves the two equal.",
        "",
        "use super::file::{CaRecord, CatalogFile};",
        "",
        "#[rustfmt::skip]",
        "pub(super) fn catalog_file() -> CatalogFile {",
        "    CatalogFile {",
        "        schema_version: 1,",
        '        source: "built-in".into(),',
        f"        page_title: {rs_opt(m['page_title'])},",
        f"        page_url: {rs_opt(m['page_url'])},",
        f"        page_source_url: {rs_opt(RAW_PAGE_URL)},",
        f"        page_commit: {rs_opt(m['page_commit'])},",
        f"        page_date: {rs_opt(date)},",
        f"        checked_on: {rs_opt(checked)},",
        "        fetched_on: None,",
        "        generated_by: None,",
        "        cas: vec![",
    ]
    for e in entries:
        urls = ", ".join(f"{rs(u)}.into()" for u in e["urls"])
        out.append(
            "            CaRecord { "
            f"slug: {rs(e['slug'])}.into(), name: {rs(e['name'])}.into(), role: {rs(e['role'])}.into(), "
            f"variant: {rs_opt(e['variant'])}, status: {rs(e['status'])}.into(), sha1: {rs(e['sha1'])}.into(), "
            f"sha256: {rs_opt(e['sha256'])}, serial: {rs_opt(e['serial'])}, not_after: {rs_opt(e['not_after'])}, "
            f"not_after_source: {rs_opt(e['not_after_source'])}, urls: vec![{urls}], pem: {rs_opt(e['pem'])}, "
            f"removed: {rs_opt(e['removed'])}, note: {rs_opt(e['note'])} }},"
        )
    out += ["        ],", "    }", "}"]
    return "\n".join(out) + "\n"


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    m, entries, pems = build(args.shared)
    pem_dir = os.path.join(REPO, "certs", "pem")
    outputs = {os.path.join(pem_dir, name): text for name, text in pems.items()}
    outputs[os.path.join(REPO, "certs", "catalog.toml")] = render_catalog(m, entries)
    outputs[os.path.join(REPO, "src", "catalog", "builtin_records.rs")] = render_records(m, entries)

    if args.check:
        stale = []
        for path, text in sorted(outputs.items()):
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        if os.path.isdir(pem_dir):
            stale += [os.path.join(pem_dir, n) for n in sorted(os.listdir(pem_dir)) if n.endswith(".pem") and n not in pems]
        if stale:
            fail("out of date, re-run scripts/build-catalog.py: " + ", ".join(os.path.relpath(p, REPO) for p in stale))
        print(f"catalog: up to date ({len(entries)} CAs, {len(pems)} PEM files)")
        return

    os.makedirs(pem_dir, exist_ok=True)
    for path, text in outputs.items():
        write(path, text)
    # A CA that left the data must not linger as an embedded file.
    for name in os.listdir(pem_dir):
        if name.endswith(".pem") and name not in pems:
            os.remove(os.path.join(pem_dir, name))

    counts = {s: sum(1 for e in entries if e["status"] == s) for s in ("listed", "retired", "extra")}
    print(
        f"catalog: {len(entries)} CAs ({counts['listed']} listed, {counts['retired']} retired, "
        f"{counts['extra']} extra), {len(pems)} PEM files"
    )


if __name__ == "__main__":
    main()
