#!/usr/bin/env python3
"""Speed of azure-cacerts beside keytool and a one-JVM importer (issue: speed is measured,
not asserted). Builds what it needs, then prints one table: median CPU (user+sys of the
process and its children) and wall time of several runs of each command, and the ratios.

Usage: python3 scripts/bench.py [--runs N] [--java-home DIR]

The workload is the same for every contender: tests/fixtures/cacerts-debian.jks (JKS, 144
entries) and the CAs `azure-cacerts diff` reports missing from it (their PEMs from certs/pem).
Every import starts from a fresh copy of the keystore and ends with an fsync. No test runs
this script and nothing fails on a timing.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYSTORE = os.path.join(ROOT, "tests/fixtures/cacerts-debian.jks")


def run_measured(cmd, setup=None):
    """(cpu seconds, wall seconds) of one run; setup() runs before and is not measured.
    os.wait4 gives the rusage of exactly that process (and what it waited for)."""
    if setup:
        setup()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    # diff answers 1 when CAs are missing; anything else is a failure of the benchmark.
    if code not in (0, 1):
        sys.exit(f"{cmd[0]} exited {code}: {' '.join(cmd)}")
    return usage.ru_utime + usage.ru_stime, wall


def peak_kb(cmd, setup=None):
    """Peak resident memory of one run, by GNU time (a forked child's ru_maxrss still counts
    the Python process it was forked from); None without /usr/bin/time."""
    if not os.path.exists("/usr/bin/time"):
        return None
    if setup:
        setup()
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = out.read().strip().splitlines()
    return int(text[-1]) if text and text[-1].isdigit() else None


def median_of(runs, cmd, setup=None):
    samples = [run_measured(cmd, setup) for _ in range(runs)]
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
            peak_kb(cmd, setup))


def find_java(java_home):
    homes = [java_home] if java_home else []
    homes += ["/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/temurin-25-jdk-amd64"]
    if os.environ.get("JAVA_HOME"):
        homes.insert(0, os.environ["JAVA_HOME"])
    for h in homes:
        if h and os.path.exists(os.path.join(h, "bin/javac")):
            return h
    sys.exit("no JDK with javac found: pass --java-home DIR")


def untrusted_chain(work):
    """A server certificate, its intermediate and its root, of a private CA that no catalog
    CA anchors: what `check` works hardest on (it tries every catalog CA as a fix). Made with
    the openssl command when there is one; None otherwise."""
    if not shutil.which("openssl"):
        return None
    d = os.path.join(work, "chain")
    os.mkdir(d)
    def sh(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(d, "ca.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign\n")
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("subjectAltName=DNS:bench.example\nextendedKeyUsage=serverAuth\n")
    sh("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "r.key", "-out", "r.pem", "-subj", "/CN=Bench Root",
       "-days", "365", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign")
    for name, cn, issuer, ext in (("i", "Bench Intermediate", "r", "ca.ext"), ("l", "bench.example", "i", "leaf.ext")):
        sh("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}")
        sh("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key", "-CAcreateserial",
           "-out", f"{name}.pem", "-days", "200", "-extfile", ext)
    chain = os.path.join(d, "chain.pem")
    with open(chain, "w") as out:
        for name in ("l", "i", "r"):
            with open(os.path.join(d, f"{name}.pem")) as f:
                out.write(f.read())
    return chain


def fsync_cost(exe, ks, fresh, runs):
    """What the durability costs: the wall time an import spends inside fsync(2) (the
    temporary file and the directory; the backup too when one is made), read with strace -T.
    The fsyncs stay whatever they cost; this says how much of the wall time they are."""
    if not shutil.which("strace"):
        return "fsync cost: not measured (strace is not installed)"
    out = []
    for backup in (False, True):
        totals, counts = [], []
        for _ in range(runs):
            fresh()
            cmd = ["strace", "-f", "-T", "-e", "trace=fsync,fdatasync", exe, "import", "-k", ks]
            if not backup:
                cmd.append("--no-backup")
            err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
            times = [float(line.rsplit("<", 1)[1].rstrip(">")) for line in err.splitlines()
                     if "fsync(" in line and line.rstrip().endswith(">")]
            totals.append(sum(times))
            counts.append(len(times))
        label = "with backup" if backup else "--no-backup"
        out.append(f"{statistics.median(counts):.0f} fsyncs, {statistics.median(totals)*1000:.1f} ms ({label})")
    return "fsync cost of one import (wall time inside fsync, median): " + "; ".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--java-home")
    args = ap.parse_args()
    runs = args.runs

    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/azure-cacerts")
    java_home = find_java(args.java_home)
    java, javac, keytool = (os.path.join(java_home, "bin", t) for t in ("java", "javac", "keytool"))

    work = tempfile.mkdtemp(prefix="azure-cacerts-bench-")
    try:
        classes = os.path.join(work, "classes")
        os.mkdir(classes)
        subprocess.run([javac, "-d", classes, os.path.join(ROOT, "benches/java/BatchImport.java")], check=True)

        ks = os.path.join(work, "cacerts")
        fresh = lambda: shutil.copyfile(KEYSTORE, ks)
        fresh()
        diff = subprocess.run([exe, "diff", "-k", ks, "--format", "json"], capture_output=True, text=True)
        doc = json.loads(diff.stdout)
        slugs = {c["sha1"]: c for c in doc["cas"] if c["status"] == "missing"}
        catalog = json.loads(subprocess.run([exe, "catalog", "--format", "json"], capture_output=True, text=True, check=True).stdout)
        pems = [os.path.join(ROOT, "certs/pem", c["slug"] + ".pem") for c in catalog["cas"] if c["sha1"] in slugs]
        n = len(pems)

        rows = []
        rows.append(("azure-cacerts --version", median_of(runs, [exe, "--version"])))
        rows.append(("azure-cacerts catalog", median_of(runs, [exe, "catalog"])))
        rows.append(("azure-cacerts list -k cacerts", median_of(runs, [exe, "list", "-k", ks])))
        rows.append(("azure-cacerts diff -k cacerts", median_of(runs, [exe, "diff", "-k", ks])))
        chain = untrusted_chain(work)
        if chain:
            rows.append(("azure-cacerts check --chain (3 certs, untrusted)",
                         median_of(runs, [exe, "check", "-k", ks, "--chain", chain])))
        rows.append((f"azure-cacerts import -k cacerts --no-backup ({n} CAs)",
                     median_of(runs, [exe, "import", "-k", ks, "--no-backup"], fresh)))
        rows.append((f"one JVM, KeyStore API load + {n} adds + store",
                     median_of(max(3, runs // 3), [java, "-cp", classes, "BatchImport", ks, "changeit", *pems], fresh)))

        def keytool_loop():
            for i, p in enumerate(pems):
                subprocess.run([keytool, "-importcert", "-noprompt", "-keystore", ks, "-storepass", "changeit",
                                "-alias", f"bench-{i}", "-file", p], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        fresh()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        keytool_loop()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows.append((f"keytool -importcert x {n} (one run)",
                     ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall, None)))

        # The floor: hash the file, write it twice (temp file and backup) with fsync, rename.
        floor = (f"sha1sum '{ks}' >/dev/null && dd if='{ks}' of='{ks}.tmp' conv=fsync status=none && "
                 f"dd if='{ks}' of='{ks}.bak' conv=fsync status=none && mv '{ks}.tmp' '{ks}'")
        rows.append(("floor: sha1sum + 2 x dd conv=fsync + mv", median_of(runs, ["sh", "-c", floor], fresh)))

        fsync_note = fsync_cost(exe, ks, fresh, runs)

        imp_cpu, imp_wall, _ = next(r[1] for r in rows if " import " in r[0])
        width = max(len(r[0]) for r in rows)
        print(f"{'command':<{width}}  {'CPU ms':>9}  {'wall ms':>9}  {'peak MB':>8}  {'CPU / import':>12}  {'wall / import':>13}")
        for name, (cpu, wall, rss) in rows:
            peak = f"{rss / 1024:.1f}" if rss else "-"
            print(f"{name:<{width}}  {cpu*1000:>9.1f}  {wall*1000:>9.1f}  {peak:>8}  {cpu/imp_cpu:>12.1f}  {wall/imp_wall:>13.1f}")
        print(f"\n{runs} runs each (median), {os.cpu_count()} cores, {java_home}")
        print(fsync_note)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
