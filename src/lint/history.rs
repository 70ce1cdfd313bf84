//! `ctx.value_age(pointer)`: how long a policy's value has been what it is, from the
//! first-parent history of its file. On a shallow clone the answer says history was cut, so a
//! rule can say it could not tell instead of guessing.

use super::api::{Age, History};
use crate::policy::decode::parse_json;
use crate::store::{BlobReader, WalkEnd};
use gix::ObjectId;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// History read from Git, starting at `head`.
pub struct GitHistory {
    reader: BlobReader,
    head: ObjectId,
    /// "Now", seconds since the Unix epoch.
    now: i64,
    answers: Mutex<HashMap<(String, String), Option<Age>>>,
}

/// How many commits one question may look at.
const MAX_STEPS: usize = 20_000;

fn date_of(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default()
}

impl GitHistory {
    pub fn new(reader: BlobReader, head: ObjectId, now: i64) -> GitHistory {
        GitHistory {
            reader,
            head,
            now,
            answers: Mutex::new(HashMap::new()),
        }
    }

    fn compute(&self, path: &str, pointer: &str, current: &Value) -> Option<Age> {
        let store = self.reader.store();
        let mut since: Option<i64> = None;
        let mut last_blob: Option<ObjectId> = None;
        let end = store
            .walk_path_history(self.head, path, MAX_STEPS, |v| {
                let Some(blob) = v.blob else { return Ok(false) };
                if last_blob != Some(blob) {
                    let bytes = store.read_blob(blob)?;
                    let same = parse_json(&bytes)
                        .ok()
                        .is_some_and(|doc| doc.pointer(pointer) == Some(current));
                    if !same {
                        return Ok(false);
                    }
                    last_blob = Some(blob);
                }
                since = Some(v.time);
                Ok(true)
            })
            .ok()?;
        Some(match since {
            // Not committed with this value yet: it is new.
            None => Age {
                days: 0,
                since: date_of(self.now),
                complete: true,
            },
            Some(t) => Age {
                days: (self.now - t).max(0) / 86_400,
                since: date_of(t),
                complete: end != WalkEnd::Cut,
            },
        })
    }
}

impl History for GitHistory {
    fn value_age(&self, path: &str, pointer: &str, current: &Value) -> Option<Age> {
        let key = (path.to_string(), pointer.to_string());
        if let Some(a) = self.answers.lock().ok()?.get(&key) {
            return a.clone();
        }
        let age = self.compute(path, pointer, current);
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(key, age.clone());
        }
        age
    }
}

/// History given by a rule test: pointer -> days.
pub struct FixedHistory(pub HashMap<(String, String), Age>);

impl History for FixedHistory {
    fn value_age(&self, path: &str, pointer: &str, _current: &Value) -> Option<Age> {
        self.0
            .get(&(path.to_string(), pointer.to_string()))
            .cloned()
    }
}
