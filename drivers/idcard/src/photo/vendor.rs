//! Loading a vendor WLT decoder from a shared library at run time.
//!
//! This is the only module of the crate that allows `unsafe`: calling into a C library
//! through `libloading` cannot be expressed in safe Rust. Each `unsafe` block says what it
//! relies on. The library path comes from the kiosk's configuration, set by the operator; a
//! library that does not follow the documented signature can corrupt memory, which no Rust
//! code can prevent.
//!
//! # Expected C signature
//!
//! ```c
//! /* wlt: the 1024 photo bytes from the card (read-only for us; a copy is passed).
//!  * out: a buffer of 65 536 bytes, zeroed, owned by the caller. The function writes a
//!  *      24-bit BMP of 102 x 126 pixels (38 862 bytes) or raw pixels (38 556 bytes).
//!  * flags: always 0. In the common libraries a non-zero value asks the library to also
//!  *      write a BMP file to disk, which a kiosk must never do (it is personal data).
//!  * returns: success_code (1 by default) on success, anything else on failure. */
//! int SYMBOL(const unsigned char *wlt, unsigned char *out, int flags);
//! ```
//!
//! This is the shape of `int unpack(char *src, char *dst, int bmpSave)` in the Linux
//! `libwlt.so` shipped with many reader SDKs; `libwlt2bmp.so` builds with a C entry point
//! named e.g. `wlt2bmp` follow it too. Set the symbol name in [`super::PhotoConfig`].
//! Libraries that need a licence file or a working directory (reference A.6) must be set up
//! as their vendor documents. Calls are serialised: these libraries are rarely thread-safe.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::path::Path;
use std::sync::Mutex;

use zeroize::Zeroize;

use super::{OutputLayout, Photo, PhotoDecoder, PhotoError, output_to_photo};
use crate::protocol::PHOTO_LEN;

/// Size of the output buffer handed to the vendor function: well above the 38 862 bytes of
/// the BMP, so a library that writes a little more does not overrun it.
pub const OUTPUT_CAPACITY: usize = 65_536;

type DecodeFn = unsafe extern "C" fn(*const u8, *mut u8, c_int) -> c_int;

/// A vendor decoder loaded from a shared library.
pub struct VendorDecoder {
    function: DecodeFn,
    success_code: i32,
    layout: OutputLayout,
    library_name: String,
    calls: Mutex<()>,
    // Last: keeps the code `function` points into loaded for as long as `self` lives.
    _library: libloading::Library,
}

impl std::fmt::Debug for VendorDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorDecoder")
            .field("library", &self.library_name)
            .finish_non_exhaustive()
    }
}

impl VendorDecoder {
    /// Loads `library` and looks up `symbol`.
    pub fn load(
        library: &Path,
        symbol: &str,
        success_code: i32,
        layout: OutputLayout,
    ) -> Result<Self, PhotoError> {
        let library_name = library.display().to_string();
        // SAFETY: loading runs the library's initialisers. We rely on the operator having
        // configured a genuine vendor decoder library; nothing else is loaded from here.
        let lib = unsafe { libloading::Library::new(library) }.map_err(|e| PhotoError::Load {
            library: library_name.clone(),
            reason: e.to_string(),
        })?;
        // SAFETY: the symbol is taken to have the C signature documented above (a contract
        // of the configuration). The function pointer is copied out of the `Symbol`; it stays
        // valid because `_library` is kept in the same struct and dropped last.
        let function: DecodeFn = unsafe {
            *lib.get::<DecodeFn>(symbol.as_bytes())
                .map_err(|e| PhotoError::Symbol {
                    library: library_name.clone(),
                    symbol: symbol.to_owned(),
                    reason: e.to_string(),
                })?
        };
        Ok(VendorDecoder {
            function,
            success_code,
            layout,
            library_name,
            calls: Mutex::new(()),
            _library: lib,
        })
    }
}

impl PhotoDecoder for VendorDecoder {
    fn decode(&self, wlt: &[u8]) -> Result<Photo, PhotoError> {
        if wlt.len() != PHOTO_LEN {
            return Err(PhotoError::WrongInputLength(wlt.len()));
        }
        // Some libraries scribble on their input: give them a copy.
        let mut input = wlt.to_vec();
        let mut out = vec![0u8; OUTPUT_CAPACITY];
        let rc = {
            let _serial = self
                .calls
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // SAFETY: `input` holds 1024 readable bytes and `out` 65 536 writable bytes, both
            // alive for the call; the function has the documented signature (see `load`).
            unsafe { (self.function)(input.as_ptr(), out.as_mut_ptr(), 0) }
        };
        input.zeroize();
        let result = if rc == self.success_code {
            output_to_photo(&out, self.layout)
        } else {
            Err(PhotoError::DecoderFailed(rc))
        };
        out.zeroize();
        result
    }
}
