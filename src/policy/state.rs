//! `tenants/<env>/.tenantgate/state.json`: which tenant object each file is. It maps
//! `"<kind>/<slug>"` to the object id (when known), the root `@odata.type`, the display name
//! and the names of the policy's secrets, so a policy keeps its file and its secret names when
//! it is renamed.

use crate::policy::decode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Path of the state file inside an environment folder.
pub const STATE_PATH: &str = ".tenantgate/state.json";

pub const STATE_FORMAT: u32 = 1;

/// What to do about a state file that does not fit the model.
pub const HAND_EDIT: &str =
    "state.json is written by import and export: undo the hand edit (restore it from Git)";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub format: u32,
    /// `"<kind>/<slug>"` -> identity.
    pub policies: BTreeMap<String, Entry>,
}

impl Default for State {
    fn default() -> Self {
        State {
            format: STATE_FORMAT,
            policies: BTreeMap::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{0}")]
    Json(#[from] decode::JsonError),
    #[error("line {line}: {message}; {HAND_EDIT}")]
    Shape {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "state format {found} is newer than this TenantGate understands ({STATE_FORMAT}); upgrade TenantGate"
    )]
    TooNew { found: u32 },
}

impl StateError {
    /// Where in the file the problem is, when that is known.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            StateError::Json(e) => e.position(),
            StateError::Shape { line, column, .. } => Some((*line, *column)),
            StateError::TooNew { .. } => None,
        }
    }

    /// The message without its position.
    pub fn message(&self) -> String {
        match self {
            StateError::Json(e) => e.message(),
            StateError::Shape { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

impl State {
    pub fn parse(bytes: &[u8]) -> Result<State, StateError> {
        let (text, _) = decode::decode_text(bytes).map_err(decode::JsonError::from)?;
        // Syntax and duplicate keys first: a `policies` map with one file twice would
        // otherwise keep the last entry without a word.
        decode::parse_text(&text)?;
        let state: State = serde_json::from_str(&text).map_err(|e| {
            let message = decode::message_of(&e);
            // An unknown or repeated field: point at the start of its key.
            let (line, column) =
                if message.starts_with("unknown field") || message.starts_with("duplicate field") {
                    decode::key_before(&text, e.line(), e.column())
                        .map(|(_, line, column)| (line, column))
                } else {
                    None
                }
                .unwrap_or((e.line(), e.column().max(1)));
            StateError::Shape {
                line,
                column,
                message,
            }
        })?;
        if state.format > STATE_FORMAT {
            return Err(StateError::TooNew {
                found: state.format,
            });
        }
        Ok(state)
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("state serialises");
        crate::policy::canonical::to_canonical(&value)
    }

    /// Entries of one kind: slug -> entry.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Entry)> + 'a {
        let prefix = format!("{kind}/");
        self.policies.iter().filter_map(move |(k, e)| {
            k.strip_prefix(prefix.as_str())
                .filter(|slug| !slug.contains('/'))
                .map(|slug| (slug, e))
        })
    }
}

/// `"<kind>/<slug>"`.
pub fn key(kind: &str, slug: &str) -> String {
    format!("{kind}/{slug}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_newer_formats() {
        let mut s = State::default();
        s.policies.insert(
            key("settings-catalog", "a"),
            Entry {
                id: Some("1".into()),
                odata_type: None,
                name: "A".into(),
                secrets: BTreeMap::new(),
            },
        );
        let bytes = s.to_bytes();
        assert_eq!(State::parse(&bytes).unwrap(), s);
        assert_eq!(s.of_kind("settings-catalog").count(), 1);
        assert_eq!(s.of_kind("settings").count(), 0);
        let err = State::parse(br#"{"format": 9, "policies": {}}"#).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        let err =
            State::parse(b"{\"format\": 1,\n \"policies\": {\"x\": {\"nme\": 1}}}").unwrap_err();
        assert!(
            err.to_string().starts_with("line 2: unknown field `nme`"),
            "{err}"
        );
    }

    /// A map keeps the last of two equal keys: one file recorded twice lost its first entry
    /// (its id, its secret names) without a word.
    #[test]
    fn a_file_recorded_twice_is_refused() {
        let text = "{\n  \"format\": 1,\n  \"policies\": {\n    \"groups/a\": {\"name\": \"A\"},\n    \"groups/a\": {\"name\": \"B\", \"id\": \"2\"}\n  }\n}\n";
        let err = State::parse(text.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate key \"groups/a\" at line 5 column 5: keep one of them"
        );
        assert_eq!(err.position(), Some((5, 5)));
    }

    /// The message stated the line twice ("line 2: unknown field ... at line 2 column 9") and
    /// not what to do.
    #[test]
    fn a_state_file_that_does_not_fit_the_model_names_its_line_once_and_what_to_do() {
        let err = State::parse(b"{\n  \"extra\": 1,\n  \"format\": 1,\n  \"policies\": {}\n}\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("line 2: unknown field `extra`, expected `format` or `policies`; {HAND_EDIT}")
        );
        assert_eq!(err.position(), Some((2, 3)));
        assert_eq!(
            err.message(),
            "unknown field `extra`, expected `format` or `policies`"
        );
        let err = State::parse(b"{\"policies\": {}}").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("line 1: missing field `format`; {HAND_EDIT}")
        );
    }
}
