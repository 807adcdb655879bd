//! Option groups shared by several commands (docs/usage.md).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use time::OffsetDateTime;

use super::failure::{CliResult, Failure};
use crate::catalog::SourceSpec;
use crate::keystore::StoreType;
use crate::locate::KeystoreLocation;
use crate::ops::{ApplySettings, OpenRequest, PasswordSource};
use crate::plan::{self, Selection};
use crate::write::Backup;

/// The format a command renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// What `--format` accepts: the formats every command renders, and `prometheus` for the
/// commands whose result is a state to monitor (diff, scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatChoice {
    Text,
    Json,
    Prometheus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Output format: text for people, json for scripts (one document on stdout);
    /// prometheus (diff, import --dry-run, scan): metrics for node_exporter's textfile
    /// collector.
    #[arg(long = "format", value_name = "FORMAT", value_enum, default_value_t = FormatChoice::Text, global = true)]
    pub format_choice: FormatChoice,
    /// What commands render, from `--format` ([`GlobalOpts::settle`]); `prometheus` is
    /// refused before any command but diff and scan runs.
    #[arg(skip)]
    pub format: Format,
    /// Print only errors and warnings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print what is being done on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

impl GlobalOpts {
    /// Derives what commands read from the parsed `--format`.
    pub fn settle(&mut self) {
        self.format = match self.format_choice {
            FormatChoice::Json => Format::Json,
            FormatChoice::Text | FormatChoice::Prometheus => Format::Text,
        };
    }

