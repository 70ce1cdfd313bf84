//! The policy document: kinds registry, reading real exports, the canonical form, symbolic
//! references, slugs and per-tenant identity. No I/O happens here.

pub mod canonical;
pub mod decode;
pub mod kinds;
pub mod normalize;
pub mod pattern;
pub mod refs;
pub mod slug;
pub mod state;

pub use kinds::{KINDS, Kind};
pub use normalize::{Mode, Normalized, normalize};

/// Folder holding every environment.
pub const TENANTS_DIR: &str = "tenants";

/// `tenants/<env>`.
pub fn env_dir(env: &str) -> String {
    format!("{TENANTS_DIR}/{env}")
}

/// Outcome of canonicalising one policy file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Json(#[from] decode::JsonError),
    #[error("{0}")]
    Normalize(#[from] normalize::NormalizeError),
}

/// The canonical bytes of a policy file of `kind` as stored (layout only: references and
/// secrets are left as they are). Used by `fmt` and by lint's `format/not-canonical`.
pub fn canonical_file(kind: &'static Kind, bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    let value = decode::parse_json(bytes)?;
    let n = normalize(kind, value, Mode::Format)?;
    Ok(canonical::to_canonical(&n.doc))
}
