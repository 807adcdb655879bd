//! The operations the commands run, as library calls with typed results: open a keystore,
//! compare it with a catalog, apply the import transaction, refresh for schedulers. Nothing
//! here prints; the command line turns arguments into one of these calls and renders what
//! it returns.

pub mod apply;
pub mod open;
pub mod refresh;
pub mod scan;

pub use apply::{
    apply, diff, Added, ApplyError, ApplySettings, Diff, KeystoreSummary, Outcome, Written,
};
pub use open::{
    open, open_lenient, Lenience, OpenError, OpenRequest, Opened, PasswordSource, StorePassword,
};