    /// `--format prometheus`.
    pub fn prometheus(&self) -> bool {
        self.format_choice == FormatChoice::Prometheus
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreTypeArg {
    Auto,
    Jks,
    Jceks,
    Pkcs12,
}

/// Which keystore, and how to open it.
#[derive(Debug, Clone, Args)]
pub struct KeystoreOpts {
    /// The keystore file (JKS, JCEKS or PKCS12; the format is detected by content).
    #[arg(short = 'k', long = "keystore", value_name = "PATH")]
    pub keystore: Option<PathBuf>,
    /// Use the cacerts of the Java runtime (--java-home, JAVA_HOME, or java on PATH).
    #[arg(long, conflicts_with = "keystore")]
    pub cacerts: bool,
    /// The Java runtime whose cacerts --cacerts means (JDK 8 and 9+ layouts).
    #[arg(long, value_name = "DIR")]
    pub java_home: Option<PathBuf>,
    /// A PIMSYNC installation: use the truststore its bundled JRE uses (default: env
    /// PIMSYNC_HOME when no other keystore option is given).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["keystore", "cacerts"])]
    pub pimsync_home: Option<PathBuf>,
    /// Refuse the file unless it is of this type (default: detect by content; any case).
    #[arg(long, value_enum, ignore_case = true, default_value_t = StoreTypeArg::Auto)]
    pub storetype: StoreTypeArg,
    #[command(flatten)]
    pub password: PasswordOpts,
}

/// The store password; without one, `changeit` (the JDK default).
#[derive(Debug, Clone, Default, Args)]
pub struct PasswordOpts {
    /// The store password (visible to other users in the process list: prefer the -env or
    /// -file forms). Without a value, asked for on a terminal (hidden input).
    #[arg(long, value_name = "PASS", num_args = 0..=1, conflicts_with_all = ["storepass_env", "storepass_file"])]
    pub storepass: Option<Option<String>>,
    /// Read the store password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "storepass_file")]
    pub storepass_env: Option<String>,
    /// Read the store password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub storepass_file: Option<PathBuf>,
}

/// Where the CA list and the certificate bytes come from.
#[derive(Debug, Clone, Args)]
pub struct SourceOpts {
    /// Use the live catalog parsed from Microsoft's page and download each certificate.
    #[arg(long, conflicts_with = "bundle")]
    pub online: bool,
    #[command(flatten)]
    pub net: NetOpts,
}

/// The SOURCE options other than the choice between live and built-in.
#[derive(Debug, Clone, Args)]
pub struct NetOpts {
    /// Address of the page's markdown source (implies the live catalog).
    #[arg(long, value_name = "URL")]
    pub catalog_url: Option<String>,
    /// An offline bundle written by `fetch --out DIR`.
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    /// HTTP(S) proxy (default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Network timeout per request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub timeout: u64,
    /// Also take a root CA that only the live page names (a page alone never adds a root).
    #[arg(long)]
    pub accept_new_roots: bool,
    /// The SHA-256 of a certificate you vouch for (repeatable): a CA only the live page
    /// names is taken with it; with --pem every CA certificate of the files must be one of
    /// them, and --from-os-store takes only these.
    #[arg(long, value_name = "SHA256")]
    pub expect_sha256: Vec<String>,
}

/// Certificates from outside the Azure catalog (docs/usage.md, "Other CAs").
#[derive(Debug, Clone, Default, Args)]
pub struct CustomOpts {
    /// Also take the CA certificates of this file: PEM, DER or PKCS#7 (.p7b), one or many
    /// (repeatable). Each is shown before anything is written.
    #[arg(long = "pem", value_name = "FILE")]
    pub pem: Vec<PathBuf>,
    /// Also take roots the operating system trusts that the keystore lacks (Linux: the
    /// distribution bundle; Windows: the ROOT store); needs --issuer-contains or
    /// --expect-sha256.
    #[arg(long)]
    pub from_os_store: bool,
    /// With --from-os-store: only roots whose subject or issuer contains this text (any
    /// case; repeatable).
    #[arg(long, value_name = "TEXT", requires = "from_os_store")]
    pub issuer_contains: Vec<String>,
    /// Take certificates that are not CAs too (e.g. a self-signed server certificate).
    #[arg(long)]
    pub allow_non_ca: bool,
    /// The alias of the one certificate taken (default: custom-<name>).
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// Compare only the --pem / --from-os-store certificates, not the Azure catalog.
    #[arg(long)]
    pub no_catalog: bool,
}

impl CustomOpts {
    /// The library's request, with the pins of `--expect-sha256`.
    pub fn request(&self, pins: &[String]) -> CliResult<crate::custom::CustomRequest> {
        let req = crate::custom::CustomRequest {
            pem_files: self.pem.clone(),
            from_os_store: self.from_os_store,
            issuer_contains: self.issuer_contains.clone(),
            expect_sha256: pins.to_vec(),
            allow_non_ca: self.allow_non_ca,
            alias: self.alias.clone(),
        };
        if req.is_empty() {
            let given = [
                (self.allow_non_ca, "--allow-non-ca"),
                (self.alias.is_some(), "--alias"),
                (self.no_catalog, "--no-catalog"),
            ];
            if let Some((_, name)) = given.iter().find(|(on, _)| *on) {
                return Err(Failure::usage(
                    format!("{name} without certificates"),
                    format!("{name} applies to the certificates of --pem FILE or --from-os-store"),
                    "Add --pem FILE (or --from-os-store), or drop the option.",
                ));
            }
        }
        if let Some(a) = &self.alias {
            if a.trim().is_empty() || a.chars().any(char::is_control) {
                return Err(Failure::usage(
                    "bad --alias",
                    "an alias must be a name, with no control characters",
                    "Give e.g. --alias corp-proxy-root.",
                ));
            }
        }
        Ok(req)
    }
}

/// Which catalog CAs are wanted.
#[derive(Debug, Clone, Args)]
pub struct SelectOpts {
    /// Also want the CAs every Java runtime ships (DigiCert Global Root CA, Entrust Root G2).
    #[arg(long)]
    pub no_default_skips: bool,
    /// Do not want this CA (its name or SHA-1; repeatable).
    #[arg(long, value_name = "NAME|SHA1")]
    pub skip: Vec<String>,
    /// Only the root CAs.
    #[arg(long)]
    pub roots_only: bool,
}

impl StoreTypeArg {
    pub fn expected(self) -> Option<StoreType> {
        match self {
            StoreTypeArg::Auto => None,
            StoreTypeArg::Jks => Some(StoreType::Jks),
            StoreTypeArg::Jceks => Some(StoreType::Jceks),
            StoreTypeArg::Pkcs12 => Some(StoreType::Pkcs12),
        }
    }
}

impl PasswordOpts {
    /// The password source these options name; `--storepass` without a value asks on the
    /// terminal (never in a script: without a terminal it is a usage error).
    pub fn source(&self) -> CliResult<PasswordSource> {
        self.source_with(prompt_password)
    }

    fn source_with(&self, prompt: impl FnOnce() -> CliResult<String>) -> CliResult<PasswordSource> {
        Ok(if let Some(p) = &self.storepass {
            match p {
                Some(p) => PasswordSource::Given(p.clone()),
                None => PasswordSource::Given(prompt()?),
            }
        } else if let Some(var) = &self.storepass_env {
            PasswordSource::Env(var.clone())
        } else if let Some(f) = &self.storepass_file {
            PasswordSource::File(f.clone())
        } else {
            PasswordSource::Default
        })
    }
}

/// After the `changeit` default failed to open a keystore: on a terminal, ask for the
/// password (as keytool does) and return it; None in scripts, services and for every other
/// error.
pub fn ask_after_default_failed(e: &crate::ops::OpenError) -> Option<PasswordSource> {
    use std::io::IsTerminal;
    let crate::ops::OpenError::Parse {
        path,
        source,
        password_explicit: false,
        password_setting: None,
    } = e
    else {
        return None;
    };
    if !matches!(
        source,
        crate::keystore::KeystoreError::WrongPassword(_)
            | crate::keystore::KeystoreError::PasswordRequired(_)
    ) || !std::io::stdin().is_terminal()
        || !std::io::stderr().is_terminal()
    {
        return None;
    }
    let prompt = format!(
        "The default password changeit does not open {}.\nKeystore password: ",
        path.display()
    );
    rpassword::prompt_password(prompt)
        .ok()
        .map(PasswordSource::Given)
}

/// Asks for the store password on the terminal, without echo.
fn prompt_password() -> CliResult<String> {
    use std::io::IsTerminal;
    let no_terminal = || {
        Failure::usage(
            "no value for --storepass",
            "without a value --storepass asks for the password, and there is no terminal to ask on",
            "In scripts pass --storepass-file FILE or --storepass-env VAR.",
        )
    };
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(no_terminal());
    }
    rpassword::prompt_password("Keystore password: ").map_err(|e| {
        Failure::usage(
            "cannot read the password",
            "the terminal",
            format!("{e}; pass --storepass-file FILE instead."),
        )
    })
}

/// A `--pimsync-home` value that is an unexpanded or empty variable: PowerShell passes ""
/// for an unset "$env:PIMSYNC_HOME", cmd passes %PIMSYNC_HOME% literally.
pub fn check_pimsync_home(value: &std::path::Path) -> CliResult<()> {
    let s = value.to_string_lossy();
    let unexpanded = s.contains("%PIMSYNC_HOME%")
        || s.contains("$PIMSYNC_HOME")
        || s.contains("${PIMSYNC_HOME}")
        || s.contains("$env:PIMSYNC_HOME");
    if s.trim().is_empty() || unexpanded {
        let shown = if s.trim().is_empty() {
            "an empty value".to_string()
        } else {
            format!("{s:?}")
        };
        return Err(Failure::usage(
            "PIMSYNC_HOME is not set",
            format!("--pimsync-home got {shown}: the shell did not expand the variable because it is not set"),
            "Give the folder itself (--pimsync-home C:\\PIMSYNC), or set the variable: \
             cmd `setx PIMSYNC_HOME \"C:\\PIMSYNC\"` (then open a new prompt), \
             PowerShell `$env:PIMSYNC_HOME = 'C:\\PIMSYNC'`, Linux `export PIMSYNC_HOME=/opt/pimsync`.",
        ));
    }
    Ok(())
}

impl KeystoreOpts {
    pub fn location(&self) -> CliResult<KeystoreLocation> {
        if let Some(p) = &self.keystore {
            Ok(KeystoreLocation::File(p.clone()))
        } else if self.cacerts || (self.java_home.is_some() && self.pimsync_home.is_none()) {
            // --java-home DIR alone means the cacerts of that runtime.
            Ok(KeystoreLocation::Cacerts {
                java_home: self.java_home.clone(),
            })
        } else if let Some(h) = &self.pimsync_home {
            check_pimsync_home(h)?;
            Ok(KeystoreLocation::Pimsync(h.clone()))
        } else if let Some(h) = pimsync_home_from_env() {
            check_pimsync_home(&h)?;
            Ok(KeystoreLocation::Pimsync(h))
        } else {
            Err(Failure::usage(
                "no keystore given",
                "this command needs a keystore",
                "Name it with -k FILE, --cacerts (the Java runtime's), or --pimsync-home DIR (or set PIMSYNC_HOME).",
            ))
        }
    }

