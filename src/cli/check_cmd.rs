//! `azure-cacerts check`: would Java trust these servers with this keystore? Prints the path
//! Java would build, or why it would not and which catalog CA fixes that. The decision is made
//! in `crate::check`; this file only gathers inputs and prints.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::args::{Format, GlobalOpts, KeystoreOpts};
use super::failure::{CliResult, ExitKind, Failure};
use super::output;
use crate::catalog::Catalog;
use crate::cert::{ymd, Certificate};
use crate::check::intercept::{self, Evidence, Interception, RootFound};
use crate::check::pkix::ProblemCode;
use crate::check::{
    self, tls, AnchorSet, How, Importable, JavaRules, JavaVersion, NameClash, Report, Step, Target,
};
use crate::ops;
use crate::proxy::{Proxy, ProxyRules};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub keystore: KeystoreOpts,
    /// A server to check, HOST[:PORT] (repeatable; default: login.microsoftonline.com and
    /// outlook.office365.com, port 443).
    #[arg(long = "host", value_name = "HOST[:PORT]")]
    pub hosts: Vec<String>,
    /// Judge the chain in this PEM file (leaf first, as a server sends it) instead of
    /// connecting to a server.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["hosts", "proxy"])]
    pub chain: Option<PathBuf>,
    /// HTTP proxy to tunnel through with CONNECT (default: HTTPS_PROXY or ALL_PROXY from the
    /// environment; NO_PROXY applies either way).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Seconds allowed per server to resolve, connect and complete the handshake.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub timeout: u64,
    /// Apply the default algorithm rules (jdk.certpath/jdk.tls.disabledAlgorithms) of this
    /// Java release: 8, 17 or 21 (21 and later; 11 counts as 17, 25 as 21). Default: the
    /// release of the runtime of --java-home or --cacerts, else 17.
    #[arg(long = "java-version", value_name = "8|17|21", value_parser = parse_java_version)]
    pub java_version: Option<JavaVersion>,
}

fn parse_java_version(s: &str) -> Result<JavaVersion, String> {
    match JavaVersion::parse_java_version(s) {
        // Java 7 and older had other defaults, which are not modelled: no silent stand-in.
        Some(m) if m < 8 => Err(format!(
            "Java {m} has no rule set here (8 is the oldest modelled): give 8, 17 or 21"
        )),
        Some(m) => Ok(JavaVersion::of_release(m)),
        None => Err(format!("{s:?} is no Java release: give 8, 17 or 21")),
    }
}

/// The rule set to apply, and where its jdkCA roots come from: the runtime whose cacerts is
/// the keystore, or the one --java-home names.
fn java_rules(args: &CheckArgs, opened: &ops::Opened, store: &AnchorSet) -> JavaRules {
    use crate::locate::FoundBy;
    let runtime = match &opened.how {
        FoundBy::JavaHomeOption(h) | FoundBy::JavaHomeEnv(h) | FoundBy::JavaOnPath(h) => {
            Some((h.clone(), true))
        }
        _ => args.keystore.java_home.clone().map(|h| (h, false)),
    };
    let version = args
        .java_version
        .or_else(|| {
            runtime
                .as_ref()
                .and_then(|(h, _)| JavaVersion::of_java_home(h))
        })
        .unwrap_or(JavaVersion::Jdk17);
    let rules = JavaRules::new(version);
    match runtime {
        // The keystore is that runtime's own cacerts.
        Some((_, true)) => rules.with_jdk_cas(jdk_labelled(store)),
        Some((home, false)) => match jdk_cacerts(&home) {
            Some(shas) => rules.with_jdk_cas(shas),
            None => rules,
        },
        None => rules,
    }
}

/// The roots a JDK counts as its own (`jdkCA`): as its AnchorCertificates reads its
/// `lib/security/cacerts`, the entries whose alias contains " [jdk" (the JDK build labels the
/// roots it ships "name [jdk]"; a distribution's cacerts in their place, such as Debian's
/// "debian:..." entries, has none).
fn jdk_labelled(store: &AnchorSet) -> Vec<String> {
    store
        .anchors()
        .iter()
        .filter(|a| a.alias.contains(" [jdk"))
        .map(|a| a.cert.sha256.clone())
        .collect()
}

/// The `jdkCA` roots of a runtime's own cacerts, read with the default password.
fn jdk_cacerts(home: &Path) -> Option<Vec<String>> {
    let path = crate::locate::cacerts_in_java_home(home)?;
    let bytes = crate::fsio::read_regular_bounded(&path, 64 * 1024 * 1024).ok()?;
    let ks = crate::keystore::Keystore::parse(&bytes, None, Some("changeit"))
        .or_else(|_| crate::keystore::Keystore::parse(&bytes, None, None))
        .ok()?;
    Some(jdk_labelled(&AnchorSet::from_keystore(&ks)))
}

