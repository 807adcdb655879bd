//! `doctor` end to end on fake PIMSYNC installations built in a temporary directory: an
//! all-good one, a broken one (every problem the doctor knows), and a healed one whose logs
//! still hold errors from before the fixes.

use crate::common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use common::*;
use serde_json::Value;
use time::macros::datetime;
use time::OffsetDateTime;

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn set_mtime(path: &Path, t: OffsetDateTime) {
    let f = File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::from(t)).unwrap();
}

/// Shift_JIS with Windows line endings, as PIMSYNC writes on Japanese Windows.
fn sjis(text: &str) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&crlf);
    assert!(!unmappable, "test text must be Shift_JIS");
    bytes.into_owned()
}

/// A real JKS to stand for the truststore: Debian's cacerts, else the small sample.
fn some_cacerts() -> PathBuf {
    debian_cacerts().unwrap_or_else(|| sample("jks-jdk17.jks"))
}

const SERVER_LOG_OK: &str = "\
INFO - 11/25 09:00:00|PIMSYNCの起動を開始します。
INFO - 11/25 09:00:05|PIMSYNCを起動しました。
INFO - 11/25 10:20:00|同期タスク[exchange]を終了しました。
";

const SERVER_LOG_PKIX: &str = "\
INFO - 11/25 09:00:00|PIMSYNCの起動を開始します。
INFO - 11/25 09:00:05|PIMSYNCを起動しました。
ERROR - 11/25 10:15:01|ユーザー[tanaka]の同期タスク[exchange]の実行に失敗しました。
javax.net.ssl.SSLHandshakeException: sun.security.validator.ValidatorException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target
\tat sun.security.ssl.Alerts.getSSLException(Alerts.java:192)
INFO - 11/25 10:20:00|同期タスク[exchange]を終了しました。
";

const SYNCTASK_OK: &str = "\
INFO - 11/25 10:00:00|同期を開始します。
INFO - 11/25 10:30:00|同期を終了します。
";

const SYNCTASK_403: &str = "\
INFO - 11/25 10:00:00|同期を開始します。
ERROR - 11/25 10:10:00|ユーザー[tanaka]の同期タスク[exchange]の実行に失敗しました。
jp.co.example.pimsync.AdapterException: 接続に失敗しました
\tat jp.co.example.pimsync.exchange.Client.call(Client.java:120)
\tat jp.co.example.pimsync.exchange.Client.sync(Client.java:80)
Caused by: com.sun.xml.internal.ws.client.ClientTransportException: サーバーがHTTPステータス・コード403を送信しました: Forbidden
\tat com.sun.xml.internal.ws.transport.http.client.HttpClientTransport.readResponseCodeAndMessage(HttpClientTransport.java:210)
INFO - 11/25 10:30:00|同期を終了します。
";

const SYNCTASK_403_OLDER: &str = "\
ERROR - 11/24 15:00:00|ユーザー[tanaka]の同期タスク[exchange]の実行に失敗しました。
com.sun.xml.internal.ws.client.ClientTransportException: The server sent HTTP status code 403: Forbidden
INFO - 11/24 16:00:00|同期を終了します。
";

/// connect_test.log with bytes that are neither UTF-8 nor Shift_JIS, and an older PKIX line.
fn connect_test_log(with_pkix: bool) -> Vec<u8> {
    let mut b = b"INFO - 11/25 08:00:00|\xff\xfe\x80 \x82\r\n".to_vec();
    if with_pkix {
        b.extend_from_slice(b"ERROR - 11/25 08:00:01|\x83\xff javax.net.ssl.SSLHandshakeException: PKIX path building failed\r\n");
    }
    b.extend_from_slice(b"INFO - 11/25 08:00:05|end\xfd\r\n\x81");
    b
}

struct Tree {
    _dir: tempfile::TempDir,
    home: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Good,
    Broken,
    /// Good now, with errors in the rolled logs from before the patch and the import.
    Healed,
}