    /// The library's view of these options.
    pub fn request(&self) -> CliResult<OpenRequest> {
        Ok(OpenRequest {
            location: self.location()?,
            expected: self.storetype.expected(),
            password: self.password.source()?,
        })
    }
}

impl SelectOpts {
    pub fn selection(&self, now: OffsetDateTime) -> Selection {
        Selection {
            default_skips: !self.no_default_skips,
            extra_skips: self.skip.clone(),
            roots_only: self.roots_only,
            now,
            use_catalog: true,
            custom: Vec::new(),
        }
    }
}

fn conflicting_sources() -> Failure {
    Failure::usage(
        "conflicting sources",
        "--bundle reads an offline bundle and cannot be combined with --online or --catalog-url",
        "Drop one of them",
    )
}

impl SourceOpts {
    /// The SOURCE options as the catalog module takes them.
    pub fn spec(&self) -> CliResult<SourceSpec> {
        if self.online && self.net.bundle.is_some() {
            return Err(conflicting_sources());
        }
        let mut spec = self
            .net
            .spec(self.online || self.net.catalog_url.is_some())?;
        spec.named |= self.online;
        Ok(spec)
    }
}

impl NetOpts {
    /// The SOURCE of a command that decides for itself whether it is online (refresh is by default).
    pub fn spec(&self, online: bool) -> CliResult<SourceSpec> {
        if self.bundle.is_some() && self.catalog_url.is_some() {
            return Err(conflicting_sources());
        }
        if self.timeout == 0 {
            return Err(Failure::usage(
                "bad option --timeout",
                "the timeout must be at least 1 second",
                "Pass --timeout SECS with SECS >= 1",
            ));
        }
        Ok(SourceSpec {
            online: online && self.bundle.is_none(),
            catalog_url: self.catalog_url.clone(),
            bundle: self.bundle.clone(),
            proxy: self.proxy.clone(),
            timeout: Duration::from_secs(self.timeout),
            accept_new_roots: self.accept_new_roots,
            expect_sha256: self.pins()?,
            verify_embedded: false,
            named: self.catalog_url.is_some() || self.bundle.is_some(),
        })
    }

