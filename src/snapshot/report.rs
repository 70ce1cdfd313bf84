//! What an import or export did, per file and per kind.

use serde::Serialize;

/// What happened to one file (or one object of a list file).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum FileOutcome {
    /// Written to `path` (or left there, unchanged).
    Imported {
        path: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        renamed_from: Option<String>,
    },
    /// Read for references only.
    Used { what: String },
    Skipped {
        reason: String,
        /// It belonged to a kind that is therefore left as it is.
        blocks_kind: bool,
    },
    /// Read fine, but its kind was left as it is because another file of it was unreadable.
    NotApplied,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub origin: String,
    #[serde(flatten)]
    pub outcome: FileOutcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "kebab-case")]
pub enum KindOutcome {
    Replaced,
    LeftAsIs(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct KindReport {
    pub kind: &'static str,
    #[serde(flatten)]
    pub outcome: KindOutcome,
    pub added: usize,
    pub changed: usize,
    pub renamed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl KindReport {
    pub fn replaced(kind: &'static str) -> Self {
        KindReport {
            kind,
            outcome: KindOutcome::Replaced,
            added: 0,
            changed: 0,
            renamed: 0,
            removed: 0,
            unchanged: 0,
        }
    }

    /// `3 added, 1 changed, 2 unchanged` (zero counts left out).
    pub fn summary(&self) -> String {
        if let KindOutcome::LeftAsIs(reason) = &self.outcome {
            return format!("left as it is: {reason}");
        }
        let parts: Vec<String> = [
            (self.added, "added"),
            (self.changed, "changed"),
            (self.renamed, "renamed"),
            (self.removed, "removed"),
            (self.unchanged, "unchanged"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        if parts.is_empty() {
            "empty".to_string()
        } else {
            parts.join(", ")
        }
    }

    pub fn has_changes(&self) -> bool {
        self.added + self.changed + self.renamed + self.removed > 0
    }
}

/// The whole outcome of an import or export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub env: String,
    pub source: String,
    pub files: Vec<FileReport>,
    pub kinds: Vec<KindReport>,
    /// Directory conflicts (two sources naming one id differently).
    pub conflicts: Vec<String>,
    /// The new commit, if one was made.
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub written_without_commit: bool,
    /// Some kind was left as it is because part of it could not be read (exit code 1).
    pub incomplete: bool,
    /// Who changed the changed policies, where the tenant's audit log says (`Changed-By:`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_by: Vec<String>,
}

impl Report {
    /// The kinds left as they are in Git (something of them could not be read).
    pub fn left_as_is(&self) -> Vec<&'static str> {
        self.kinds
            .iter()
            .filter(|k| matches!(k.outcome, KindOutcome::LeftAsIs(_)))
            .map(|k| k.kind)
            .collect()
    }

    /// The branch the snapshot went to, as a user names it (`main`, not `refs/heads/main`).
    pub fn branch_name(&self) -> &str {
        self.branch
            .as_deref()
            .unwrap_or("HEAD")
            .trim_start_matches("refs/heads/")
    }

    pub fn count(&self, pred: impl Fn(&FileOutcome) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.outcome)).count()
    }

    pub fn imported(&self) -> usize {
        self.count(|o| matches!(o, FileOutcome::Imported { .. }))
    }

    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, FileOutcome::Skipped { .. }))
    }

    /// Commit message: a subject, a line per kind, then the trailers.
    pub fn commit_message(&self, verb: &str, tenant: &str) -> String {
        let changed: Vec<&KindReport> = self.kinds.iter().filter(|k| k.has_changes()).collect();
        let subject = match changed.as_slice() {
            [] => format!("{verb} {}: identities updated in state.json", self.env),
            [one] => format!("{verb} {}: {} {}", self.env, one.kind, one.summary()),
            _ => format!("{verb} {}: {} kinds changed", self.env, changed.len()),
        };
        let mut msg = format!("tenantgate: {subject}\n\n");
        for k in &self.kinds {
            msg.push_str(&format!("{}: {}\n", k.kind, k.summary()));
        }
        let skipped = self.skipped();
        if skipped > 0 {
            // An export skips parts of the tenant (a collection, a page), not files.
            let what = if verb == "export" {
                "part(s) of the tenant could not be read"
            } else {
                "file(s) skipped"
            };
            msg.push_str(&format!("\n{skipped} {what}; see the {verb} report.\n"));
        }
        msg.push_str(&format!("\nTenant: {tenant}\nSource: {}\n", self.source));
        for who in &self.changed_by {
            msg.push_str(&format!("Changed-By: {who}\n"));
        }
        msg
    }
}
