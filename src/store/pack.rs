//! Writing many new blobs as one pack instead of one loose file each.
//!
//! A large import creates thousands of objects; as loose objects each is a temporary file and a
//! rename in `.git/objects`, which on a slow file system costs more than all the other work.
//! Blobs are compressed on the worker threads and appended to one temporary pack under a lock;
//! [`PackWriter::finish`] writes the pack's trailer and its version-2 index, then moves both
//! into `objects/pack/`. A handful of blobs is written loose instead, as git does below
//! `transfer.unpackLimit`.

use super::{StoreError, git_err, io_err};
use gix::ObjectId;
use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Below this many objects a pack is not worth it: they are written loose.
pub const LOOSE_LIMIT: usize = 100;

/// Pack entry type of a blob.
const OBJ_BLOB: u8 = 3;

struct Entry {
    id: ObjectId,
    offset: u64,
    crc: u32,
    /// The bytes, kept only while the entries might still be written loose.
    raw: Option<Vec<u8>>,
}

struct State {
    file: std::fs::File,
    offset: u64,
    entries: Vec<Entry>,
    seen: HashSet<ObjectId>,
}

/// Collects new blobs into one pack. Shared by the threads of one import.
pub struct PackWriter {
    pack_dir: PathBuf,
    tmp_path: PathBuf,
    /// `None` once finished.
    state: Mutex<Option<State>>,
}

fn sha1(bytes_parts: &[&[u8]]) -> Result<ObjectId, StoreError> {
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    for p in bytes_parts {
        h.update(p);
    }
    h.try_finalize().map_err(git_err("hashing"))
}

/// The id of a blob holding `data`.
pub fn blob_id(data: &[u8]) -> Result<ObjectId, StoreError> {
    sha1(&[format!("blob {}\0", data.len()).as_bytes(), data])
}