    /// `--expect-sha256` values as upper-case hex without colons; anything but 64 hex
    /// digits is a usage error (a typo must not read as "no such certificate").
    pub fn pins(&self) -> CliResult<Vec<String>> {
        self.expect_sha256
            .iter()
            .map(|h| {
                let hex: String = h
                    .chars()
                    .filter(|c| *c != ':' && !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_uppercase();
                if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    Ok(hex)
                } else {
                    Err(Failure::usage(
                        "bad --expect-sha256",
                        format!("{h:?} is not a SHA-256 fingerprint"),
                        "Give 64 hexadecimal digits (colons allowed), as `list` or `openssl x509 -noout -fingerprint -sha256` prints them.",
                    ))
                }
            })
            .collect()
    }
}

/// The keystore, source and selection of `diff` and `import`.
#[derive(Debug, Clone, Args)]
pub struct TargetOpts {
    #[command(flatten)]
    pub keystore: KeystoreOpts,
    #[command(flatten)]
    pub source: SourceOpts,
    #[command(flatten)]
    pub select: SelectOpts,
    #[command(flatten)]
    pub custom: CustomOpts,
}

impl TargetOpts {
    /// The selection, with the certificates of `--pem` / `--from-os-store` read, vetted and
    /// pinned (the catalog is needed for pins that name one of its CAs).
    pub fn selection_with(
        &self,
        now: OffsetDateTime,
        catalog: &crate::catalog::Catalog,
    ) -> CliResult<(Selection, crate::custom::Loaded)> {
        custom_selection(&self.select, &self.custom, &self.source.net, now, catalog)
    }

