//! Words of memory that processes share on Windows: a mapped file read and
//! written only through atomics.

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::sync::atomic::AtomicU64;

use super::shared_bytes;

/// Words of memory that processes share: a file mapped with
/// `CreateFileMappingW` and `MapViewOfFile`, read and written only through
/// atomics (the create race's start line when the workers are processes).
#[derive(Debug)]
pub struct SharedWords {
    view: std::ptr::NonNull<AtomicU64>,
    len: usize,
    /// The mapping object, closed after the view is unmapped.
    _mapping: OwnedHandle,
}

// SAFETY: the view is only ever accessed through `AtomicU64`s, which are
// safe to share and to send between threads.
unsafe impl Send for SharedWords {}
// SAFETY: as above: every access is atomic.
unsafe impl Sync for SharedWords {}

impl SharedWords {
    /// Maps the first `len` words of `file`, which must be at least that long.
    pub fn map(file: &std::fs::File, len: usize) -> std::io::Result<SharedWords> {
        use windows_sys::Win32::System::Memory as mem;
        let len = len.max(1);
        let bytes = shared_bytes(file, len)?;
        // SAFETY: the file's handle is borrowed for the call; a null name and
        // security descriptor are allowed; size 0 maps the whole file.
        let mapping = unsafe {
            mem::CreateFileMappingW(
                file.as_raw_handle(),
                std::ptr::null(),
                mem::PAGE_READWRITE,
                0,
                0,
                std::ptr::null(),
            )
        };
        if mapping.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `CreateFileMappingW` just returned this handle and nothing else owns it.
        let mapping = unsafe { OwnedHandle::from_raw_handle(mapping) };
        // SAFETY: a fresh view of the first `bytes` bytes of the mapping;
        // the system picks the address, so it overlaps nothing of ours.
        let view = unsafe {
            mem::MapViewOfFile(mapping.as_raw_handle(), mem::FILE_MAP_WRITE, 0, 0, bytes)
        };
        let view =
            std::ptr::NonNull::new(view.Value.cast()).ok_or_else(std::io::Error::last_os_error)?;
        Ok(SharedWords {
            view,
            len,
            _mapping: mapping,
        })
    }

    /// The words, as atomics.
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: the view is `len` page-aligned words, valid until drop,
        // and `AtomicU64` has the size and alignment of a `u64`.
        unsafe { std::slice::from_raw_parts(self.view.as_ptr(), self.len) }
    }
}

impl Drop for SharedWords {
    fn drop(&mut self) {
        use windows_sys::Win32::System::Memory as mem;
        let view = mem::MEMORY_MAPPED_VIEW_ADDRESS {
            Value: self.view.as_ptr().cast(),
        };
        // SAFETY: the view made in `map`, unmapped once.
        unsafe { mem::UnmapViewOfFile(view) };
    }
}