/// The chain file's size limit: a server chain is a few kilobytes.
const MAX_CHAIN_FILE: u64 = 4 * 1024 * 1024;

enum Source {
    File {
        path: PathBuf,
        certs: Vec<Vec<u8>>,
    },
    /// Each server with the proxy that tunnels to it.
    Hosts(Vec<(Target, Option<Proxy>)>),
}

/// One checked server (or chain file).
struct Checked {
    label: String,
    target: Option<Target>,
    chain_file: Option<String>,
    proxy: Option<String>,
    presented: Vec<Vec<u8>>,
    outcome: Result<(Report, Option<String>), Failure>,
    /// The chain was re-signed by a TLS-inspecting proxy.
    interception: Option<Interception>,
}

/// The OS trust store's roots, for naming a proxy's root the server did not send.
fn os_roots() -> Option<(String, Vec<Certificate>)> {
    let roots = crate::osstore::load()
        .map_err(|e| tracing::debug!("OS trust store not read: {e}"))
        .ok()?;
    let certs = roots
        .certs
        .iter()
        .filter_map(|d| Certificate::parse(d).ok())
        .collect();
    Some((roots.location, certs))
}

pub fn run(args: &CheckArgs, g: &GlobalOpts) -> CliResult<i32> {
    if args.timeout == 0 {
        return Err(Failure::usage(
            "bad --timeout",
            "it must be at least 1 second",
            "Give --timeout SECS with SECS >= 1.",
        ));
    }
    let proxies = ProxyRules::from_env(args.proxy.as_deref()).map_err(|e| Failure::from(&e))?;
    let source = match &args.chain {
        Some(path) => Source::File {
            path: path.clone(),
            certs: read_chain_file(path)?,
        },
        None => Source::Hosts(targets(&args.hosts, &proxies)?),
    };
    let opened = ops::open(&args.keystore.request()?)?;
    let shown_path = opened.path.display().to_string();
    let store = AnchorSet::from_keystore(&opened.keystore);
    for (alias, why) in store.ignored() {
        output::warn(format!(
            "{shown_path}: entry {alias:?} is left out: its certificate does not parse ({why}); Java would not load this keystore at all"
        ));
    }
    let catalog = Catalog::builtin();
    // Parsed once for every verdict, fix trial and host of this run.
    let catalog = check::CatalogCerts::of(&catalog);
    let now = OffsetDateTime::now_utc();
    let import_cmd = import_command(&args.keystore, &opened.path);
    let color = output::use_color(g);
    if g.format == Format::Text && !g.quiet {
        // The real file when links lead elsewhere (text only: the JSON keeps the path given).
        let named = match crate::locate::real_if_elsewhere(&opened.path) {
            Some(real) => format!("{shown_path} -> {}", real.display()),
            None => shown_path.clone(),
        };
        output::emit(&format!(
            "Keystore {named} ({}): {} certificate(s) Java would trust as anchors\n",
            opened.keystore.store_type(),
            store.len()
        ))?;
    }
    let rules = java_rules(args, &opened, &store);
    if g.format == Format::Text && !g.quiet {
        output::emit(&format!("Algorithm rules: {}\n", rules_text(&rules)))?;
    }
    let mut results = Vec::new();
    match source {
        Source::File { path, certs } => {
            let report = check::assess(&certs, &store, &catalog, now, &rules);
            let interception = intercept::recognise(&certs, &store, &catalog, None, os_roots);
            let shown = path.display().to_string();
            results.push(Checked {
                label: shown.clone(),
                target: None,
                chain_file: Some(shown),
                proxy: None,
                presented: certs,
                outcome: Ok((report, None)),
                interception,
            });
            if g.format == Format::Text {
                output::emit(&text(&results[0], &import_cmd, g, color))?;
            }
        }
        Source::Hosts(targets) => {
            let timeout = Duration::from_secs(args.timeout);
            for (target, proxy) in targets {
                let judging = Judging {
                    store: &store,
                    catalog: &catalog,
                    now,
                    rules: &rules,
                };
                let checked = check_host(&target, proxy.as_ref(), &judging, timeout, g);
                match (&checked.outcome, g.format) {
                    (Err(f), _) => output::error(f),
                    (Ok(_), Format::Text) => output::emit(&text(&checked, &import_cmd, g, color))?,
                    _ => {}
                }
                results.push(checked);
            }
        }
    }
    let unreachable = results.iter().filter(|r| r.outcome.is_err()).count();
    let not_trusted = results
        .iter()
        .filter(|r| matches!(&r.outcome, Ok((rep, _)) if !rep.verdict.trusted))
        .count();
    if g.format == Format::Json {
        let doc = CheckJson {
            java_rules: rules.version,
            jdk_ca_rule: rules.knows_jdk_cas(),
            keystore: KeystoreJson {
                path: shown_path,
                store_type: opened.keystore.store_type().as_str(),
                entries: opened.keystore.entries().len(),
                anchors: store.len(),
            },
            summary: SummaryJson {
                checked: results.len(),
                trusted: results.len() - unreachable - not_trusted,
                not_trusted,
                unreachable,
            },
            results: results
                .iter()
                .map(|r| result_json(r, &import_cmd))
                .collect(),
        };
        output::print_json(&doc)?;
    }
    // An unanswered host leaves the question open, which outweighs a definite "no".
    Ok(if unreachable > 0 {
        ExitKind::Network.code()
    } else if not_trusted > 0 {
        1
    } else {
        0
    })
}

