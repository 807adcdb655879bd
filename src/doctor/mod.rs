//! `doctor`: what stands between a HULFT PIMSYNC installation and working TLS connections to
//! Microsoft (and the Exchange Online sign-in change), as a list of checks. Returns data and
//! never prints; the command layer renders it.
//!
//! Each check is ok, problem or unknown. Unknown means the installation did not tell us (no
//! log, no version): it is never counted as a problem.

pub mod java;
pub mod logs;

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::catalog::Catalog;
use crate::locate::{self, FoundBy, KeystoreLocation};
use crate::ops::{self, Lenience, OpenError, OpenRequest, PasswordSource};
use crate::plan::{self, CaStatus, Selection, Summary};

/// The HULFT patch with the Exchange Online connection-method change (Ver.2.2 SP7).
pub const PATCH_ID: &str = "PIM22SP7_241204_07";

/// Microsoft lists JRE 1.8.0_101 and later as compatible with the Azure CAs.
pub const MIN_JAVA8_UPDATE: u32 = 101;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Problem,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Problem => "problem",
            Status::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CheckId {
    #[serde(rename = "install")]
    Install,
    #[serde(rename = "java")]
    Java,
    #[serde(rename = "truststore")]
    Truststore,
    #[serde(rename = "patch")]
    Patch,
    #[serde(rename = "logs-403")]
    Logs403,
    #[serde(rename = "logs-pkix")]
    LogsPkix,
    #[serde(rename = "restart")]
    Restart,
}

impl CheckId {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Install => "install",
            CheckId::Java => "java",
            CheckId::Truststore => "truststore",
            CheckId::Patch => "patch",
            CheckId::Logs403 => "logs-403",
            CheckId::LogsPkix => "logs-pkix",
            CheckId::Restart => "restart",
        }
    }

    pub const ALL: [CheckId; 7] = [
        CheckId::Install,
        CheckId::Java,
        CheckId::Truststore,
        CheckId::Patch,
        CheckId::Logs403,
        CheckId::LogsPkix,
        CheckId::Restart,
    ];
}

/// Facts a check found besides its verdict; each appears in the JSON only when set.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Extra {
    /// install: the directory; truststore: the keystore file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// truststore: how the file was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<usize>,
    /// truststore: whether the store password checked the file's integrity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// truststore: the `diff` counts against the built-in catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// truststore: CAs skipped by default (Java ships them) that this file lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_absent: Option<Vec<String>>,
    /// java: "1.8.0_392".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java_version: Option<String>,
    /// java: "jre/release" or "jre/bin/java -version".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_source: Option<String>,
    /// java: whether the runtime is Java 8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jdk8: Option<bool>,
    /// java: the runtime's own cacerts, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cacerts: Option<String>,
    /// patch: the marker; logs: the log file; restart: the server.log with the start line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// logs, restart: `MM/dd HH:mm:ss` as the log writes it (local time, no year).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// logs, restart: the file's modification time (RFC 3339, UTC), which fixes the year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_modified: Option<String>,
    /// logs: the timestamped line the error belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// logs: how many times the error appears in the files read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<usize>,
    /// logs: how many log files were read (and left out by the limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_scanned: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_skipped: Option<usize>,
    /// restart: the truststore's modification time (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truststore_modified: Option<String>,
    /// logs-pkix: roots of TLS-inspection products that the OS trusts and the truststore
    /// lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interception_roots: Option<Vec<InterceptionRoot>>,
}

