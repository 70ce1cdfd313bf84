//! The facts cache: facts by blob id, in `<git dir>/tenantgate/facts.bin`, so that lint of a
//! pull request or a commit reads only the policies that changed. A small binary format with a
//! string table (setting ids repeat across thousands of policies); anything unreadable, from
//! another TenantGate version, or damaged is ignored and rebuilt.

use super::facts::{Audience, Facts, SettingFact};
use gix::ObjectId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"TGFACTS1";

/// The key of one entry: the policy's blob and its side files' blobs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub blob: ObjectId,
    pub sides: Vec<ObjectId>,
}

#[derive(Default)]
pub struct FactsCache {
    path: Option<PathBuf>,
    entries: HashMap<Key, Arc<Facts>>,
    /// Keys looked up or added in this run (kept when saving).
    used: std::collections::HashSet<Key>,
    dirty: bool,
}

impl FactsCache {
    /// The cache of the repository whose Git directory is `git_dir` (empty when absent).
    pub fn open(git_dir: &Path) -> FactsCache {
        let path = git_dir.join("tenantgate").join("facts.bin");
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| decode(&b))
            .unwrap_or_default();
        FactsCache {
            path: Some(path),
            entries,
            used: Default::default(),
            dirty: false,
        }
    }

    /// A cache that is never written (tests, the worktree).
    pub fn in_memory() -> FactsCache {
        FactsCache::default()
    }

    pub fn get(&mut self, key: &Key) -> Option<&Arc<Facts>> {
        let found = self.entries.get(key);
        if found.is_some() {
            self.used.insert(key.clone());
        }
        found
    }

    pub fn insert(&mut self, key: Key, facts: Arc<Facts>) {
        self.used.insert(key.clone());
        if let std::collections::hash_map::Entry::Vacant(slot) = self.entries.entry(key) {
            slot.insert(facts);
            self.dirty = true;
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Write the cache back when it changed. Entries unused in this run are dropped once they
    /// outnumber the used ones, so the file tracks the repository instead of growing forever.
    /// Failing to write is not an error: the next run computes the facts again.
    pub fn save(&mut self) {
        let Some(path) = &self.path else { return };
        if !self.dirty {
            return;
        }
        if self.entries.len() > 2 * self.used.len() + 1000 {
            let used = &self.used;
            self.entries.retain(|k, _| used.contains(k));
        }
        let bytes = encode(&self.entries);
        let write = || -> std::io::Result<()> {
            let dir = path.parent().expect("cache path has a parent");
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!("facts.bin.{}.tmp", std::process::id()));
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            tracing::debug!("not writing the facts cache {}: {e}", path.display());
        }
        self.dirty = false;
    }
}

struct Writer {
    strings: Vec<String>,
    index: HashMap<String, u32>,
    body: Vec<u8>,
}

impl Writer {
    fn s(&mut self, s: &str) {
        let n = match self.index.get(s) {
            Some(n) => *n,
            None => {
                let n = self.strings.len() as u32;
                self.strings.push(s.to_string());
                self.index.insert(s.to_string(), n);
                n
            }
        };
        self.u32(n);
    }

    fn u32(&mut self, n: u32) {
        self.body.extend_from_slice(&n.to_le_bytes());
    }

    fn u64(&mut self, n: u64) {
        self.body.extend_from_slice(&n.to_le_bytes());
    }

    fn id(&mut self, id: &ObjectId) {
        self.body.extend_from_slice(id.as_bytes());
    }

    fn audiences(&mut self, list: &[Audience]) {
        self.u32(list.len() as u32);
        for a in list {
            let (tag, text) = match a {
                Audience::Everyone => (0u8, ""),
                Audience::Group(g) => (1, g.as_str()),
                Audience::Other(o) => (2, o.as_str()),
            };
            self.body.push(tag);
            self.s(text);
        }
    }
}