fn targets(hosts: &[String], proxies: &ProxyRules) -> CliResult<Vec<(Target, Option<Proxy>)>> {
    let given: Vec<&str> = if hosts.is_empty() {
        check::DEFAULT_HOSTS.to_vec()
    } else {
        hosts.iter().map(String::as_str).collect()
    };
    given
        .iter()
        .map(|h| {
            let target = check::parse_target(h).map_err(|why| {
                Failure::usage(
                    format!("bad --host {h:?}"),
                    why,
                    "Give HOST or HOST:PORT, e.g. --host login.microsoftonline.com:443.",
                )
            })?;
            // A TLS server is reached like an https:// URL.
            let proxy = proxies.proxy_for("https", &target.host).cloned();
            if let Some(p) = proxy.as_ref().filter(|p| p.scheme != "http") {
                return Err(Failure::usage(
                    "bad proxy setting",
                    format!(
                        "check tunnels with CONNECT through an http:// proxy, not {}",
                        p.shown
                    ),
                    "Pass --proxy http://HOST:PORT.",
                ));
            }
            Ok((target, proxy))
        })
        .collect()
}

fn read_chain_file(path: &Path) -> CliResult<Vec<Vec<u8>>> {
    let shown = path.display().to_string();
    // A regular file only (a FIFO would hang), bounded whatever its size claims.
    let bytes = crate::fsio::read_regular_bounded(path, MAX_CHAIN_FILE).map_err(|e| {
        let kind = if matches!(e, crate::fsio::FsioError::TooLarge { .. }) {
            ExitKind::Verification
        } else {
            ExitKind::Usage
        };
        Failure::new(
            kind,
            "cannot use the chain file",
            &shown,
            e,
            "Name a PEM file with the server's certificates, leaf first.",
        )
    })?;
    check::read_chain(&bytes).map_err(|why| {
        Failure::new(
            ExitKind::Verification,
            "cannot use the chain file",
            &shown,
            why,
            "Give the certificates as PEM (-----BEGIN CERTIFICATE-----), leaf first, e.g. from openssl s_client -showcerts.",
        )
    })
}

/// What a chain is judged against.
struct Judging<'a> {
    store: &'a AnchorSet,
    catalog: &'a check::CatalogCerts<'a>,
    now: OffsetDateTime,
    rules: &'a JavaRules,
}

fn check_host(
    target: &Target,
    proxy: Option<&Proxy>,
    judging: &Judging<'_>,
    timeout: Duration,
    g: &GlobalOpts,
) -> Checked {
    let Judging {
        store,
        catalog,
        now,
        rules,
    } = *judging;
    let label = target.to_string();
    if g.verbose {
        match proxy {
            Some(p) => output::note(g, format!("connecting to {label} through {}", p.shown)),
            None => output::note(g, format!("connecting to {label}")),
        }
    }
    let mut interception = None;
    let (presented, outcome) = match tls::fetch_chain(target, proxy, timeout) {
        Ok(fetched) => {
            let mut report = check::assess(&fetched.certs, store, catalog, now, rules);
            interception =
                intercept::recognise(&fetched.certs, store, catalog, Some(&target.host), os_roots);
            report
                .warnings
                .extend(check::hostname_warning(&fetched.certs, &target.host));
            if let Some(e) = &fetched.late_error {
                report.warnings.push(if fetched.late_bad_signature {
                    format!(
                        "the handshake failed after the server sent its certificates ({e}): the server's handshake signature does not verify with its certificate's key, and Java would not complete it either"
                    )
                } else {
                    format!(
                        "the handshake failed after the server sent its certificates ({e}); that is azure-cacerts' own TLS client, which may lack an algorithm Java has: whether Java completes this handshake is not known here, so test with the Java application"
                    )
                });
            }
            (fetched.certs, Ok((report, fetched.protocol)))
        }
        Err(e) => {
            let fix = match &e {
                tls::ConnectError::BadName(_) => "Give a DNS name or an IP address with --host.",
                tls::ConnectError::Resolve(_) => {
                    "Check the host name; where only a proxy resolves names, pass --proxy URL or set HTTPS_PROXY."
                }
                tls::ConnectError::Proxy(_) => {
                    "Check the proxy URL (--proxy or HTTPS_PROXY) and that it allows CONNECT to this port; NO_PROXY lists hosts reached directly."
                }
                tls::ConnectError::Tls(_) => {
                    "Check that the port speaks TLS directly (not STARTTLS or plain HTTP)."
                }
                _ => {
                    "Check the host, port and network; behind a proxy pass --proxy URL or set HTTPS_PROXY; raise --timeout on a slow link."
                }
            };
            let failure = Failure::new(ExitKind::Network, "cannot check server", &label, e, fix);
            (Vec::new(), Err(failure))
        }
    };
    Checked {
        label,
        target: Some(target.clone()),
        chain_file: None,
        proxy: proxy.map(|p| p.shown.clone()),
        presented,
        outcome,
        interception,
    }
}

