//! The deterministic file content written on every recreate, and its check.
//!
//! At the seed's 7 bytes the content is `CONTENT` (shorter sizes take a prefix,
//! 8 to 15 bytes repeat it). From 16 bytes on it is self-describing: an 8-byte
//! magic, the 8-byte generation number of the write (little endian) and a
//! position-only pattern, so a reader can tell an empty file, a short one and
//! one whose bytes match no generation apart with one `memcmp`.
//!
//! A generation number says who wrote it: each writer (reader or deleter,
//! by its slot) counts up from [`first_generation`], so [`writer_of`] names
//! the writer and a reader that keeps the last generation it saw of each
//! writer knows when it is handed one already replaced (stale content).

use crate::scenario::SEED_CONTENT;

/// Magic that starts self-describing content.
const MAGIC: &[u8; 8] = b"ulrace\x00\x01";
/// Size from which content carries a header.
const HEADER_MIN_SIZE: usize = 16;

/// Bits of a generation number below the writer's slot.
const WRITER_SHIFT: u32 = 40;

/// The generation before the first one writer `slot` writes; it counts up
/// from there, 2^40 writes before it could reach the next writer's.
pub fn first_generation(slot: usize) -> u64 {
    (slot as u64) << WRITER_SHIFT
}

/// The slot of the writer of `generation`.
#[inline]
pub fn writer_of(generation: u64) -> usize {
    (generation >> WRITER_SHIFT) as usize
}

/// What a reader found, compared with what writers write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCheck {
    /// Full length, magic and pattern as written.
    Correct,
    /// Zero bytes.
    Empty,
    /// Fewer bytes than written (but more than zero).
    Short,
    /// Full length (or longer) but the bytes match no generation.
    Wrong,
    /// Correct bytes of a generation already replaced. [`Content::check`]
    /// cannot tell (it knows no history): the reader decides it from the
    /// generations it has seen.
    Stale,
}

/// The template of one file size: the bytes every generation shares.
/// Clones share it.
#[derive(Debug, Clone)]
pub struct Content {
    template: std::sync::Arc<Vec<u8>>,
}

impl Content {
    /// The content for `size` bytes (size >= 1).
    pub fn new(size: usize) -> Content {
        Content::try_new(size).expect("memory for the file content")
    }

    /// [`Content::new`], or the allocation's failure (a memory limit).
    pub fn try_new(size: usize) -> Result<Content, std::collections::TryReserveError> {
        let mut template = zeroed(size)?;
        if size < HEADER_MIN_SIZE {
            for (i, b) in template.iter_mut().enumerate() {
                *b = SEED_CONTENT[i % SEED_CONTENT.len()];
            }
        } else {
            template[..8].copy_from_slice(MAGIC);
            for (i, b) in template.iter_mut().enumerate().skip(HEADER_MIN_SIZE) {
                *b = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3];
            }
        }
        Ok(Content {
            template: std::sync::Arc::new(template),
        })
    }

    pub fn len(&self) -> usize {
        self.template.len()
    }

    pub fn is_empty(&self) -> bool {
        self.template.is_empty()
    }

    /// A buffer holding generation 0, to be stamped with [`Content::stamp`].
    pub fn buffer(&self) -> Vec<u8> {
        self.try_buffer().expect("memory for a write buffer")
    }

    /// [`Content::buffer`], or the allocation's failure.
    pub fn try_buffer(&self) -> Result<Vec<u8>, std::collections::TryReserveError> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(self.template.len())?;
        buf.extend_from_slice(&self.template);
        Ok(buf)
    }

    /// Writes generation `generation` into a buffer made by [`Content::buffer`].
    #[inline]
    pub fn stamp(&self, buf: &mut [u8], generation: u64) {
        if self.template.len() >= HEADER_MIN_SIZE {
            buf[8..16].copy_from_slice(&generation.to_le_bytes());
        }
    }

    /// The generation stamped in `data`, if it has a header.
    #[inline]
    pub fn generation(&self, data: &[u8]) -> Option<u64> {
        if self.template.len() >= HEADER_MIN_SIZE
            && data.len() >= HEADER_MIN_SIZE
            && &data[..8] == MAGIC
        {
            Some(u64::from_le_bytes(data[8..16].try_into().ok()?))
        } else {
            None
        }
    }

    /// Compares what was read with what any generation would be.
    #[inline]
    pub fn check(&self, data: &[u8]) -> ContentCheck {
        let n = self.template.len();
        if data.is_empty() {
            ContentCheck::Empty
        } else if data.len() < n {
            ContentCheck::Short
        } else if data.len() > n {
            ContentCheck::Wrong
        } else if n < HEADER_MIN_SIZE {
            if data == &self.template[..] {
                ContentCheck::Correct
            } else {
                ContentCheck::Wrong
            }
        } else if data[..8] == self.template[..8] && data[16..] == self.template[16..] {
            ContentCheck::Correct
        } else {
            ContentCheck::Wrong
        }
    }
}

/// `size` zero bytes, or the allocation's failure.
pub fn zeroed(size: usize) -> Result<Vec<u8>, std::collections::TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(size)?;
    v.resize(size, 0);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_content_at_seven_bytes() {
        let c = Content::new(7);
        assert_eq!(c.buffer(), b"CONTENT");
        assert_eq!(c.check(b"CONTENT"), ContentCheck::Correct);
        assert_eq!(c.check(b""), ContentCheck::Empty);
        assert_eq!(c.check(b"CONT"), ContentCheck::Short);
        assert_eq!(c.check(b"CONTENX"), ContentCheck::Wrong);
        assert_eq!(c.check(b"CONTENTS"), ContentCheck::Wrong);
        assert_eq!(Content::new(3).buffer(), b"CON");
    }

    #[test]
    fn self_describing_from_sixteen_bytes() {
        let c = Content::new(4096);
        let mut buf = c.buffer();
        c.stamp(&mut buf, 42);
        assert_eq!(c.check(&buf), ContentCheck::Correct);
        assert_eq!(c.generation(&buf), Some(42));
        assert_eq!(c.check(&buf[..100]), ContentCheck::Short);
        let mut bad = buf.clone();
        bad[4000] ^= 1;
        assert_eq!(c.check(&bad), ContentCheck::Wrong);
        let zeros = vec![0u8; 4096];
        assert_eq!(c.check(&zeros), ContentCheck::Wrong);
        assert_eq!(c.generation(&zeros), None);
        assert_eq!(Content::new(7).generation(b"CONTENT"), None);
    }

    #[test]
    fn generations_name_their_writer() {
        let g = first_generation(3) + 17;
        assert_eq!(writer_of(g), 3);
        assert_eq!(writer_of(first_generation(511) + 1), 511);
        assert!(first_generation(2) + (1 << 39) < first_generation(3));
    }
}
