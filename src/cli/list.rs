//! `azure-cacerts list`: the entries of a keystore, like `keytool -list` but readable.

use std::fmt::Write as _;

use clap::Args;
use serde::Serialize;

use super::args::{Format, GlobalOpts, KeystoreOpts};
use super::failure::CliResult;
use super::output;
use super::render::KeystoreJson;
use crate::cert::{self, Certificate};
use crate::keystore::{Entry, EntryKind, StoreType};
use crate::ops::{self, KeystoreSummary, Lenience};

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub keystore: KeystoreOpts,
}

#[derive(Serialize)]
struct EntryJson {
    alias: String,
    kind: &'static str,
    created: Option<String>,
    subject: Option<String>,
    issuer: Option<String>,
    not_after: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
    chain_length: usize,
    /// The subject's CN for the text table (the JSON has the whole subject).
    #[serde(skip)]
    common_name: Option<String>,
}

#[derive(Serialize)]
struct ListJson {
    keystore: KeystoreJson,
    entries: Vec<EntryJson>,
}

fn entry_json(e: &Entry) -> EntryJson {
    let first = e.certs.first();
    let info = first.and_then(|der| Certificate::parse(der).ok());
    EntryJson {
        alias: e.alias.clone(),
        kind: e.kind.as_str(),
        created: e.created_ms.and_then(cert::iso_utc_from_ms),
        subject: info.as_ref().map(|i| i.subject.clone()),
        issuer: info.as_ref().map(|i| i.issuer.clone()),
        not_after: info.as_ref().map(|i| cert::ymd(i.not_after)),
        // Fingerprints stand even when the certificate does not parse: they are of the bytes.
        sha1: first.map(|d| cert::sha1_hex(d)),
        sha256: first.map(|d| cert::sha256_hex(d)),
        chain_length: e.certs.len(),
        common_name: info.as_ref().map(|i| i.display_name().to_string()),
    }
}

pub fn run(args: &ListArgs, g: &GlobalOpts) -> CliResult<i32> {
    let (opened, unverified) =
        ops::open_lenient(&args.keystore.request()?, Lenience::DefaultPasswordOnly)?;
    let ks = &opened.keystore;
    let summary = KeystoreSummary::of(&opened);
    let shown_path = super::render::path_shown(&summary);
    if unverified && ks.entries().is_empty() && ks.store_type() == StoreType::Pkcs12 {
        output::warn(format!(
            "{shown_path}: its certificates are encrypted with the store password, which is not changeit: \
             nothing can be listed without it. Pass it with --storepass-file FILE, --storepass-env VAR, \
             or --storepass (asked for on a terminal)."
        ));
    } else if unverified {
        output::warn(format!(
            "{shown_path}: the integrity of this keystore has NOT been verified: the default password changeit does not match, and no password was given"
        ));
    }
    if let Some(problem) = ks.java_load_problem() {
        output::warn(format!(
            "{shown_path}: Java cannot load this keystore ({problem}); azure-cacerts will not write it"
        ));
    }
    let shadowed = ks.shadowed_aliases();
    if !shadowed.is_empty() {
        output::warn(format!(
            "{shown_path}: {} entr{} hidden by a later entry with the same alias ({}): Java shows only the last; the hidden copies stay in the file",
            shadowed.len(),
            if shadowed.len() == 1 { "y is" } else { "ies are" },
            shadowed.join(", ")
        ));
    }
    for w in super::render::keystore_warnings(&summary, false) {
        output::warn(w);
    }
    if g.quiet && g.format == Format::Text {
        return Ok(0);
    }
    let entries: Vec<EntryJson> = ks.entries().iter().map(entry_json).collect();
    match g.format {
        Format::Json => output::print_json(&ListJson {
            keystore: KeystoreJson {
                verified: Some(ks.is_verified()),
                ..KeystoreJson::of(&summary)
            },
            entries,
        })?,
        Format::Text => output::emit(&text(g, &summary, ks, &entries))?,
    }
    Ok(0)
}

fn text(
    g: &GlobalOpts,
    summary: &KeystoreSummary,
    ks: &crate::keystore::Keystore,
    entries: &[EntryJson],
) -> String {
    let mut out = String::new();
    let color = output::use_color(g);
    let protection = if ks.is_password_protected() {
        "password-protected"
    } else {
        "password-less"
    };
    let verified = if ks.is_verified() {
        "verified"
    } else {
        "NOT verified"
    };
    let encrypted = if entries.is_empty() && !ks.is_verified() {
        " (any certificates are encrypted: a password is needed)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{}: {} keystore, {} entries{encrypted}, {protection}, integrity {verified}",
        super::render::path_shown(summary),
        ks.store_type().as_str().to_uppercase(),
        entries.len()
    );
    super::render::keystore_details(&mut out, summary);
    out.push('\n');
    let today = cert::ymd(time::OffsetDateTime::now_utc());
    let alias_w = entries
        .iter()
        .map(|e| e.alias.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 64);
    let _ = writeln!(
        out,
        "{:<alias_w$}  {:<12}  {:<10}  {:<10}  {:<64}  SUBJECT CN",
        "ALIAS", "KIND", "CREATED", "NOT AFTER", "SHA-256"
    );
    for (e, entry) in entries.iter().zip(ks.entries()) {
        let created = e.created.as_deref().map(|c| &c[..10]).unwrap_or("-");
        let not_after = e.not_after.as_deref().unwrap_or("-");
        let not_after_shown = if not_after != "-" && not_after < today.as_str() {
            output::paint(color, "31", &format!("{not_after:<10}"))
        } else {
            format!("{not_after:<10}")
        };
        let cn = match (&e.common_name, entry.kind) {
            (Some(cn), _) => cn.as_str(),
            (None, EntryKind::SecretKey) => "(secret key)",
            (None, _) => "-",
        };
        let _ = writeln!(
            out,
            "{:<alias_w$}  {:<12}  {:<10}  {}  {:<64}  {}",
            e.alias,
            e.kind,
            created,
            not_after_shown,
            e.sha256.as_deref().unwrap_or("-"),
            cn
        );
    }
    out
}