/// "(root CN=..., SHA-256 ...)" and why this is taken for a proxy.
fn interception_facts(i: &Interception, proxy: Option<&str>) -> (String, String) {
    let mut root = format!("root {}", i.root_subject);
    if let Some(r) = &i.root {
        root.push_str(&format!(", SHA-256 {}", r.cert.sha256));
    }
    let presents = match proxy {
        Some(p) => format!("the chain the proxy {p} presents"),
        None => "the chain".to_string(),
    };
    let why = match &i.evidence {
        Evidence::MicrosoftHost(h) => format!(
            "{h} is a Microsoft server, but {presents} ends at that root, which is neither in the Azure catalog nor issued by one of its CAs"
        ),
        Evidence::ProductName(p) => format!(
            "{presents} is issued by CAs named like those of {p}, not by a CA of the Azure catalog"
        ),
    };
    (root, why)
}

/// The sentence that names the interception.
fn interception_message(i: &Interception, proxy: Option<&str>, trusted: bool) -> String {
    let (root, why) = interception_facts(i, proxy);
    if trusted {
        let held = match i.root.as_ref().map(|r| &r.found) {
            Some(RootFound::Keystore(alias)) => format!(" (keystore entry {alias})"),
            _ => String::new(),
        };
        format!(
            "the connection goes through a TLS-inspecting proxy ({root}): {why}; Java trusts it because the keystore holds that root{held}"
        )
    } else {
        format!(
            "the connection is intercepted by a TLS-inspecting proxy ({root}): {why}; importing Azure CAs will not help: import the proxy's root"
        )
    }
}

/// How to import the proxy's root, from wherever it was found.
fn interception_fix(
    i: &Interception,
    import_cmd: &str,
    chain_file: Option<&str>,
) -> Option<String> {
    let cn = i
        .root_subject
        .split(", ")
        .find_map(|p| p.strip_prefix("CN="))
        .unwrap_or(&i.root_subject);
    Some(match &i.root {
        Some(r) => {
            let sha = &r.cert.sha256;
            match &r.found {
                RootFound::OsStore(loc) => format!(
                    "the OS trust store ({loc}) holds the proxy's root: run: {import_cmd} --from-os-store --expect-sha256 {sha}"
                ),
                // The chain file holds the root: --pem takes it, and leaves the server's
                // certificate out (not a CA).
                RootFound::Presented(n) if chain_file.is_some() => format!(
                    "check the root (certificate {n} of the chain file, SHA-256 {sha}) with whoever runs the proxy, then run: {import_cmd} --pem {} --expect-sha256 {sha}",
                    crate::suggest::quote_arg(chain_file.unwrap_or_default())
                ),
                RootFound::Presented(n) => format!(
                    "save certificate {n} the proxy sent (the root, SHA-256 {sha}) to a file, check it with whoever runs the proxy, then run: {import_cmd} --pem FILE --expect-sha256 {sha}"
                ),
                RootFound::Keystore(_) => return None,
            }
        }
        None => format!(
            "get the certificate of the proxy's root {} from whoever runs the proxy (a Windows machine that trusts it has it in its certificate store: {import_cmd} --from-os-store --issuer-contains {}), then run: {import_cmd} --pem ROOT.pem",
            i.root_subject,
            crate::suggest::quote_arg(cn)
        ),
    })
}