/// A pack entry: its header (type and size) followed by the zlib stream of `data`.
fn encode_entry(data: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(data.len() / 2 + 16);
    let mut size = data.len() as u64;
    let mut byte = (OBJ_BLOB << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(byte);
    let mut z = gix::zlib::stream::deflate::Write::new(out, gix::zlib::Compression::BEST_SPEED);
    z.write_all(data).map_err(io_err("compressing a blob"))?;
    z.flush().map_err(io_err("compressing a blob"))?;
    Ok(z.into_inner())
}

impl PackWriter {
    /// Start a pack in `objects_dir/pack`.
    pub fn new(objects_dir: &std::path::Path) -> Result<PackWriter, StoreError> {
        let pack_dir = objects_dir.join("pack");
        std::fs::create_dir_all(&pack_dir).map_err(io_err(&pack_dir))?;
        let tmp_path = pack_dir.join(format!(
            "tmp_pack_tenantgate_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp_path)
            .map_err(io_err(&tmp_path))?;
        // Header; the object count is filled in by `finish`.
        file.write_all(b"PACK\0\0\0\x02\0\0\0\0")
            .map_err(io_err(&tmp_path))?;
        Ok(PackWriter {
            pack_dir,
            tmp_path,
            state: Mutex::new(Some(State {
                file,
                offset: 12,
                entries: Vec::new(),
                seen: HashSet::new(),
            })),
        })
    }

    /// Add a blob (known to be missing from the object database) under its id. Compression
    /// happens on the caller's thread; only the append holds the lock.
    pub fn add(&self, id: ObjectId, data: &[u8]) -> Result<(), StoreError> {
        let finished = || StoreError::Git {
            context: "writing a pack".into(),
            message: "the pack was already finished".into(),
        };
        {
            let guard = self.state.lock().expect("pack lock");
            let state = guard.as_ref().ok_or_else(finished)?;
            if state.seen.contains(&id) {
                return Ok(());
            }
        }
        let entry = encode_entry(data)?;
        let crc = crc32fast::hash(&entry);
        let mut guard = self.state.lock().expect("pack lock");
        let state = guard.as_mut().ok_or_else(finished)?;
        if !state.seen.insert(id) {
            return Ok(());
        }
        state
            .file
            .write_all(&entry)
            .map_err(io_err(&self.tmp_path))?;
        let offset = state.offset;
        state.offset += entry.len() as u64;
        let keep_raw = state.entries.len() < LOOSE_LIMIT;
        state.entries.push(Entry {
            id,
            offset,
            crc,
            raw: keep_raw.then(|| data.to_vec()),
        });
        if state.entries.len() == LOOSE_LIMIT {
            // Enough for a pack: the raw copies are no longer needed.
            for e in &mut state.entries {
                e.raw = None;
            }
        }
        Ok(())
    }

    /// How many blobs were added.
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .expect("pack lock")
            .as_ref()
            .map_or(0, |s| s.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Make the blobs part of the repository: a pack and its index, or loose objects when
    /// there are few. `write_loose` writes one loose blob.
    pub fn finish(
        &self,
        write_loose: impl Fn(&[u8]) -> Result<ObjectId, StoreError>,
    ) -> Result<usize, StoreError> {
        let Some(state) = self.state.lock().expect("pack lock").take() else {
            return Ok(0);
        };
        let State {
            mut file, entries, ..
        } = state;
        let n = entries.len();
        if n < LOOSE_LIMIT {
            drop(file);
            let _ = std::fs::remove_file(&self.tmp_path);
            for e in entries {
                let raw = e.raw.expect("few entries keep their bytes");
                let id = write_loose(&raw)?;
                debug_assert_eq!(id, e.id);
            }
            return Ok(n);
        }
        let count = u32::try_from(n).map_err(|_| StoreError::Git {
            context: "writing a pack".into(),
            message: "more than 4 billion objects".into(),
        })?;
        file.seek(SeekFrom::Start(8))
            .map_err(io_err(&self.tmp_path))?;
        file.write_all(&count.to_be_bytes())
            .map_err(io_err(&self.tmp_path))?;
        file.seek(SeekFrom::Start(0))
            .map_err(io_err(&self.tmp_path))?;
        let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let read = file.read(&mut buf).map_err(io_err(&self.tmp_path))?;
            if read == 0 {
                break;
            }
            h.update(&buf[..read]);
        }
        let pack_id = h.try_finalize().map_err(git_err("hashing the pack"))?;
        file.seek(SeekFrom::End(0))
            .map_err(io_err(&self.tmp_path))?;
        file.write_all(pack_id.as_bytes())
            .map_err(io_err(&self.tmp_path))?;
        file.sync_all().map_err(io_err(&self.tmp_path))?;
        drop(file);

        let index = encode_index(entries, &pack_id)?;
        let base = self.pack_dir.join(format!("pack-{pack_id}"));
        let pack_path = base.with_extension("pack");
        let idx_path = base.with_extension("idx");
        let idx_tmp = base.with_extension("idx.tmp");
        std::fs::write(&idx_tmp, &index).map_err(io_err(&idx_tmp))?;
        // The pack first: git only looks at packs that have an index.
        std::fs::rename(&self.tmp_path, &pack_path).map_err(io_err(&pack_path))?;
        std::fs::rename(&idx_tmp, &idx_path).map_err(io_err(&idx_path))?;
        Ok(n)
    }
}

impl Drop for PackWriter {
    fn drop(&mut self) {
        // Only reached when `finish` was not called (an error): leave no temporary file.
        let _ = std::fs::remove_file(&self.tmp_path);
    }
}

/// A version-2 pack index.
fn encode_index(mut entries: Vec<Entry>, pack_id: &ObjectId) -> Result<Vec<u8>, StoreError> {
    entries.sort_by_key(|a| a.id);
    let mut out = Vec::with_capacity(8 + 256 * 4 + entries.len() * 28 + 40);
    out.extend_from_slice(b"\xfftOc\0\0\0\x02");
    let mut fanout = [0u32; 256];
    for e in &entries {
        fanout[e.id.as_bytes()[0] as usize] += 1;
    }
    let mut total = 0u32;
    for f in fanout {
        total += f;
        out.extend_from_slice(&total.to_be_bytes());
    }
    for e in &entries {
        out.extend_from_slice(e.id.as_bytes());
    }
    for e in &entries {
        out.extend_from_slice(&e.crc.to_be_bytes());
    }
    let mut large: Vec<u64> = Vec::new();
    for e in &entries {
        if e.offset < 0x8000_0000 {
            out.extend_from_slice(&(e.offset as u32).to_be_bytes());
        } else {
            let slot = 0x8000_0000u32 | u32::try_from(large.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&slot.to_be_bytes());
            large.push(e.offset);
        }
    }
    for o in large {
        out.extend_from_slice(&o.to_be_bytes());
    }
    out.extend_from_slice(pack_id.as_bytes());
    let idx_id = sha1(&[&out])?;
    out.extend_from_slice(idx_id.as_bytes());
    Ok(out)
}
