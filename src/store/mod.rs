//! Everything Git, through gix: blobs and trees, snapshot commits on a branch, the worktree and
//! index of a non-bare repository, reading a tree at a revision, and changed files between two
//! revisions. No `git` binary is involved.

mod diff;
pub mod pack;
mod read;
mod repo;
mod worktree;

pub use diff::{Change, ChangeKind};
pub use read::{BlobReader, LocalBlobReader, PathVersion, WalkEnd};
pub use repo::{
    BlobWriter, CommitOutcome, FileEntry, LocalBlobWriter, Store, blob_id, branch_full_name,
};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{context}: {message}")]
    Git { context: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not inside a Git repository; run `tenantgate init` there first")]
    NotARepository(PathBuf),
    #[error("revision {rev:?} not found: {message}")]
    BadRevision { rev: String, message: String },
    #[error("branch {branch} moved while TenantGate was writing (now at {actual}); run again")]
    Raced { branch: String, actual: String },
    #[error("{name:?} cannot be a branch name: {why}; pick a name such as `tenantgate/dev-export`")]
    BadBranch { name: String, why: String },
    #[error("HEAD is detached; check out a branch or pass --branch")]
    DetachedHead,
    #[error("a bare repository has no worktree; {0}")]
    Bare(&'static str),
}

pub(crate) fn git_err<E: std::fmt::Display>(
    context: impl Into<String>,
) -> impl FnOnce(E) -> StoreError {
    let context = context.into();
    move |e| StoreError::Git {
        context,
        message: e.to_string(),
    }
}

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Io { path, source }
}