/// The import command line for this keystore, as the user named it.
fn import_command(opts: &KeystoreOpts, resolved: &Path) -> String {
    let mut cmd = String::from("azure-cacerts import");
    if opts.keystore.is_some() {
        cmd.push_str(&format!(
            " -k {}",
            crate::suggest::quote_arg(&resolved.display().to_string())
        ));
    } else if opts.cacerts {
        cmd.push_str(" --cacerts");
        if let Some(h) = &opts.java_home {
            cmd.push_str(&format!(
                " --java-home {}",
                crate::suggest::quote_arg(&h.display().to_string())
            ));
        }
    } else if let Some(h) = &opts.java_home {
        // --java-home alone names that runtime's cacerts, for import as for check.
        cmd.push_str(&format!(
            " --java-home {}",
            crate::suggest::quote_arg(&h.display().to_string())
        ));
    } else if let Some(h) = &opts.pimsync_home {
        cmd.push_str(&format!(
            " --pimsync-home {}",
            crate::suggest::quote_arg(&h.display().to_string())
        ));
    }
    if let Some(f) = &opts.password.storepass_file {
        cmd.push_str(&format!(
            " --storepass-file {}",
            crate::suggest::quote_arg(&f.display().to_string())
        ));
    } else if let Some(v) = &opts.password.storepass_env {
        cmd.push_str(&format!(
            " --storepass-env {}",
            crate::suggest::quote_arg(v)
        ));
    } else if opts.password.storepass.is_some() {
        // Never echo a password.
        cmd.push_str(" --storepass-file FILE");
    }
    cmd
}

/// What to do, in one sentence.
fn fix_text(c: &Checked, report: &Report, import_cmd: &str) -> Option<String> {
    let chain_file = c.chain_file.is_some();
    if report.verdict.trusted {
        return None;
    }
    if let Some(fix) = c
        .interception
        .as_ref()
        .and_then(|i| interception_fix(i, import_cmd, c.chain_file.as_deref()))
    {
        return Some(fix);
    }
    let names = |filter: &dyn Fn(&Importable) -> bool| -> Vec<String> {
        report
            .fix_cas
            .iter()
            .filter(|f| filter(&f.import))
            .map(|f| f.ca.display_name())
            .collect()
    };
    let yes = names(&|i| *i == Importable::Yes);
    if !yes.is_empty() {
        return Some(format!("run: {import_cmd} (it adds {})", yes.join(", ")));
    }
    if let Some(f) = report.fix_cas.first() {
        let why = match f.import {
            Importable::No(why) => why,
            _ => "not selected",
        };
        return Some(format!(
            "the catalog CA {} would anchor it, but import does not add it ({why}); add it with keytool -importcert only if you still trust it",
            f.ca.display_name()
        ));
    }
    let sender = if chain_file {
        "the chain file"
    } else {
        "the server"
    };
    let problem = report.verdict.problem.as_ref()?;
    let issuer = report
        .verdict
        .path
        .last()
        .map(|s| s.cert.issuer.clone())
        .unwrap_or_else(|| "the issuing CA".into());
    // Java's path builder takes a v1 anchor only when it is valid for all of the issued
    // certificate's validity; a v3 certificate of the same CA (name and key) has no such rule.
    let v3_copy = format!(
        "importing a v3 certificate of {issuer} with the same key would also do: Java's path builder takes the keystore's version 1 certificate of it only when that is valid for all of the issued certificate's validity"
    );
    if report.in_order_helps {
        let also = if problem.code == ProblemCode::AnchorValidity {
            format!("; {v3_copy}")
        } else {
            String::new()
        };
        return Some(format!(
            "have {sender} send its chain in order (the server certificate, then the certificate of its issuer, and so on): Java then trusts it with this keystore{also}"
        ));
    }
    if let (Some(a), ProblemCode::NoIssuer | ProblemCode::NoAnchors) =
        (&report.sent_anchor, problem.code)
    {
        let n = a.position + 1;
        let sha = &a.sha256;
        let how = match c.chain_file.as_deref() {
            Some(file) if a.only_ca_sent => format!(
                "run: {import_cmd} --pem {} --expect-sha256 {sha}",
                crate::suggest::quote_arg(file)
            ),
            Some(_) => format!(
                "save certificate {n} of the chain file to a file and run: {import_cmd} --pem FILE --expect-sha256 {sha}"
            ),
            None => format!(
                "save certificate {n} the server sent to a file and run: {import_cmd} --pem FILE --expect-sha256 {sha}"
            ),
        };
        return Some(format!(
            "no Azure catalog CA anchors this chain, but the chain's own {} (certificate {n}, SHA-256 {sha}) does: if it is a CA you trust (check the fingerprint with whoever runs it), {how}",
            a.subject
        ));
    }
    Some(match problem.code {
        ProblemCode::NoIssuer => format!(
            "no Azure catalog CA anchors this chain: import the certificate of {issuer} (keytool -importcert), or have {sender} include the intermediate certificates"
        ),
        ProblemCode::NoAnchors => format!(
            "no Azure catalog CA anchors this chain: import the certificate of {issuer} (keytool -importcert)"
        ),
        ProblemCode::AkiKeyMismatch | ProblemCode::Signature => match &report.name_clash {
            Some(NameClash::OtherKey { alias, .. }) => format!(
                "the keystore's certificate named {issuer} (alias {alias}) has another key than the CA that signed this chain: import that CA's current certificate (keytool -importcert)"
            ),
            Some(NameClash::SameKeyOtherId { alias, .. }) => format!(
                "the keystore's {issuer} (alias {alias}) has the right key but not the key identifier the chain's AKI names, and Java matches by it when the chain is sent in order: import the certificate of {issuer} whose key identifier the chain names (keytool -importcert)"
            ),
            Some(NameClash::OldServerCertificate { .. }) | None => format!(
                "a signature on the chain does not verify with its issuer's key: the chain {sender} presents is broken; no keystore change helps"
            ),
            Some(NameClash::StaleRootSent { alias, .. }) => format!(
                "{sender} appends its own copy of {issuer} with another key; the keystore's (alias {alias}) signed the certificate below it, but Java validates the chain as sent: have {sender} stop sending that stale root"
            ),
        },
        ProblemCode::AkiSerialMismatch => format!(
            "the chain asks for the exact certificate of {issuer} with the serial its AKI names, which the keystore lacks: import that certificate (keytool -importcert)"
        ),
        ProblemCode::Expired | ProblemCode::NotYetValid
            if report.leaf_fault =>
        {
            format!("{sender} must present a server certificate that is valid now; no keystore change helps")
        }
        ProblemCode::Expired | ProblemCode::NotYetValid => format!(
            "{sender} must present CA certificates that are valid now (a keystore holding a valid certificate with the same name and key as the expired one would also do)"
        ),
        ProblemCode::AnchorNotCa => match &report.name_clash {
            Some(NameClash::OldServerCertificate { alias }) => format!(
                "the keystore trusts an earlier certificate of this self-signed server (alias {alias}); import the server certificate {sender} now presents (keytool -importcert -alias {alias}, after deleting the old entry)"
            ),
            _ => "replace that keystore entry with the certificate of the CA itself".into(),
        },
        ProblemCode::SuccessiveSelfIssued => format!(
            "have {sender} send only the rollover certificate that links its CA to the keystore's (or none of them), or import the current certificate of {issuer} (keytool -importcert)"
        ),
        ProblemCode::NameConstraints | ProblemCode::PolicyConstraints
            if report.unbound_twin_issuer.is_some() =>
        {
            let other = report.unbound_twin_issuer.as_deref().unwrap_or_default();
            format!(
                "{sender} also sends a copy of a CA of this path issued by {other}, which these constraints do not bind: import the certificate of {other} (keytool -importcert) so that Java can take that path; otherwise the certificates {sender} presents must change"
            )
        }
        ProblemCode::NameConstraints => "a name of the chain is outside what the CA named in the reason may certify (its name constraints): the server certificate or that CA must change; no other keystore change helps (Java ignores a trust anchor's own name constraints, so only trusting that very CA as an anchor would set them aside)".into(),
        ProblemCode::PolicyConstraints => format!(
            "the chain's certificate policies do not satisfy its own policy constraints: the certificates {sender} presents must change; no other keystore change helps (the extensions of a trust anchor itself do not count, so only trusting the constraining CA as an anchor would set them aside)"
        ),
        ProblemCode::AnchorValidity => format!("{v3_copy}; no other keystore change helps"),
        ProblemCode::V1Intermediate => "a CA certificate of the chain is a version 1 certificate, which Java takes as a CA only as a trust anchor: its CA should issue it again as a v3 certificate with basicConstraints; importing that version 1 certificate itself into the keystore also makes Java trust the chain (keytool -importcert, if you trust that CA)".into(),
        ProblemCode::UnsupportedAlgorithm => {
            "azure-cacerts cannot decide this chain; test with the Java application itself".into()
        }
        _ => format!("the certificates {sender} presents must change; no keystore change helps"),
    })
}