fn encode(entries: &HashMap<Key, Arc<Facts>>) -> Vec<u8> {
    let mut w = Writer {
        strings: Vec::new(),
        index: HashMap::new(),
        body: Vec::new(),
    };
    w.u32(entries.len() as u32);
    for (key, f) in entries {
        w.id(&key.blob);
        w.u32(key.sides.len() as u32);
        for s in &key.sides {
            w.id(s);
        }
        w.s(&f.name);
        w.u64(f.fingerprint);
        w.audiences(&f.includes);
        w.audiences(&f.excludes);
        w.u32(f.settings.len() as u32);
        for s in &f.settings {
            w.s(&s.key);
            w.s(&s.pointer);
            w.u64(s.hash);
            w.s(&s.display);
        }
    }
    let mut out = Vec::with_capacity(w.body.len() + 64);
    out.extend_from_slice(MAGIC);
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    out.extend_from_slice(&(version.len() as u32).to_le_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(&(w.strings.len() as u32).to_le_bytes());
    for s in &w.strings {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    out.extend_from_slice(&w.body);
    out
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    strings: Vec<Arc<str>>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn s(&mut self) -> Option<String> {
        self.shared().map(|s| s.to_string())
    }

    fn shared(&mut self) -> Option<Arc<str>> {
        let n = self.u32()? as usize;
        self.strings.get(n).cloned()
    }

    fn id(&mut self) -> Option<ObjectId> {
        ObjectId::try_from(self.take(20)?).ok()
    }

    fn audiences(&mut self) -> Option<Vec<Audience>> {
        let n = self.u32()? as usize;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let tag = *self.take(1)?.first()?;
            let text = self.s()?;
            out.push(match tag {
                0 => Audience::Everyone,
                1 => Audience::Group(text),
                2 => Audience::Other(text),
                _ => return None,
            });
        }
        Some(out)
    }
}

fn decode(b: &[u8]) -> Option<HashMap<Key, Arc<Facts>>> {
    let mut r = Reader {
        b,
        pos: 0,
        strings: Vec::new(),
    };
    if r.take(8)? != MAGIC {
        return None;
    }
    let vlen = r.u32()? as usize;
    if r.take(vlen)? != env!("CARGO_PKG_VERSION").as_bytes() {
        return None;
    }
    let count = r.u32()? as usize;
    let mut strings = Vec::with_capacity(count.min(1 << 20));
    for _ in 0..count {
        let n = r.u32()? as usize;
        strings.push(Arc::from(std::str::from_utf8(r.take(n)?).ok()?));
    }
    r.strings = strings;
    let n = r.u32()? as usize;
    let mut out = HashMap::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let blob = r.id()?;
        let nsides = r.u32()? as usize;
        let mut sides = Vec::with_capacity(nsides.min(16));
        for _ in 0..nsides {
            sides.push(r.id()?);
        }
        let name = r.s()?;
        let fingerprint = r.u64()?;
        let includes = r.audiences()?;
        let excludes = r.audiences()?;
        let nset = r.u32()? as usize;
        let mut settings = Vec::with_capacity(nset.min(4096));
        for _ in 0..nset {
            settings.push(SettingFact {
                key: r.shared()?,
                pointer: r.shared()?,
                hash: r.u64()?,
                display: r.shared()?,
            });
        }
        out.insert(
            Key { blob, sides },
            Arc::new(Facts {
                name,
                fingerprint,
                includes,
                excludes,
                settings,
            }),
        );
    }
    (r.pos == b.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str) -> Facts {
        Facts {
            name: name.into(),
            fingerprint: 42,
            includes: vec![Audience::Everyone, Audience::Group("@group:G".into())],
            excludes: vec![Audience::Other("x".into())],
            settings: vec![SettingFact {
                key: Arc::from("k"),
                pointer: Arc::from("/settings/0"),
                hash: 7,
                display: Arc::from("on"),
            }],
        }
    }

    #[test]
    fn round_trips_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key {
            blob: crate::store::blob_id(b"a"),
            sides: vec![crate::store::blob_id(b"b")],
        };
        let mut c = FactsCache::open(dir.path());
        assert!(c.is_empty());
        c.insert(key.clone(), Arc::new(facts("A")));
        c.save();
        let mut again = FactsCache::open(dir.path());
        assert_eq!(again.get(&key).map(|f| &**f), Some(&facts("A")));
        // A damaged file is ignored, not trusted.
        let path = dir.path().join("tenantgate").join("facts.bin");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        assert!(FactsCache::open(dir.path()).is_empty());
        std::fs::write(&path, b"TGFACTS1garbage").unwrap();
        assert!(FactsCache::open(dir.path()).is_empty());
    }
}
