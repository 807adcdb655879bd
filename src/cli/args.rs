//! Option groups shared by several commands (../shared/CONTRACT.md).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
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
    /// Output format: text for people, json for scripts (one document on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
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
    /// Refuse the file unless it is of this type (default: detect by content).
    #[arg(long, value_enum, default_value_t = StoreTypeArg::Auto)]
    pub storetype: StoreTypeArg,
    #[command(flatten)]
    pub password: PasswordOpts,
}

/// The store password; without one, `changeit` (the JDK default).
#[derive(Debug, Clone, Default, Args)]
pub struct PasswordOpts {
    /// The store password (visible to other users in the process list: prefer the -env or -file forms).
    #[arg(long, value_name = "PASS", conflicts_with_all = ["storepass_env", "storepass_file"])]
    pub storepass: Option<String>,
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

/// PIMSYNC_HOME from the environment, when set and not empty. Read by hand rather than with
/// clap's `env`: clap would count it as if `--pimsync-home` had been typed, so a PIMSYNC
/// server's environment would make `-k FILE` a conflict.
pub fn pimsync_home_from_env() -> Option<std::path::PathBuf> {
    std::env::var_os("PIMSYNC_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}