fn rules_text(rules: &JavaRules) -> String {
    let jdk_ca = if rules.knows_jdk_cas() {
        "with the SHA-1 rule for the JDK's own roots"
    } else {
        "without the SHA-1 rule for the JDK's own roots (give --java-home to apply it)"
    };
    format!(
        "the defaults of {} (jdk.certpath and jdk.tls.disabledAlgorithms), {jdk_ca}",
        rules.version.shown()
    )
}

fn how_text(s: &Step) -> String {
    let alias = s.alias.as_deref().unwrap_or("?");
    match s.how {
        How::Presented => "presented".into(),
        How::AnchorExact => format!("anchor: exact {alias}"),
        How::AnchorSameNameAndKey => format!("anchor: same name and key {alias}"),
        How::Anchor => format!("anchor: {alias} (not sent)"),
    }
}

fn text(c: &Checked, import_cmd: &str, g: &GlobalOpts, color: bool) -> String {
    let mut out = String::new();
    let Ok((report, protocol)) = &c.outcome else {
        return out;
    };
    let v = &report.verdict;
    for w in &report.warnings {
        output::warn(format!("{}: {w}", c.label));
    }
    if g.quiet {
        if !v.trusted {
            let reason = v.problem.as_ref().map(|p| p.message.as_str()).unwrap_or("");
            let _ = writeln!(out, "{}: NOT TRUSTED: {reason}", c.label);
        }
        return out;
    }
    let verdict = if v.trusted {
        output::paint(color, "32", "trusted")
    } else {
        output::paint(color, "31;1", "NOT TRUSTED")
    };
    let mut head = format!("\n{}: {verdict}", c.label);
    if let Some(p) = &c.proxy {
        head.push_str(&format!(" (through {p})"));
    }
    if let (true, Some(proto)) = (g.verbose, protocol) {
        head.push_str(&format!(" [{proto}]"));
    }
    let _ = writeln!(out, "{head}");
    if v.trusted {
        for (i, s) in v.path.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", i + 1, s.cert.subject);
            let _ = writeln!(
                out,
                "     issuer {}; not after {}; {}",
                s.cert.issuer,
                ymd(s.cert.not_after),
                how_text(s)
            );
        }
        let used = v.path.iter().filter(|s| s.position.is_some()).count();
        if c.presented.len() > used {
            let _ = writeln!(
                out,
                "  ({} other certificate(s) sent are not on the path)",
                c.presented.len() - used
            );
        }
        if let Some(i) = &c.interception {
            let _ = writeln!(
                out,
                "{}",
                super::render::wrap(
                    &format!(
                        "  note: {}",
                        interception_message(i, c.proxy.as_deref(), true)
                    ),
                    4
                )
            );
        }
        if report.entrust_distrust {
            let _ = writeln!(out,
                "  {}",
                output::paint(
                    color,
                    "33",
                    "but patched Java runtimes distrust it: Entrust root, certificate issued after 2024-11-11"
                )
            );
        }
        return out;
    }
    if let Some(p) = &v.problem {
        let _ = writeln!(out, "  reason: {}", p.message);
    }
    if let Some(i) = &c.interception {
        let _ = writeln!(
            out,
            "{}",
            super::render::wrap(
                &format!(
                    "  intercepted: {}",
                    interception_message(i, c.proxy.as_deref(), false)
                ),
                4
            )
        );
    }
    if let Some(fix) = fix_text(c, report, import_cmd) {
        let _ = writeln!(out, "  fix: {fix}");
    }
    let sent = if c.chain_file.is_some() {
        "the chain file holds"
    } else {
        "the server presented"
    };
    let _ = writeln!(out, "  {sent}:");
    for (i, der) in c.presented.iter().enumerate() {
        match Certificate::parse(der) {
            Ok(f) => {
                let _ = writeln!(out, "    {}. {}", i + 1, f.subject);
                let _ = writeln!(
                    out,
                    "       issuer {}; not after {}",
                    f.issuer,
                    ymd(f.not_after)
                );
            }
            Err(why) => {
                let _ = writeln!(out, "    {}. (does not parse: {why})", i + 1);
            }
        }
    }
    out
}