/// A root the operating system trusts that is named like a TLS-inspection product's.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InterceptionRoot {
    pub subject: String,
    pub sha256: String,
    pub product: &'static str,
    /// The OS trust store it is in.
    pub store: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub id: CheckId,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Check {
    fn new(id: CheckId, status: Status, detail: impl Into<String>) -> Check {
        Check {
            id,
            status,
            detail: detail.into(),
            fix: None,
            extra: Extra::default(),
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    fn extra(mut self, extra: Extra) -> Check {
        self.extra = extra;
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub pimsync_home: String,
    pub checks: Vec<Check>,
    pub problems: usize,
}

impl Report {
    pub fn get(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub home: PathBuf,
    /// The store password to open the truststore with (default: changeit).
    pub password: PasswordSource,
    /// "Now" for the catalog (which CAs have expired).
    pub now: OffsetDateTime,
    pub limits: logs::Limits,
    /// How long `jre/bin/java -version` may take.
    pub java_timeout: StdDuration,
}

impl Options {
    pub fn new(home: impl Into<PathBuf>) -> Options {
        Options {
            home: home.into(),
            password: PasswordSource::Default,
            now: OffsetDateTime::now_utc(),
            limits: logs::Limits::default(),
            java_timeout: StdDuration::from_secs(15),
        }
    }
}

/// Runs every check on the installation in `opts.home`.
pub fn diagnose(opts: &Options) -> Report {
    let home = &opts.home;
    let (install, exists) = check_install(home);
    let checks = if !exists {
        let mut v = vec![install];
        v.extend(CheckId::ALL[1..].iter().map(|&id| {
            Check::new(
                id,
                Status::Unknown,
                "not checked: the installation directory is not there",
            )
        }));
        v
    } else {
        let java = check_java(home, opts.java_timeout);
        let (truststore, ts) = check_truststore(opts);
        let (patch, patch_facts) = check_patch(home);
        let scan = logs::scan(&home.join("log"), &opts.limits);
        let logs_403 = check_logs_403(home, &scan, &patch_facts);
        let logs_pkix = check_logs_pkix(home, &scan, &ts);
        let restart = check_restart(home, &scan, &ts);
        vec![
            install, java, truststore, patch, logs_403, logs_pkix, restart,
        ]
    };
    let problems = checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .count();
    Report {
        pimsync_home: home.display().to_string(),
        checks,
        problems,
    }
}

// ---- helpers

/// `path` relative to the installation when inside it, for short details.
fn rel(home: &Path, path: &Path) -> String {
    path.strip_prefix(home)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

fn rfc3339(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn modified(path: &Path) -> Option<OffsetDateTime> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(logs::system_time)
}

/// The command that adds the missing CAs, with the directory quoted when it has spaces
/// (`C:\Program Files\...`).
fn import_command(home: &Path, extra: &str) -> String {
    let cmd = crate::suggest::command("import", "--pimsync-home", &home.display().to_string());
    format!("{cmd}{extra}")
}

/// Whether `a` is before `b` beyond doubt, given that `a` may be off by a time zone when
/// its log's zone could not be learnt.
fn surely_before(a: OffsetDateTime, a_zone_known: bool, b: OffsetDateTime) -> bool {
    let margin = if a_zone_known {
        Duration::ZERO
    } else {
        Duration::hours(15)
    };
    a.checked_add(margin).is_some_and(|a| a < b)
}

// ---- 1. install

fn check_install(home: &Path) -> (Check, bool) {
    let shown = home.display().to_string();
    let extra = Extra {
        path: Some(shown.clone()),
        ..Extra::default()
    };
    let meta = match std::fs::metadata(home) {
        Ok(m) => m,
        Err(e) => {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist".to_string()
            } else {
                format!("cannot be read: {e}")
            };
            let c = Check::new(CheckId::Install, Status::Problem, format!("{shown} {why}"))
                .fix("Give the PIMSYNC installation directory with --pimsync-home DIR or PIMSYNC_HOME.")
                .extra(extra);
            return (c, false);
        }
    };
    if !meta.is_dir() {
        let c = Check::new(
            CheckId::Install,
            Status::Problem,
            format!("{shown} is not a directory"),
        )
        .fix("Give the PIMSYNC installation directory with --pimsync-home DIR or PIMSYNC_HOME.")
        .extra(extra);
        return (c, false);
    }
    let missing: Vec<&str> = ["config", "jre", "log"]
        .into_iter()
        .filter(|d| !home.join(d).is_dir())
        .collect();
    let c = if missing.is_empty() {
        Check::new(
            CheckId::Install,
            Status::Ok,
            format!("{shown} looks like PIMSYNC (config/, jre/ and log/ are there)"),
        )
    } else {
        let list = missing
            .iter()
            .map(|d| format!("{d}/"))
            .collect::<Vec<_>>()
            .join(", ");
        Check::new(
            CheckId::Install,
            Status::Problem,
            format!("{shown} does not look like a complete PIMSYNC installation: no {list}"),
        )
        .fix("Point --pimsync-home (or PIMSYNC_HOME) at the PIMSYNC installation directory, the one holding bin/, config/, jre/ and log/.")
    };
    (c.extra(extra), true)
}

// ---- 2. java

fn check_java(home: &Path, timeout: StdDuration) -> Check {
    let jre = home.join("jre");
    if !jre.is_dir() {
        return Check::new(
            CheckId::Java,
            Status::Unknown,
            "no jre/ folder: the bundled Java runtime's version cannot be read",
        );
    }
    let release = jre.join("release");
    let (found, source) = if release.is_file() {
        let text = std::fs::File::open(&release).and_then(|f| {
            use std::io::Read;
            let mut s = Vec::new();
            f.take(1024 * 1024).read_to_end(&mut s)?;
            Ok(String::from_utf8_lossy(&s).into_owned())
        });
        let found = match text {
            Ok(t) => java::version_in_release(&t)
                .ok_or_else(|| "jre/release has no JAVA_VERSION line".to_string()),
            Err(e) => Err(format!("cannot read jre/release: {e}")),
        };
        (found, "jre/release")
    } else {
        let exe = jre
            .join("bin")
            .join(if cfg!(windows) { "java.exe" } else { "java" });
        let found = if exe.is_file() {
            java::run_java_version(&exe, timeout).and_then(|out| {
                java::version_in_java_output(&out)
                    .ok_or_else(|| "jre/bin/java -version printed no version".to_string())
            })
        } else {
            Err("no jre/release and no jre/bin/java".to_string())
        };
        (found, "jre/bin/java -version")
    };
    let cacerts = [
        locate::cacerts_under(&jre),
        locate::cacerts_under(&jre.join("jre")),
    ]
    .into_iter()
    .find(|p| p.is_file());
    let layout = java::layout(&jre);
    let mut extra = Extra {
        version_source: Some(source.to_string()),
        cacerts: cacerts.as_ref().map(|p| p.display().to_string()),
        ..Extra::default()
    };
    let cacerts_note = match &cacerts {
        Some(p) => format!("cacerts at {}", rel(home, p)),
        None => "no jre/lib/security/cacerts".to_string(),
    };
    let text = match found {
        Ok(t) => t,
        Err(why) => {
            let hint = match layout {
                Some(java::Layout::Java8) => " (lib/rt.jar says Java 8, update unknown)",
                Some(java::Layout::Java9Plus) => " (lib/modules says Java 9 or later)",
                None => "",
            };
            return Check::new(
                CheckId::Java,
                Status::Unknown,
                format!("version unknown: {why}{hint}; {cacerts_note}"),
            )
            .extra(extra);
        }
    };
    let Some(v) = java::parse_version(&text) else {
        extra.java_version = Some(text.clone());
        return Check::new(
            CheckId::Java,
            Status::Unknown,
            format!("version {text:?} from {source} is not a Java version; {cacerts_note}"),
        )
        .extra(extra);
    };
    extra.java_version = Some(v.text.clone());
    extra.jdk8 = Some(v.major == 8);
    let update_fix = format!(
        "Update PIMSYNC's bundled JRE to Java 8u{MIN_JAVA8_UPDATE} or later (a PIMSYNC update from HULFT, via myHULFT): Microsoft lists JRE 1.8.0_{MIN_JAVA8_UPDATE}+ as compatible with its CAs."
    );
    let c = match (v.major, v.update) {
        (8, Some(u)) if u >= MIN_JAVA8_UPDATE => Check::new(
            CheckId::Java,
            Status::Ok,
            format!("Java 8 update {u} ({}, from {source}); {cacerts_note}", v.text),
        ),
        (8, u) => Check::new(
            CheckId::Java,
            Status::Problem,
            format!(
                "Java 8 update {} ({}, from {source}) is older than 8u{MIN_JAVA8_UPDATE}; {cacerts_note}",
                u.unwrap_or(0),
                v.text
            ),
        )
        .fix(update_fix),
        (m, _) if m < 8 => Check::new(
            CheckId::Java,
            Status::Problem,
            format!("Java {m} ({}, from {source}) is older than Java 8; {cacerts_note}", v.text),
        )
        .fix(update_fix),
        (m, _) => Check::new(
            CheckId::Java,
            Status::Ok,
            format!(
                "Java {m} ({}, from {source}), not the Java 8 PIMSYNC usually bundles; {cacerts_note}",
                v.text
            ),
        ),
    };
    c.extra(extra)
}

// ---- 3. truststore

/// What later checks need from the truststore check.
#[derive(Debug, Clone, Default)]
struct TruststoreFacts {
    path: Option<PathBuf>,
    modified: Option<OffsetDateTime>,
    /// Read, and nothing missing: every wanted Azure CA is there.
    complete: bool,
    /// The truststore's anchors, when it could be read.
    anchors: Option<crate::anchors::AnchorSet>,
}

fn check_truststore(opts: &Options) -> (Check, TruststoreFacts) {
    let home = &opts.home;
    let mut facts = TruststoreFacts::default();
    let loc = match locate::resolve_pimsync(home) {
        Ok(l) => l,
        Err(e) => {
            let c = Check::new(
                CheckId::Truststore,
                Status::Unknown,
                format!("no truststore found: {e}"),
            );
            return (c, facts);
        }
    };
    let path = loc.path.clone();
    let shown = path.display().to_string();
    let by_setting = matches!(loc.how, FoundBy::TrustStoreSetting { .. });
    let mut extra = Extra {
        path: Some(shown.clone()),
        how: Some(loc.how.to_string()),
        ..Extra::default()
    };
    facts.path = Some(path.clone());
    facts.modified = modified(&path);
    let problem = |detail: String, fix: String, extra: Extra| {
        Check::new(CheckId::Truststore, Status::Problem, detail)
            .fix(fix)
            .extra(extra)
    };
    // Java reads a truststore without a password (no integrity check), so a password other
    // than changeit does not break PIMSYNC; it only means import needs the right one.
    let request = OpenRequest {
        location: KeystoreLocation::File(path.clone()),
        expected: None,
        password: opts.password.clone(),
    };
    let (opened, unverified) = match ops::open_lenient(&request, Lenience::AnyPassword) {
        Ok(o) => o,
        Err(e) => {
            let (detail, fix) = match &e {
                OpenError::Read { source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    let fix = if by_setting {
                        format!(
                            "Correct the setting ({}), or create the file: copy jre/lib/security/cacerts there, then run: {}",
                            loc.how,
                            import_command(home, "")
                        )
                    } else {
                        "Restore jre/lib/security/cacerts from the PIMSYNC installation media or HULFT support.".to_string()
                    };
                    (
                        format!(
                            "{shown} (found through {}) does not exist: Java then trusts no server at all",
                            loc.how
                        ),
                        fix,
                    )
                }
                OpenError::Read { source, .. } => (
                    format!("{shown} (found through {}) cannot be read: {source}", loc.how),
                    "Run the doctor as the PIMSYNC service user or an administrator.".to_string(),
                ),
                OpenError::NotRegular { kind, .. } => (
                    format!("{shown} is {kind}, not a keystore file"),
                    format!("Check the truststore setting ({}).", loc.how),
                ),
                OpenError::TooLarge { .. } => (
                    format!("{shown}: {e}"),
                    format!("Check the truststore setting ({}).", loc.how),
                ),
                _ => (
                    format!("{shown} (found through {}) is not a readable keystore: {e}", loc.how),
                    "Restore it from a backup (a .bak file beside it) or from the JRE's cacerts, then run the doctor again.".into(),
                ),
            };
            return (problem(detail, fix, extra), facts);
        }
    };
    let password_note = unverified.then_some(if opened.password.explicit {
        "the given store password does not match (read without an integrity check)"
    } else {
        "the default password changeit does not match (read without an integrity check)"
    });
    let ks = opened.keystore;
    let catalog = Catalog::builtin();
    let anchors = crate::anchors::AnchorSet::from_keystore(&ks);
    let plan = plan::plan(&catalog, &anchors, &Selection::new(opts.now));
    facts.anchors = Some(anchors);
    let summary = plan.summary();
    let skipped_absent: Vec<String> = plan
        .cas
        .iter()
        .filter(|c| c.status == CaStatus::Skipped && !c.present)
        .map(|c| c.ca.display_name())
        .collect();
    extra.format = Some(ks.store_type().as_str());
    extra.entries = Some(ks.entries().len());
    extra.verified = Some(ks.is_verified());
    extra.summary = Some(summary.clone());
    if !skipped_absent.is_empty() {
        extra.skipped_absent = Some(skipped_absent.clone());
    }
    // The real file when links lead elsewhere (a JRE's cacerts linked to the OS store).
    let real = crate::locate::real_path(&path);
    let shown = if crate::locate::leads_elsewhere(&path, &real) {
        format!("{shown} -> {}", real.display())
    } else {
        shown
    };
    let mut detail = format!(
        "{shown} ({}, {} entries; found through {}): {} present, {} equivalent, {} missing, {} expired, {} unavailable",
        ks.store_type().as_str().to_uppercase(),
        ks.entries().len(),
        loc.how,
        summary.present,
        summary.equivalent,
        summary.missing,
        summary.expired,
        summary.unavailable
    );
    if !skipped_absent.is_empty() {
        detail.push_str(&format!(
            "; also absent although Java runtimes ship them: {}",
            skipped_absent.join(", ")
        ));
    }
    if let Some(n) = password_note {
        detail.push_str(&format!("; {n}"));
    }
    facts.complete = summary.missing == 0 && skipped_absent.is_empty();
    let password_hint = if password_note.is_some() {
        " (with the store password: --storepass-file FILE or --storepass-env VAR)"
    } else if opts.password != PasswordSource::Default {
        " (with the same store password option)"
    } else {
        ""
    };
    let c = if !facts.complete {
        let flag = if skipped_absent.is_empty() {
            ""
        } else {
            " --no-default-skips"
        };
        problem(
            detail,
            format!("run: {}{password_hint}", import_command(home, flag)),
            extra,
        )
    } else if password_note.is_some() {
        problem(
            detail,
            "Pass the store password with --storepass-file FILE or --storepass-env VAR: import needs it to write the file.".into(),
            extra,
        )
    } else {
        // Nothing import can add offline is missing; but say which listed CAs are still not
        // in the truststore (no verified copy at hand) rather than call it complete.
        let unavailable: Vec<&str> = plan
            .cas
            .iter()
            .filter(|c| c.status == CaStatus::Unavailable)
            .map(|c| c.ca.name.as_str())
            .collect();
        if unavailable.is_empty() {
            Check::new(CheckId::Truststore, Status::Ok, detail).extra(extra)
        } else {
            detail.push_str(&format!(
                "; NOT in it, because the built-in catalog has no copy of them: {}",
                unavailable.join(", ")
            ));
            Check::new(CheckId::Truststore, Status::Ok, detail)
                .fix(format!(
                    "to add them too, run {} --online where there is internet, or use a bundle made there (azure-cacerts fetch --online --out DIR, then --bundle DIR)",
                    import_command(home, "")
                ))
                .extra(extra)
        }
    };
    (c, facts)
}

// ---- 4. patch

#[derive(Debug, Clone, Default)]
struct PatchFacts {
    applied: bool,
    marker_modified: Option<OffsetDateTime>,
}

/// `PIM22SP7_<yyMMdd>_<nn>` → `yyMMdd`, to recognise later patches of the same release.
fn patch_date(name: &str) -> Option<&str> {
    let rest = name
        .get(..9)?
        .eq_ignore_ascii_case("PIM22SP7_")
        .then(|| &name[9..])?;
    let date = rest.get(..6)?;
    date.bytes().all(|b| b.is_ascii_digit()).then_some(date)
}

fn check_patch(home: &Path) -> (Check, PatchFacts) {
    let mut facts = PatchFacts::default();
    let config = home.join("config");
    let dir = config.join("PATCH-INF");
    let not_applied = |detail: String| {
        Check::new(CheckId::Patch, Status::Problem, detail).fix(format!(
            "Download {PATCH_ID} from myHULFT, apply it as its README ({PATCH_ID}_README.txt) says, and restart PIMSYNC."
        ))
    };
    let consequence = "without it the Exchange Online connection fails with HTTP 403 after Microsoft's change; download it from myHULFT";
    if !config.is_dir() {
        let c = Check::new(
            CheckId::Patch,
            Status::Unknown,
            "no config/ folder: applied patches cannot be read",
        );
        return (c, facts);
    }
    let names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .take(10_000)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => {
            return (
                not_applied(format!(
                    "patch not applied (no config/PATCH-INF): {consequence}"
                )),
                facts,
            );
        }
    };
    let marker = names.iter().find(|n| {
        n.get(..PATCH_ID.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PATCH_ID))
    });
    if let Some(m) = marker {
        let path = dir.join(m);
        facts.applied = true;
        facts.marker_modified = modified(&path);
        let c = Check::new(
            CheckId::Patch,
            Status::Ok,
            format!("patch {PATCH_ID} applied ({})", rel(home, &path)),
        )
        .extra(Extra {
            file: Some(path.display().to_string()),
            ..Extra::default()
        });
        return (c, facts);
    }
    let target = patch_date(PATCH_ID).unwrap_or("241204");
    let mut later: Vec<&String> = names
        .iter()
        .filter(|n| patch_date(n).is_some_and(|d| d > target))
        .collect();
    later.sort();
    if let Some(l) = later.last() {
        let c = Check::new(
            CheckId::Patch,
            Status::Unknown,
            format!(
                "{PATCH_ID} is not in config/PATCH-INF, but the later patch {l} is: whether it includes the Exchange Online connection change is not known here"
            ),
        )
        .fix(format!(
            "Check in {l}'s README that it includes {PATCH_ID}'s Exchange Online connection change; if not, download {PATCH_ID} from myHULFT."
        ))
        .extra(Extra {
            file: Some(dir.join(l).display().to_string()),
            ..Extra::default()
        });
        return (c, facts);
    }
    (
        not_applied(format!("patch not applied: {consequence}")),
        facts,
    )
}

// ---- 5. logs

fn log_extra(scan: &logs::LogScan, latest: &logs::Latest) -> Extra {
    let mut e = Extra {
        files_scanned: Some(scan.files_scanned),
        files_skipped: (scan.files_skipped > 0).then_some(scan.files_skipped),
        occurrences: Some(latest.count),
        ..Extra::default()
    };
    if let Some(f) = &latest.last {
        e.file = Some(f.file.display().to_string());
        e.time = f.stamp.map(|s| s.as_written());
        e.file_modified = f.file_modified.map(rfc3339);
        e.message = (!f.message.is_empty()).then(|| f.message.clone());
    }
    e
}

/// "11/25 10:15:01 in log/server.log (modified 2025-11-25T01:20:00Z)".
fn where_found(home: &Path, f: &logs::Found) -> String {
    let time = f
        .stamp
        .map(|s| s.as_written())
        .unwrap_or_else(|| "an unknown time (the line's timestamp was cut off)".into());
    let modified = f
        .file_modified
        .map(|m| format!(" (file modified {})", rfc3339(m)))
        .unwrap_or_default();
    format!("{time} in {}{modified}", rel(home, &f.file))
}

fn scanned_note(scan: &logs::LogScan) -> String {
    let mut s = format!(
        "{} log file{} read",
        scan.files_scanned,
        if scan.files_scanned == 1 { "" } else { "s" }
    );
    if scan.files_skipped > 0 {
        s.push_str(&format!(
            ", {} older ones left out by the limits",
            scan.files_skipped
        ));
    }
    if scan.files_tail_only > 0 {
        s.push_str(&format!(
            ", {} read only in their last part",
            scan.files_tail_only
        ));
    }
    s
}

/// Unknown when there is nothing to read; None when the logs can be judged.
fn logs_unknown(id: CheckId, scan: &logs::LogScan) -> Option<Check> {
    if !scan.log_dir_exists {
        return Some(Check::new(
            id,
            Status::Unknown,
            "no log/ folder (if pim.properties moves the logs elsewhere, they are not read)",
        ));
    }
    if scan.files_scanned == 0 {
        let why = match scan.unreadable.first() {
            Some((p, e)) => format!("no log file could be read ({}: {e})", p.display()),
            None => "no server.log, connect_test.log or synctask.log under log/".to_string(),
        };
        return Some(Check::new(id, Status::Unknown, why));
    }
    None
}

fn check_logs_403(home: &Path, scan: &logs::LogScan, patch: &PatchFacts) -> Check {
    if let Some(c) = logs_unknown(CheckId::Logs403, scan) {
        return c;
    }
    let extra = log_extra(scan, &scan.http_403);
    let Some(f) = &scan.http_403.last else {
        return Check::new(
            CheckId::Logs403,
            Status::Ok,
            format!(
                "no ClientTransportException with HTTP 403 ({})",
                scanned_note(scan)
            ),
        )
        .extra(extra);
    };
    // An old 403 is history when PIMSYNC has since restarted with the patch in place.
    let start = scan.start.last.as_ref().and_then(|s| s.utc.map(|u| (s, u)));
    if let (true, Some((s, start_utc)), Some(occurred)) = (patch.applied, start, f.utc) {
        let patched_before_start = patch.marker_modified.is_some_and(|m| m <= start_utc);
        if patched_before_start && surely_before(occurred, f.zone_known && s.zone_known, start_utc)
        {
            return Check::new(
                CheckId::Logs403,
                Status::Ok,
                format!(
                    "last ClientTransportException with HTTP 403 at {}, before the last PIMSYNC start ({}) with patch {PATCH_ID} in place; not seen since",
                    where_found(home, f),
                    s.stamp.map(|t| t.as_written()).unwrap_or_default()
                ),
            )
            .extra(extra);
        }
    }
    let fix = if patch.applied {
        format!("Set the Exchange Online adapter's new tenant ID and client secret settings (required since patch {PATCH_ID}), then restart PIMSYNC.")
    } else {
        format!("Apply patch {PATCH_ID} (myHULFT), set the Exchange Online adapter's new tenant ID and client secret settings, and restart PIMSYNC.")
    };
    let mut detail = format!(
        "Exchange Online refused the connection (ClientTransportException, HTTP 403), last at {}; {} time(s) in the logs read",
        where_found(home, f),
        scan.http_403.count
    );
    if !f.message.is_empty() {
        detail.push_str(&format!(": {}", f.message));
    }
    Check::new(CheckId::Logs403, Status::Problem, detail)
        .fix(fix)
        .extra(extra)
}

fn check_logs_pkix(home: &Path, scan: &logs::LogScan, ts: &TruststoreFacts) -> Check {
    if let Some(c) = logs_unknown(CheckId::LogsPkix, scan) {
        return c;
    }
    let extra = log_extra(scan, &scan.pkix);
    let Some(f) = &scan.pkix.last else {
        return Check::new(
            CheckId::LogsPkix,
            Status::Ok,
            format!(
                "no SSLHandshakeException with PKIX path building failed ({})",
                scanned_note(scan)
            ),
        )
        .extra(extra);
    };
    // An old failure is history when the truststore has since been completed.
    if let (true, Some(updated), Some(occurred)) = (ts.complete, ts.modified, f.utc) {
        if surely_before(occurred, f.zone_known, updated) {
            return Check::new(
                CheckId::LogsPkix,
                Status::Ok,
                format!(
                    "last PKIX failure at {}, before the truststore was completed ({}); not seen since",
                    where_found(home, f),
                    rfc3339(updated)
                ),
            )
            .extra(extra);
        }
    }
    let roots = ts
        .anchors
        .as_ref()
        .map(interception_roots)
        .unwrap_or_default();
    let pins: String = roots
        .iter()
        .map(|r| format!(" --expect-sha256 {}", r.sha256))
        .collect();
    let check_cmd = crate::suggest::command("check", "--pimsync-home", &home.display().to_string());
    let fix = match (ts.complete, roots.is_empty()) {
        (true, false) => format!(
            "The truststore has every Azure CA, so the failing chain ends at a CA outside Microsoft's list: a TLS-inspecting proxy re-signs it. If that proxy is yours, import its root and restart PIMSYNC: run: {}",
            import_command(home, &format!(" --from-os-store{pins}"))
        ),
        (true, true) => format!(
            "The truststore has every Azure CA now: restart PIMSYNC if it was not restarted since. If the failure continues, the server's chain ends at a CA outside Microsoft's list, which is what a TLS-inspecting proxy does: `{check_cmd} --host login.microsoftonline.com` (with --proxy URL when PIMSYNC uses one) names the proxy's root; import it with {} and restart PIMSYNC.",
            import_command(home, " --pem ROOT.pem")
        ),
        (false, false) => format!(
            "run: {}, then restart PIMSYNC (the --from-os-store part adds the root of the TLS-inspecting proxy named above; leave it out if no such proxy is in the way).",
            import_command(home, &format!(" --from-os-store{pins}"))
        ),
        (false, true) => format!("run: {}, then restart PIMSYNC.", import_command(home, "")),
    };
    let mut detail = format!(
        "TLS failed for want of a trusted CA (SSLHandshakeException: PKIX path building failed), last at {}; {} time(s) in the logs read",
        where_found(home, f),
        scan.pkix.count
    );
    if !f.message.is_empty() {
        detail.push_str(&format!(": {}", f.message));
    }
    for r in &roots {
        detail.push_str(&format!(
            "; the OS trust store ({}) trusts {} (SHA-256 {}), the root of a TLS-inspecting proxy ({}), which the truststore lacks",
            r.store, r.subject, r.sha256, r.product
        ));
    }
    let mut extra = extra;
    if !roots.is_empty() {
        extra.interception_roots = Some(roots);
    }
    Check::new(CheckId::LogsPkix, Status::Problem, detail)
        .fix(fix)
        .extra(extra)
}

/// Roots of the OS trust store that are named like a TLS-inspection product's CA and that
/// the truststore lacks: on Windows, group policy deploys a company proxy's root there, where
/// Java does not look. At most a handful (a bound on what a detail line names).
fn interception_roots(anchors: &crate::anchors::AnchorSet) -> Vec<InterceptionRoot> {
    let Ok(os) = crate::osstore::load() else {
        return Vec::new();
    };
    os.certs
        .iter()
        .filter_map(|d| crate::cert::Certificate::parse(d).ok())
        .filter(|c| c.is_ca && anchors.find(&c.der).is_none())
        .filter_map(|c| {
            let product = crate::check::intercept::product_of(&c.subject)?;
            Some(InterceptionRoot {
                subject: c.subject.clone(),
                sha256: c.sha256.clone(),
                product,
                store: os.location.clone(),
            })
        })
        .take(5)
        .collect()
}

// ---- 6. restart

fn check_restart(home: &Path, scan: &logs::LogScan, ts: &TruststoreFacts) -> Check {
    let (Some(path), Some(updated)) = (&ts.path, ts.modified) else {
        return Check::new(
            CheckId::Restart,
            Status::Unknown,
            "the truststore file is not there: nothing to compare with the server start",
        );
    };
    let mut extra = Extra {
        truststore_modified: Some(rfc3339(updated)),
        ..Extra::default()
    };
    if !scan.server_log_seen {
        return Check::new(
            CheckId::Restart,
            Status::Unknown,
            "no server.log read: the last PIMSYNC start is not known",
        )
        .extra(extra);
    }
    let Some(start) = &scan.start.last else {
        return Check::new(
            CheckId::Restart,
            Status::Unknown,
            format!(
                "no PIMSYNC start line in server.log (looked for {}): the last start is not known",
                logs::START_PATTERNS_JA
                    .iter()
                    .take(2)
                    .map(|p| format!("\"{p}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .extra(extra);
    };
    extra.file = Some(start.file.display().to_string());
    extra.time = start.stamp.map(|s| s.as_written());
    extra.file_modified = start.file_modified.map(rfc3339);
    let started = start.stamp.map(|s| s.as_written()).unwrap_or_default();
    let Some(start_utc) = start.utc else {
        return Check::new(
            CheckId::Restart,
            Status::Unknown,
            format!(
                "last PIMSYNC start {started} in {}, but its date cannot be placed",
                rel(home, &start.file)
            ),
        )
        .extra(extra);
    };
    let ts_name = rel(home, path);
    if surely_before(start_utc, start.zone_known, updated) {
        Check::new(
            CheckId::Restart,
            Status::Problem,
            format!(
                "{ts_name} was modified at {} after the last PIMSYNC start ({started} in {}): the running server still uses the old trust anchors",
                rfc3339(updated),
                rel(home, &start.file)
            ),
        )
        .fix("Restart the PIMSYNC server (its Windows service, or its stop and start scripts) so that Java loads the updated truststore.")
        .extra(extra)
    } else if surely_before(updated, start.zone_known, start_utc) {
        Check::new(
            CheckId::Restart,
            Status::Ok,
            format!(
                "PIMSYNC last started {started} ({}), after {ts_name} was last modified ({})",
                rel(home, &start.file),
                rfc3339(updated)
            ),
        )
        .extra(extra)
    } else {
        Check::new(
            CheckId::Restart,
            Status::Unknown,
            format!(
                "PIMSYNC last started {started} ({}) and {ts_name} was modified at {}: too close to tell apart, as the log's time zone is not known",
                rel(home, &start.file),
                rfc3339(updated)
            ),
        )
        .fix("If the truststore was changed after PIMSYNC started, restart the PIMSYNC server.")
        .extra(extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_patches_are_recognised() {
        assert_eq!(patch_date("PIM22SP7_250301_08"), Some("250301"));
        assert_eq!(patch_date("pim22sp7_241204_07.txt"), Some("241204"));
        assert_eq!(patch_date("PIM22SP6_250301_01"), None);
        assert_eq!(patch_date("PIM22SP7_"), None);
        assert_eq!(patch_date("短い"), None);
    }

    #[test]
    fn import_command_quotes_spaces() {
        assert_eq!(
            import_command(Path::new("/opt/pimsync"), ""),
            "azure-cacerts import --pimsync-home /opt/pimsync"
        );
        assert_eq!(
            import_command(Path::new("/opt/HULFT PIMSYNC"), " --no-default-skips"),
            "azure-cacerts import --pimsync-home \"/opt/HULFT PIMSYNC\" --no-default-skips"
        );
    }

    #[test]
    fn a_missing_directory_is_one_problem() {
        let r = diagnose(&Options::new("/nonexistent/pimsync-doctor-test"));
        assert_eq!(r.problems, 1);
        assert_eq!(r.checks.len(), CheckId::ALL.len());
        assert_eq!(r.get(CheckId::Install).unwrap().status, Status::Problem);
        assert_eq!(r.count(Status::Unknown), 6);
    }
}
