//! Sources of policies on disk: an IntuneCD backup, an IntuneManagement export, or a folder of
//! Graph responses. Each file is found, read and classified here; normalisation and storing
//! happen in `snapshot`. Loading is safe to run on many threads at once.

mod detect;
mod folders;

pub use detect::{Detected, context_collection};
pub use folders::{Flavor, FolderSource, Unit};

use crate::policy::Kind;
use serde_json::Value;

/// A file or object that could not be used, and what that means for its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taint {
    /// Not a policy (documentation, an unmanaged kind): nothing else is affected.
    None,
    /// A policy of this kind could not be read: the kind is left as it is.
    Kind(&'static Kind),
    /// Unreadable, and its kind is unknown: no kind can be replaced safely.
    All,
}

/// What loading one file gave.
#[derive(Debug)]
pub enum Loaded {
    /// A policy object, as the source has it.
    Object {
        kind: &'static Kind,
        value: Value,
        origin: String,
    },
    /// A list response for a kind: the source holds that kind, even when the list is empty.
    Held(&'static Kind),
    /// Read for directory data (users, a migration table), not a policy.
    Used { origin: String, what: String },
    Skipped {
        origin: String,
        reason: String,
        taint: Taint,
    },
}

/// The source as a whole cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {message}")]
    NotAnExport { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