#[derive(Serialize)]
struct CheckJson {
    keystore: KeystoreJson,
    /// The JDK release whose default algorithm rules were applied: "8", "17" or "21".
    java_rules: JavaVersion,
    /// Whether the `SHA1 jdkCA & usage TLSServer` rule was applied (the JDK's own roots are
    /// known).
    jdk_ca_rule: bool,
    results: Vec<ResultJson>,
    summary: SummaryJson,
}

#[derive(Serialize)]
struct KeystoreJson {
    path: String,
    #[serde(rename = "type")]
    store_type: &'static str,
    entries: usize,
    /// Certificates Java would use as trust anchors.
    anchors: usize,
}

#[derive(Serialize)]
struct SummaryJson {
    checked: usize,
    trusted: usize,
    not_trusted: usize,
    unreachable: usize,
}

#[derive(Serialize)]
struct ResultJson {
    host: Option<String>,
    port: Option<u16>,
    chain_file: Option<String>,
    proxy: Option<String>,
    /// Set when the server could not be reached; the other fields are then empty.
    error: Option<String>,
    tls_version: Option<String>,
    trusted: bool,
    path: Vec<StepJson>,
    reason: Option<String>,
    reason_code: Option<ProblemCode>,
    fix_cas: Vec<FixJson>,
    fix: Option<String>,
    entrust_distrust: bool,
    warnings: Vec<String>,
    presented: Vec<CertJson>,
    /// Set when a TLS-inspecting proxy re-signed the chain (docs/check.md).
    interception: Option<InterceptionJson>,
}