    /// The catalog to compare with: none with `--no-catalog` (nothing is downloaded).
    pub fn catalog(&self, g: &GlobalOpts) -> CliResult<crate::catalog::Catalog> {
        let spec = self.source.spec()?;
        if self.custom.no_catalog {
            return Ok(crate::catalog::Catalog::default());
        }
        Ok(super::output::load_catalog(g, &spec)?.catalog)
    }
}

/// [`SelectOpts::selection`] plus the custom certificates (import, diff, refresh).
pub fn custom_selection(
    select: &SelectOpts,
    custom: &CustomOpts,
    net: &NetOpts,
    now: OffsetDateTime,
    catalog: &crate::catalog::Catalog,
) -> CliResult<(Selection, crate::custom::Loaded)> {
    let loaded = crate::custom::load(&custom.request(&net.pins()?)?, catalog)?;
    let mut selection = select.selection(now);
    selection.use_catalog = !custom.no_catalog;
    selection.custom = loaded.wanted.clone();
    Ok((selection, loaded))
}

/// How import and refresh write: backup, aliases, lock file.
#[derive(Debug, Clone, Args)]
pub struct WriteOpts {
    /// Do not keep a copy of the keystore before writing it.
    #[arg(long, conflicts_with = "backup_dir")]
    pub no_backup: bool,
    /// Put the backup in this directory instead of beside the keystore.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Prefix of the aliases of added entries.
    #[arg(long, value_name = "PREFIX", default_value = plan::DEFAULT_ALIAS_PREFIX)]
    pub alias_prefix: String,
    /// Lock file that keeps two runs from writing at once (default: <keystore>.lock).
    #[arg(long, value_name = "FILE")]
    pub lock_file: Option<PathBuf>,
}

impl WriteOpts {
    pub fn settings(
        &self,
        lock_timeout_secs: u64,
        prune: bool,
        now: OffsetDateTime,
    ) -> ApplySettings {
        ApplySettings {
            backup: if self.no_backup {
                Backup::None
            } else if let Some(d) = &self.backup_dir {
                Backup::Dir(d.clone())
            } else {
                Backup::Beside
            },
            alias_prefix: self.alias_prefix.clone(),
            lock_file: self.lock_file.clone(),
            lock_timeout: Duration::from_secs(lock_timeout_secs),
            prune,
            now,
        }
    }
}

/// PIMSYNC_HOME from the environment, when set and not empty. Read by hand rather than with
/// clap's `env`: clap would count it as if `--pimsync-home` had been typed, so a PIMSYNC
/// server's environment would make `-k FILE` a conflict.
pub fn pimsync_home_from_env() -> Option<std::path::PathBuf> {
    std::env::var_os("PIMSYNC_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}