fn build(kind: Kind) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("PIMSYNC");
    let java = if kind == Kind::Broken {
        "1.8.0_72"
    } else {
        "1.8.0_392"
    };
    write(
        &home.join("jre/release"),
        format!("IMPLEMENTOR=\"Oracle Corporation\"\nJAVA_VERSION=\"{java}\"\nOS_NAME=\"Linux\"\n")
            .as_bytes(),
    );
    write(&home.join("jre/lib/rt.jar"), b"");
    fs::create_dir_all(home.join("jre/lib/security")).unwrap();
    copy_writable(
        &sample("jks-jdk17.jks"),
        &home.join("jre/lib/security/cacerts"),
    );
    // The start-up script points Java at a truststore of its own under keystore/: a shell
    // script in the good trees, a Windows batch file in the broken one.
    if kind == Kind::Broken {
        write(
            &home.join("bin/startup.bat"),
            b"@echo off\r\nrem -Djavax.net.ssl.trustStore=C:\\old\\trust.jks\r\nset JAVA_OPTS=-Xmx1g -Djavax.net.ssl.trustStore=\"%PIMSYNC_HOME%\\keystore\\truststore.jks\"\r\n\"%PIMSYNC_HOME%\\jre\\bin\\java.exe\" %JAVA_OPTS% -jar lib\\pimsync.jar\r\n",
        );
    } else {
        write(
            &home.join("bin/pimsync.sh"),
            b"#!/bin/sh\nJAVA_OPTS=\"-Xmx1g -Djavax.net.ssl.trustStore=$PIMSYNC_HOME/keystore/truststore.jks\"\nexec \"$PIMSYNC_HOME/jre/bin/java\" $JAVA_OPTS -jar lib/pimsync.jar\n",
        );
    }
    write(&home.join("config/pim.properties"), b"pim.host=localhost\n");
    fs::create_dir_all(home.join("config/PATCH-INF")).unwrap();
    fs::create_dir_all(home.join("keystore")).unwrap();
    let truststore = home.join("keystore/truststore.jks");
    copy_writable(&some_cacerts(), &truststore);

    if kind != Kind::Broken {
        // A folder in one tree, a file in the other: both are markers.
        let marker = home.join("config/PATCH-INF/PIM22SP7_241204_07");
        if kind == Kind::Good {
            write(&marker.join("PIM22SP7_241204_07_README.txt"), b"readme\n");
        } else {
            write(&marker, b"applied\n");
            // Applied before the last start (the 403 check relies on that).
            set_mtime(&marker, datetime!(2025-11-21 00:00:00 UTC));
        }
        // The fix the doctor proposes, run the way it proposes it.
        let o = bin()
            .args([
                "import",
                "--pimsync-home",
                p(&home),
                "--no-default-skips",
                "--no-backup",
                "-q",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "import: {}", stderr(&o));
    }

    let log = home.join("log");
    let task = log.join("exchange/tanaka");
    // Logs written in JST: the last line's local time is 9 hours ahead of the file's mtime.
    match kind {
        Kind::Good | Kind::Healed => {
            write(&log.join("server.log"), SERVER_LOG_OK.as_bytes());
            write(&task.join("synctask.log"), &sjis(SYNCTASK_OK));
            write(&log.join("connect_test.log"), &connect_test_log(false));
        }
        Kind::Broken => {
            write(&log.join("server.log"), SERVER_LOG_PKIX.as_bytes());
            write(&task.join("synctask.log"), &sjis(SYNCTASK_403));
            write(
                &task.join("synctask.log.20251124"),
                &sjis(SYNCTASK_403_OLDER),
            );
            set_mtime(
                &task.join("synctask.log.20251124"),
                datetime!(2025-11-24 07:00:00 UTC),
            );
            write(&log.join("connect_test.log"), &connect_test_log(true));
        }
    }
    if kind == Kind::Healed {
        let rolled = "\
ERROR - 11/20 10:00:00|ユーザー[tanaka]の同期タスク[exchange]の実行に失敗しました。
javax.net.ssl.SSLHandshakeException: sun.security.validator.ValidatorException: PKIX path building failed
ERROR - 11/20 11:00:00|ユーザー[tanaka]の同期タスク[exchange]の実行に失敗しました。
com.sun.xml.internal.ws.client.ClientTransportException: The server sent HTTP status code 403: Forbidden
INFO - 11/20 12:00:00|同期タスク[exchange]を終了しました。
";
        write(&log.join("server.log.1"), &sjis(rolled));
        set_mtime(
            &log.join("server.log.1"),
            datetime!(2025-11-20 03:00:00 UTC),
        );
    }
    set_mtime(&log.join("server.log"), datetime!(2025-11-25 01:20:00 UTC));
    set_mtime(
        &task.join("synctask.log"),
        datetime!(2025-11-25 01:30:00 UTC),
    );
    set_mtime(
        &log.join("connect_test.log"),
        datetime!(2025-11-24 23:00:05 UTC),
    );
    // PIMSYNC started 11/25 09:00:05 JST = 00:00:05 UTC. The broken tree's truststore changed
    // after that (09:30 JST), the good ones before.
    let ts_time = if kind == Kind::Broken {
        datetime!(2025-11-25 00:30:00 UTC)
    } else {
        datetime!(2025-11-24 12:00:00 UTC)
    };
    set_mtime(&truststore, ts_time);
    Tree { _dir: dir, home }
}