#[derive(Serialize)]
struct InterceptionJson {
    root_subject: String,
    /// Null when the root certificate is not at hand (not sent, not in the keystore or the
    /// OS trust store).
    root_sha256: Option<String>,
    /// `presented`, `keystore` or `os-store`.
    root_found: Option<&'static str>,
    /// The keystore alias or the OS store the root is in.
    root_location: Option<String>,
    /// `microsoft-host` or `product-name`.
    evidence: &'static str,
    /// The Microsoft host, or the product the names point to.
    evidence_detail: String,
    message: String,
}

#[derive(Serialize)]
struct StepJson {
    subject: String,
    issuer: String,
    not_before: String,
    not_after: String,
    sha256: String,
    #[serde(rename = "match")]
    how: How,
    alias: Option<String>,
    /// 1-based position in the presented chain, when the server sent it.
    position: Option<usize>,
}

#[derive(Serialize)]
struct CertJson {
    position: usize,
    subject: Option<String>,
    issuer: Option<String>,
    not_after: Option<String>,
    sha256: String,
}

#[derive(Serialize)]
struct FixJson {
    name: String,
    variant: Option<String>,
    role: &'static str,
    sha1: String,
    status: &'static str,
    /// Whether `import` adds it with its default selection.
    importable: bool,
    note: Option<String>,
}

fn result_json(c: &Checked, import_cmd: &str) -> ResultJson {
    let (host, port) = match &c.target {
        Some(t) => (Some(t.host.clone()), Some(t.port)),
        None => (None, None),
    };
    let presented = c
        .presented
        .iter()
        .enumerate()
        .map(|(i, der)| {
            let f = Certificate::parse(der).ok();
            CertJson {
                position: i + 1,
                subject: f.as_ref().map(|f| f.subject.clone()),
                issuer: f.as_ref().map(|f| f.issuer.clone()),
                not_after: f.as_ref().map(|f| ymd(f.not_after)),
                sha256: crate::cert::sha256_hex(der),
            }
        })
        .collect();
    let mut r = ResultJson {
        host,
        port,
        chain_file: c.chain_file.clone(),
        proxy: c.proxy.clone(),
        error: None,
        tls_version: None,
        trusted: false,
        path: Vec::new(),
        reason: None,
        reason_code: None,
        fix_cas: Vec::new(),
        fix: None,
        entrust_distrust: false,
        warnings: Vec::new(),
        presented,
        interception: None,
    };
    match &c.outcome {
        Err(f) => r.error = Some(f.to_string()),
        Ok((report, protocol)) => {
            let v = &report.verdict;
            r.tls_version = protocol.clone();
            r.trusted = v.trusted;
            r.path = v
                .path
                .iter()
                .map(|s| StepJson {
                    subject: s.cert.subject.clone(),
                    issuer: s.cert.issuer.clone(),
                    not_before: ymd(s.cert.not_before),
                    not_after: ymd(s.cert.not_after),
                    sha256: s.cert.sha256.clone(),
                    how: s.how,
                    alias: s.alias.clone(),
                    position: s.position,
                })
                .collect();
            r.reason = v.problem.as_ref().map(|p| p.message.clone());
            r.reason_code = v.problem.as_ref().map(|p| p.code);
            r.fix_cas = report
                .fix_cas
                .iter()
                .map(|f| FixJson {
                    name: f.ca.name.clone(),
                    variant: f.ca.variant.clone(),
                    role: f.ca.role.as_str(),
                    sha1: f.ca.sha1.clone(),
                    status: f.ca.status.as_str(),
                    importable: f.import == Importable::Yes,
                    note: match f.import {
                        Importable::Yes => None,
                        Importable::No(why) => Some(format!("import does not add it: {why}")),
                    },
                })
                .collect();
            r.fix = fix_text(c, report, import_cmd);
            r.interception = c.interception.as_ref().map(|i| {
                let (found, location) = match i.root.as_ref().map(|r| &r.found) {
                    Some(RootFound::Presented(_)) => (Some("presented"), None),
                    Some(RootFound::Keystore(a)) => (Some("keystore"), Some(a.clone())),
                    Some(RootFound::OsStore(l)) => (Some("os-store"), Some(l.clone())),
                    None => (None, None),
                };
                let (evidence, detail) = match &i.evidence {
                    Evidence::MicrosoftHost(h) => ("microsoft-host", h.clone()),
                    Evidence::ProductName(p) => ("product-name", p.to_string()),
                };
                InterceptionJson {
                    root_subject: i.root_subject.clone(),
                    root_sha256: i.root.as_ref().map(|r| r.cert.sha256.clone()),
                    root_found: found,
                    root_location: location,
                    evidence,
                    evidence_detail: detail,
                    message: interception_message(i, c.proxy.as_deref(), v.trusted),
                }
            });
            r.entrust_distrust = report.entrust_distrust;
            r.warnings = report.warnings.clone();
        }
    }
    r
}
