//! Exit codes (design §4), documented in README.md and docs/architecture.md.

/// Nothing to report: clean.
pub const CLEAN: u8 = 0;
/// Findings at or above `--fail-on`, failed gates, or an import/export that left a kind
/// untouched because part of it could not be read.
pub const FINDINGS: u8 = 1;
/// Usage, configuration or runtime error.
pub const ERROR: u8 = 2;