fn doctor(home: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .args(["doctor", "--pimsync-home", p(home)])
        .args(extra)
        .output()
        .expect("binary runs")
}

fn doctor_json(home: &Path) -> (i32, Value) {
    let o = doctor(home, &["--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("JSON on stdout: {e}\n{}{}", stdout(&o), stderr(&o)));
    (o.status.code().unwrap(), v)
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {v:#}"))
}

fn status(v: &Value, id: &str) -> String {
    check(v, id)["status"].as_str().unwrap().to_string()
}

const IDS: [&str; 7] = [
    "install",
    "java",
    "truststore",
    "patch",
    "logs-403",
    "logs-pkix",
    "restart",
];

/// The checks of the text output: a block starts with its status word, its further lines
/// are indented.
fn check_blocks(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        if ["OK ", "PROBLEM", "UNKNOWN"]
            .iter()
            .any(|w| l.starts_with(w))
        {
            out.push(l.to_string());
        } else if l.starts_with(' ') {
            if let Some(b) = out.last_mut() {
                b.push('\n');
                b.push_str(l);
            }
        }
    }
    out
}

#[test]
fn all_good_installation_exits_0() {
    let t = build(Kind::Good);
    let (code, v) = doctor_json(&t.home);
    for id in IDS {
        assert_eq!(status(&v, id), "ok", "{id}: {:#}", check(&v, id));
        if id == "truststore" {
            // The four ECC OCSP CAs the built-in catalog has no copy of are named, with how
            // to get them (issue 16: no claim that the truststore holds every listed CA).
            let t = check(&v, id);
            assert!(
                t["detail"].as_str().unwrap().contains("NOT in it")
                    && t["detail"]
                        .as_str()
                        .unwrap()
                        .contains("Microsoft TLS G2 ECC CA OCSP 02"),
                "{t:#}"
            );
            assert!(t["fix"].as_str().unwrap().contains("--online"), "{t:#}");
            continue;
        }
        assert!(check(&v, id)["fix"].is_null(), "{id} has a fix");
    }
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["problems"], 0);
    assert_eq!(v["pimsync_home"], p(&t.home));

    let java = check(&v, "java");
    assert_eq!(java["java_version"], "1.8.0_392");
    assert_eq!(java["version_source"], "jre/release");
    assert_eq!(java["jdk8"], true);

    let ts = check(&v, "truststore");
    let expected = t.home.join("keystore/truststore.jks");
    assert_eq!(ts["path"], p(&expected));
    assert!(
        ts["how"].as_str().unwrap().contains("pimsync.sh"),
        "found through the start-up script: {ts:#}"
    );
    assert_eq!(ts["format"], "jks");
    assert_eq!(ts["verified"], true);
    assert_eq!(ts["summary"]["missing"], 0);
    assert!(ts["summary"]["present"].as_u64().unwrap() > 0);

    let patch = check(&v, "patch");
    assert!(patch["file"]
        .as_str()
        .unwrap()
        .ends_with("PIM22SP7_241204_07"));

    // server.log, synctask.log and connect_test.log (the one with invalid bytes) were read.
    assert_eq!(check(&v, "logs-403")["files_scanned"], 3);
    assert_eq!(check(&v, "logs-pkix")["occurrences"], 0);

    let restart = check(&v, "restart");
    assert_eq!(restart["time"], "11/25 09:00:05");
    assert_eq!(restart["truststore_modified"], "2025-11-24T12:00:00Z");

    // Text: one line per check and a summary, nothing on stderr.
    let o = doctor(&t.home, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for id in IDS {
        assert!(
            text.lines()
                .any(|l| l.starts_with("OK ") && l.contains(&format!(" {id} "))),
            "no OK line for {id}:\n{text}"
        );
    }
    assert!(
        text.contains("Summary: 0 problems, 0 unknown, 7 ok"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour with NO_COLOR: {text}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // --quiet prints nothing when there is nothing to fix.
    let o = doctor(&t.home, &["-q"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

#[test]
fn broken_installation_reports_every_problem() {
    let t = build(Kind::Broken);
    let (code, v) = doctor_json(&t.home);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(status(&v, "install"), "ok");
    for id in &IDS[1..] {
        assert_eq!(status(&v, id), "problem", "{id}: {:#}", check(&v, id));
        assert!(check(&v, id)["fix"].is_string(), "{id} has no fix");
    }
    assert_eq!(v["problems"], 6);

    let java = check(&v, "java");
    assert_eq!(java["java_version"], "1.8.0_72");
    assert!(java["detail"].as_str().unwrap().contains("8u101"));

    let ts = check(&v, "truststore");
    assert!(ts["summary"]["missing"].as_u64().unwrap() > 0, "{ts:#}");
    assert_eq!(ts["path"], p(&t.home.join("keystore/truststore.jks")));
    assert!(
        ts["how"].as_str().unwrap().ends_with("startup.bat"),
        "{ts:#}"
    );
    let want_fix = format!("run: azure-cacerts import --pimsync-home {}", p(&t.home));
    assert!(
        ts["fix"].as_str().unwrap().starts_with(&want_fix),
        "{}",
        ts["fix"]
    );

    let patch = check(&v, "patch");
    assert!(
        patch["detail"].as_str().unwrap().contains(
            "patch not applied: without it the Exchange Online connection fails with HTTP 403"
        ),
        "{patch:#}"
    );

    // The newest 403 is in the Shift_JIS synctask.log, found in a stack trace below its line.
    let l403 = check(&v, "logs-403");
    let synctask = t.home.join("log/exchange/tanaka/synctask.log");
    assert_eq!(l403["file"], p(&synctask));
    assert_eq!(l403["time"], "11/25 10:10:00");
    assert_eq!(l403["file_modified"], "2025-11-25T01:30:00Z");
    assert_eq!(l403["occurrences"], 2);
    assert!(l403["message"]
        .as_str()
        .unwrap()
        .contains("ユーザー[tanaka]の同期タスク[exchange]"));
    assert!(l403["fix"].as_str().unwrap().contains("PIM22SP7_241204_07"));

    // The newest PKIX failure is in server.log; connect_test.log (bad bytes) holds an older one.
    let pkix = check(&v, "logs-pkix");
    assert_eq!(pkix["file"], p(&t.home.join("log/server.log")));
    assert_eq!(pkix["time"], "11/25 10:15:01");
    assert_eq!(pkix["occurrences"], 2);
    assert!(pkix["fix"]
        .as_str()
        .unwrap()
        .contains("azure-cacerts import"));
    assert_eq!(check(&v, "logs-403")["files_scanned"], 4);

    let restart = check(&v, "restart");
    assert_eq!(restart["time"], "11/25 09:00:05");
    assert!(restart["fix"].as_str().unwrap().contains("Restart"));

    // Text: a PROBLEM block per problem (wrapped at 100 columns, the fix on its own line,
    // issue 16), and the summary.
    let o = doctor(&t.home, &[]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    let blocks = check_blocks(&text);
    for id in &IDS[1..] {
        assert!(
            blocks.iter().any(|b| b.starts_with("PROBLEM")
                && b.contains(&format!(" {id} "))
                && b.contains("\n                     fix: ")),
            "no PROBLEM block for {id}:\n{text}"
        );
    }
    assert!(
        text.contains("Summary: 6 problems, 0 unknown, 1 ok"),
        "{text}"
    );
    assert_eq!(blocks.len(), IDS.len(), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    // --quiet: the problem blocks only.
    let o = doctor(&t.home, &["-q"]);
    assert_eq!(check_blocks(&stdout(&o)).len(), 6, "{}", stdout(&o));
    // Colour when asked for.
    let o = doctor(&t.home, &["--color", "always"]);
    assert!(stdout(&o).contains("\x1b[31;1mPROBLEM"), "{}", stdout(&o));
}

#[test]
fn errors_from_before_the_fixes_are_history() {
    let t = build(Kind::Healed);
    let (code, v) = doctor_json(&t.home);
    assert_eq!(code, 0, "{v:#}");
    for id in ["logs-403", "logs-pkix"] {
        let c = check(&v, id);
        assert_eq!(c["status"], "ok", "{c:#}");
        assert_eq!(c["time"].as_str().unwrap().get(..5), Some("11/20"));
        assert!(c["detail"].as_str().unwrap().contains("not seen since"));
    }
}

#[test]
fn pimsync_home_from_the_environment_and_missing() {
    let t = build(Kind::Good);
    let o = bin()
        .args(["doctor", "--format", "json"])
        .env("PIMSYNC_HOME", &t.home)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // No directory at all: a usage error on one line.
    let o = bin().arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert!(stdout(&o).is_empty());
    let o = bin()
        .arg("doctor")
        .env("PIMSYNC_HOME", "")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn not_an_installation() {
    let dir = tempfile::tempdir().unwrap();
    let (code, v) = doctor_json(&dir.path().join("nowhere"));
    assert_eq!(code, 1);
    assert_eq!(status(&v, "install"), "problem");
    assert_eq!(v["problems"], 1);
    for id in &IDS[1..] {
        assert_eq!(status(&v, id), "unknown", "{id}");
    }

    // Only config/: the missing folders are named; unknowns are not problems.
    write(
        &dir.path().join("config/PATCH-INF/PIM22SP7_241204_07.txt"),
        b"applied\n",
    );
    let (code, v) = doctor_json(dir.path());
    assert_eq!(code, 1);
    let install = check(&v, "install");
    assert_eq!(install["status"], "problem");
    assert!(install["detail"].as_str().unwrap().contains("jre/, log/"));
    assert_eq!(
        status(&v, "patch"),
        "ok",
        "a marker name with a suffix counts"
    );
    for id in ["java", "truststore", "logs-403", "logs-pkix", "restart"] {
        assert_eq!(status(&v, id), "unknown", "{id}: {:#}", check(&v, id));
    }
    assert_eq!(v["problems"], 1);
}

#[test]
fn wrong_store_password_is_reported_not_fatal() {
    let t = build(Kind::Good);
    let o = doctor(&t.home, &["--format", "json", "--storepass", "not-it"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ts = check(&v, "truststore");
    assert_eq!(ts["status"], "problem");
    assert_eq!(ts["verified"], false);
    assert_eq!(
        ts["summary"]["missing"], 0,
        "the diff is still made: {ts:#}"
    );
    assert!(ts["detail"].as_str().unwrap().contains("does not match"));
}
