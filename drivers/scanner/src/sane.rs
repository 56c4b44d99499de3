//! The kiosk's own small binding to libsane: the only module in the crate that uses `unsafe`.
//!
//! Why unsafe: this is the FFI boundary to the C library `libsane` (SANE 1.0 API, `sane.h`).
//! Calling C functions and reading the structures they return cannot be checked by the Rust
//! compiler. Every `unsafe` block here says which rule of the SANE standard makes it sound;
//! everything outside this module is safe Rust working on owned copies of what SANE returned.
//!
//! SANE is process-global (one `sane_init` per process, backends keep static state, and most
//! backends are not thread-safe), so:
//! - every call into libsane is made while holding one process-wide mutex;
//! - [`Sane`] is a reference-counted session: the first one calls `sane_init`, the last one
//!   dropped calls `sane_exit`; a [`Device`] keeps its session alive;
//! - `SANE_CONFIG_DIR` can only be chosen before the first `sane_init` of the process
//!   ([`use_config_dir`]), because libsane reads and caches it then.
//!
//! Why not the `sane-scan` crate: it needs libclang (bindgen) to build, its `read_to_vec`
//! swallows `SANE_STATUS_JAMMED` and `SANE_STATUS_NO_DOCS`, and it passes a Rust `bool` where
//! SANE expects a 4-byte word (see `reference/dispenser-locker-scanner-pcsc.md` §4.2).
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, OsString, c_char, c_int, c_void};
use std::path::Path;
use std::ptr;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::{Call, ScanError};
use crate::protocol::{self, Parameters, Status};

/// The C declarations from `sane.h` (SANE standard 1.0), written by hand.
///
/// C enums are declared as `c_int` so that a value this binding does not know can never be
/// turned into an invalid Rust enum.
#[allow(non_camel_case_types)]
mod raw {
    use std::ffi::{c_char, c_int, c_void};

    pub type SANE_Word = c_int;
    pub type SANE_Int = SANE_Word;
    pub type SANE_Status = c_int;
    pub type SANE_Handle = *mut c_void;
    pub type SANE_String_Const = *const c_char;

    #[repr(C)]
    pub struct SANE_Device {
        pub name: SANE_String_Const,
        pub vendor: SANE_String_Const,
        pub model: SANE_String_Const,
        pub type_: SANE_String_Const,
    }

    #[repr(C)]
    pub struct SANE_Range {
        pub min: SANE_Word,
        pub max: SANE_Word,
        pub quant: SANE_Word,
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    pub union Constraint {
        pub string_list: *const SANE_String_Const,
        pub word_list: *const SANE_Word,
        pub range: *const SANE_Range,
    }

    #[repr(C)]
    pub struct SANE_Option_Descriptor {
        pub name: SANE_String_Const,
        pub title: SANE_String_Const,
        pub desc: SANE_String_Const,
        pub type_: c_int,
        pub unit: c_int,
        pub size: SANE_Int,
        pub cap: SANE_Int,
        pub constraint_type: c_int,
        pub constraint: Constraint,
    }

    #[repr(C)]
    #[derive(Default)]
    pub struct SANE_Parameters {
        pub format: c_int,
        pub last_frame: SANE_Word,
        pub bytes_per_line: SANE_Int,
        pub pixels_per_line: SANE_Int,
        pub lines: SANE_Int,
        pub depth: SANE_Int,
    }

    pub type SANE_Auth_Callback =
        Option<unsafe extern "C" fn(SANE_String_Const, *mut c_char, *mut c_char)>;

    pub const ACTION_GET_VALUE: c_int = 0;
    pub const ACTION_SET_VALUE: c_int = 1;
    pub const ACTION_SET_AUTO: c_int = 2;

    #[link(name = "sane")]
    unsafe extern "C" {
        pub fn sane_init(version_code: *mut SANE_Int, authorize: SANE_Auth_Callback)
        -> SANE_Status;
        pub fn sane_exit();
        pub fn sane_get_devices(
            device_list: *mut *mut *const SANE_Device,
            local_only: SANE_Word,
        ) -> SANE_Status;
        pub fn sane_open(name: SANE_String_Const, handle: *mut SANE_Handle) -> SANE_Status;
        pub fn sane_close(handle: SANE_Handle);
        pub fn sane_get_option_descriptor(
            handle: SANE_Handle,
            option: SANE_Int,
        ) -> *const SANE_Option_Descriptor;
        pub fn sane_control_option(
            handle: SANE_Handle,
            option: SANE_Int,
            action: c_int,
            value: *mut c_void,
            info: *mut SANE_Int,
        ) -> SANE_Status;
        pub fn sane_get_parameters(
            handle: SANE_Handle,
            params: *mut SANE_Parameters,
        ) -> SANE_Status;
        pub fn sane_start(handle: SANE_Handle) -> SANE_Status;
        pub fn sane_read(
            handle: SANE_Handle,
            data: *mut u8,
            max_length: SANE_Int,
            length: *mut SANE_Int,
        ) -> SANE_Status;
        pub fn sane_cancel(handle: SANE_Handle);
    }
}

/// Longest word list or string list copied out of an option descriptor. A backend bug that
/// forgets the terminator must not make us read forever.
const MAX_LIST_ITEMS: usize = 4096;

/// Process-wide SANE state, guarded by [`GLOBAL`]. Holding the guard is what makes a call into
/// libsane allowed.
struct Global {
    /// Live [`Sane`] sessions; `sane_init` ran when this went from 0 to 1.
    sessions: usize,
    /// Whether `sane_init` has ever run in this process (libsane caches `SANE_CONFIG_DIR` then).
    ever_initialised: bool,
    /// The configuration directory we set, if any.
    config_dir: Option<OsString>,
}

static GLOBAL: Mutex<Global> = Mutex::new(Global {
    sessions: 0,
    ever_initialised: false,
    config_dir: None,
});

fn lock() -> MutexGuard<'static, Global> {
    // A panic while holding the lock cannot leave libsane half-called (the calls are single C
    // calls), so a poisoned lock is still usable.
    GLOBAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether some device is between `sane_start` and `sane_cancel` (see [`ScanSlot`]).
static SCAN_SLOT: Mutex<bool> = Mutex::new(false);
static SCAN_SLOT_FREE: Condvar = Condvar::new();

/// Only one device in the process scans at a time.
///
/// libsane's thread helper passes the reader thread's arguments through one static structure
/// (`td` in `sanei_thread.c`) that the new thread reads some time after `pthread_create`; a
/// second `sane_start` on another device in that window hands both reader threads the same
/// device, and the other scan then waits forever for data (seen here with the `test`
/// backend). So a device takes this slot before its first `sane_start` and gives it back at
/// `sane_cancel` (or when closed). A kiosk has one scanner, so nothing waits in practice; tests
/// that scan several devices at once simply take turns.
struct ScanSlot;

impl ScanSlot {
    fn acquire() {
        let mut busy = SCAN_SLOT.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy {
            busy = SCAN_SLOT_FREE
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *busy = true;
    }

    fn release() {
        *SCAN_SLOT.lock().unwrap_or_else(PoisonError::into_inner) = false;
        SCAN_SLOT_FREE.notify_one();
    }
}

/// Points SANE at a configuration directory (`SANE_CONFIG_DIR`), e.g. the project's
/// `resources/sane` that enables the `test` backend. Must be called before the first
/// [`Sane::init`] of the process; calling it again with the same directory is fine.
///
/// A directory ending in `:` also searches the default places (`.` then `/etc/sane.d`).
pub fn use_config_dir(dir: &Path) -> Result<(), ScanError> {
    let mut global = lock();
    let wanted = dir.as_os_str().to_owned();
    if global.config_dir.as_deref() == Some(wanted.as_os_str()) {
        return Ok(());
    }
    if global.ever_initialised {
        return Err(ScanError::Config {
            dir: dir.display().to_string(),
            problem: "SANE was already started with another configuration directory".into(),
        });
    }
    if wanted.is_empty() || wanted.as_encoded_bytes().contains(&0) {
        return Err(ScanError::Config {
            dir: dir.display().to_string(),
            problem: "empty or contains a NUL byte".into(),
        });
    }
    // SAFETY: `set_var` is unsafe because another thread could be reading the environment
    // through libc at the same moment. It runs here under the SANE lock, before libsane (the
    // only reader of this variable) was ever initialised; Rust's own readers take std's
    // environment lock. Callers are told to do this at start-up (the app's composition root,
    // a test's one-time set-up) before other threads touch the environment.
    unsafe { std::env::set_var("SANE_CONFIG_DIR", &wanted) };
    global.config_dir = Some(wanted);
    Ok(())
}

/// The configuration directory chosen with [`use_config_dir`], if any.
pub fn config_dir() -> Option<OsString> {
    lock().config_dir.clone()
}

/// Does nothing: installed for SIGPIPE (see [`guard_sigpipe`]).
extern "C" fn sigpipe_noop(_signal: c_int) {}

/// Keeps SIGPIPE from ever killing the process.
///
/// libsane's thread helper (`sanei_thread`, used by the `test` backend and many others in
/// Debian's pthread build) sets SIGPIPE to `SIG_IGN` when it starts a reader thread and back to
/// `SIG_DFL` after joining it, process-wide. Rust programs run with SIGPIPE ignored, so after
/// the first scan a write to a closed pipe anywhere in the kiosk (another scan's reader thread,
/// a child process's stdin) would kill it. libsane only touches the disposition when it is
/// `SIG_IGN` or `SIG_DFL`, so we install a handler that does nothing: writes to broken pipes
/// then fail with `EPIPE`, exactly as with `SIG_IGN`, and libsane leaves it alone. A handler
/// someone else installed is kept.
fn guard_sigpipe() {
    // SAFETY: sigaction with valid pointers to zero-initialised `struct sigaction`s (a valid
    // bit pattern for this plain C struct); the handler is an `extern "C"` function that does
    // nothing, so it is async-signal-safe.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, ptr::null(), &raw mut current) != 0 {
            return;
        }
        if current.sa_sigaction != libc::SIG_IGN && current.sa_sigaction != libc::SIG_DFL {
            return;
        }
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = sigpipe_noop as extern "C" fn(c_int) as libc::sighandler_t;
        act.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&raw mut act.sa_mask);
        if libc::sigaction(libc::SIGPIPE, &raw const act, ptr::null_mut()) != 0 {
            tracing::warn!("could not install the SIGPIPE guard");
        }
    }
}

/// One SANE session. Cloning shares it; `sane_exit` runs when the last clone (and the last
/// [`Device`] opened through it) is dropped.
#[derive(Debug)]
pub struct Sane {
    _private: (),
}

/// What SANE says about a device it can see.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceInfo {
    pub name: String,
    pub vendor: String,
    pub model: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl Sane {
    /// Starts (or joins) the process's SANE session.
    pub fn init() -> Result<Sane, ScanError> {
        let mut global = lock();
        if global.sessions == 0 {
            guard_sigpipe();
            let mut version: raw::SANE_Int = 0;
            // SAFETY: sane_init takes an optional out-pointer for the version and an optional
            // callback; we pass a valid pointer and no callback. We hold the SANE lock and no
            // session is open, as the standard requires before sane_init.
            let status = unsafe { raw::sane_init(&raw mut version, None) };
            global.ever_initialised = true;
            let status = Status(status);
            if status != Status::GOOD {
                return Err(ScanError::from_status(status, Call::Init));
            }
            tracing::debug!(
                version = format!(
                    "{}.{}.{}",
                    (version >> 24) & 0xff,
                    (version >> 16) & 0xff,
                    version & 0xffff
                ),
                "sane_init"
            );
        }
        global.sessions += 1;
        Ok(Sane { _private: () })
    }

    /// The devices SANE can see now (`sane_get_devices`, local and network).
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, ScanError> {
        let _global = lock();
        let mut list: *mut *const raw::SANE_Device = ptr::null_mut();
        // SAFETY: we hold the SANE lock inside a live session; `list` is a valid out-pointer.
        let status = Status(unsafe { raw::sane_get_devices(&raw mut list, 0) });
        if status != Status::GOOD {
            return Err(ScanError::from_status(status, Call::GetDevices));
        }
        let mut devices = Vec::new();
        if list.is_null() {
            return Ok(devices);
        }
        for i in 0..MAX_LIST_ITEMS {
            // SAFETY: the standard says the list is a NULL-terminated array of device pointers
            // that stays valid until the next sane_get_devices or sane_exit, both of which
            // need the lock we hold. We stop at the terminator (or at our cap).
            let entry = unsafe { *list.add(i) };
            if entry.is_null() {
                break;
            }
            // SAFETY: a non-NULL entry points at a SANE_Device owned by the backend (as above).
            let device = unsafe { &*entry };
            devices.push(DeviceInfo {
                name: owned_string(device.name),
                vendor: owned_string(device.vendor),
                model: owned_string(device.model),
                kind: owned_string(device.type_),
            });
        }
        Ok(devices)
    }

    /// Opens a device by its SANE name (e.g. `test:0`, `genesys:libusb:001:004`).
    pub fn open(&self, name: &str) -> Result<Device, ScanError> {
        let c_name = CString::new(name).map_err(|_| ScanError::NotFound {
            name: name.to_owned(),
        })?;
        let mut global = lock();
        let mut handle: raw::SANE_Handle = ptr::null_mut();
        // SAFETY: valid NUL-terminated name and out-pointer; SANE lock held in a live session.
        let status = Status(unsafe { raw::sane_open(c_name.as_ptr(), &raw mut handle) });
        if status != Status::GOOD {
            if status == Status::INVAL {
                // The standard: INVAL from sane_open means "no such device".
                return Err(ScanError::NotFound {
                    name: name.to_owned(),
                });
            }
            return Err(ScanError::from_status(status, Call::Open));
        }
        if handle.is_null() {
            return Err(ScanError::from_status(Status::IO_ERROR, Call::Open));
        }
        // The device keeps the session alive (counted here: the lock is already held).
        global.sessions += 1;
        Ok(Device {
            handle,
            scanning: false,
            frame_open: false,
            frame_left: None,
            settled: false,
            session: Sane { _private: () },
        })
    }
}

impl Clone for Sane {
    fn clone(&self) -> Self {
        lock().sessions += 1;
        Sane { _private: () }
    }
}

impl Drop for Sane {
    fn drop(&mut self) {
        let mut global = lock();
        global.sessions = global.sessions.saturating_sub(1);
        if global.sessions == 0 {
            // SAFETY: the last session is gone and every Device holds a session, so no handle
            // is open any more; SANE lock held.
            unsafe { raw::sane_exit() };
            tracing::debug!("sane_exit");
        }
    }
}

/// How an option's value is typed (`SANE_Value_Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Bool,
    Int,
    Fixed,
    String,
    Button,
    Group,
    Unknown(i32),
}

/// The physical unit of an option (`SANE_Unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    None,
    Pixel,
    Bit,
    Mm,
    Dpi,
    Percent,
    Microsecond,
    Unknown(i32),
}

/// The allowed values of an option, copied out of SANE. Words are raw SANE words (for a
/// `Fixed` option they are 16.16 fixed point).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    None,
    Range { min: i32, max: i32, quant: i32 },
    Words(Vec<i32>),
    Strings(Vec<String>),
}

/// An owned copy of a `SANE_Option_Descriptor`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OptionDescriptor {
    /// The option number on this device.
    pub index: i32,
    /// The command-line name (`resolution`, `mode`, `source`, `br-x` …); empty for groups.
    pub name: String,
    pub title: String,
    pub value_type: ValueType,
    pub unit: Unit,
    /// Size of the value in bytes (a word is 4 bytes; strings include the NUL).
    pub size: i32,
    pub cap: i32,
    pub constraint: Constraint,
}

pub const CAP_SOFT_SELECT: i32 = 1;
pub const CAP_INACTIVE: i32 = 1 << 5;
pub const CAP_AUTOMATIC: i32 = 1 << 4;
pub const INFO_INEXACT: i32 = 1;
pub const INFO_RELOAD_OPTIONS: i32 = 1 << 1;
pub const INFO_RELOAD_PARAMS: i32 = 1 << 2;

impl OptionDescriptor {
    pub fn is_active(&self) -> bool {
        self.cap & CAP_INACTIVE == 0
    }
    pub fn is_settable(&self) -> bool {
        self.cap & CAP_SOFT_SELECT != 0
    }
    /// Number of words for word-typed options (at least one).
    pub fn words(&self) -> usize {
        usize::try_from(self.size / 4).unwrap_or(0).max(1)
    }
}

/// An option value, in Rust terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    /// Int options (arrays have several words).
    Int(Vec<i32>),
    /// Fixed options as raw 16.16 words.
    Fixed(Vec<i32>),
    String(String),
}

/// Converts a SANE fixed-point word to a float.
pub fn unfix(word: i32) -> f64 {
    f64::from(word) / 65536.0
}

/// Converts a float to a SANE fixed-point word (saturating).
pub fn fix(value: f64) -> i32 {
    let scaled = (value * 65536.0).round();
    if scaled >= f64::from(i32::MAX) {
        i32::MAX
    } else if scaled <= f64::from(i32::MIN) {
        i32::MIN
    } else {
        // In range after the checks above.
        #[allow(clippy::cast_possible_truncation)]
        let word = scaled as i32;
        word
    }
}

/// What `sane_control_option` reported after a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetInfo {
    pub inexact: bool,
    pub reload_options: bool,
    pub reload_params: bool,
}

/// What one `sane_read` gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// This many bytes were written to the start of the buffer (may be 0).
    Data(usize),
    /// The current frame is complete (`SANE_STATUS_EOF`).
    Eof,
}

/// An open SANE device. Dropping it cancels a scan in progress and closes the device.
///
/// It may be moved to another thread (all calls are serialised by the SANE lock) but not shared.
#[derive(Debug)]
pub struct Device {
    handle: raw::SANE_Handle,
    scanning: bool,
    /// A frame was started and has not reached EOF.
    frame_open: bool,
    /// Bytes of the current frame not read yet, when its length is known.
    frame_left: Option<u64>,
    /// Whether the reader thread was given time to finish before the last read.
    settled: bool,
    session: Sane,
}

/// How long the backend's reader thread is given to get out of `malloc`/`free` before an
/// action that may cancel it (see [`Device::settle`]).
pub const READER_SETTLE: std::time::Duration = std::time::Duration::from_millis(5);

/// A frame with at most this much left fits in a pipe buffer, so a backend reader thread has
/// written it all and is finishing.
const PIPE_BUFFER: u64 = 64 * 1024;

// SAFETY: a SANE handle is an opaque pointer owned by the backend. It is only ever used through
// `&mut Device` (so from one thread at a time) and every call holds the process-wide SANE lock,
// so moving the owner to another thread cannot cause concurrent access.
unsafe impl Send for Device {}

impl Device {
    /// Number of options the device has (option 0 holds it, per the standard).
    pub fn option_count(&mut self) -> Result<i32, ScanError> {
        let _global = lock();
        let mut count: raw::SANE_Word = 0;
        // SAFETY: the standard guarantees option 0 exists and is a single SANE_Int; we first
        // fetch its descriptor (some backends insist) and pass a pointer to one word.
        let status = unsafe {
            raw::sane_get_option_descriptor(self.handle, 0);
            Status(raw::sane_control_option(
                self.handle,
                0,
                raw::ACTION_GET_VALUE,
                (&raw mut count).cast::<c_void>(),
                ptr::null_mut(),
            ))
        };
        if status != Status::GOOD {
            return Err(ScanError::from_status(status, Call::Option));
        }
        Ok(count.clamp(0, 10_000))
    }

    /// The descriptor of option `index`, copied out of SANE.
    pub fn descriptor(&mut self, index: i32) -> Option<OptionDescriptor> {
        let _global = lock();
        self.descriptor_locked(index)
    }

    fn descriptor_locked(&mut self, index: i32) -> Option<OptionDescriptor> {
        // SAFETY: SANE lock held; an out-of-range index makes the backend return NULL.
        let desc = unsafe { raw::sane_get_option_descriptor(self.handle, index) };
        if desc.is_null() {
            return None;
        }
        // SAFETY: a non-NULL descriptor stays valid until the options are reloaded or the
        // device closed, both of which need the lock we hold. We copy everything out now.
        let desc = unsafe { &*desc };
        let value_type = match desc.type_ {
            0 => ValueType::Bool,
            1 => ValueType::Int,
            2 => ValueType::Fixed,
            3 => ValueType::String,
            4 => ValueType::Button,
            5 => ValueType::Group,
            other => ValueType::Unknown(other),
        };
        let unit = match desc.unit {
            0 => Unit::None,
            1 => Unit::Pixel,
            2 => Unit::Bit,
            3 => Unit::Mm,
            4 => Unit::Dpi,
            5 => Unit::Percent,
            6 => Unit::Microsecond,
            other => Unit::Unknown(other),
        };
        let constraint = match desc.constraint_type {
            // SAFETY (all three arms): the standard says which union member is valid for each
            // constraint type; a NULL pointer is treated as "no constraint".
            1 => {
                let range = unsafe { desc.constraint.range };
                if range.is_null() {
                    Constraint::None
                } else {
                    let range = unsafe { &*range };
                    Constraint::Range {
                        min: range.min,
                        max: range.max,
                        quant: range.quant,
                    }
                }
            }
            2 => {
                let list = unsafe { desc.constraint.word_list };
                if list.is_null() {
                    Constraint::None
                } else {
                    // The first word is the number of words that follow.
                    let count = usize::try_from(unsafe { *list })
                        .unwrap_or(0)
                        .min(MAX_LIST_ITEMS);
                    let words = (1..=count).map(|i| unsafe { *list.add(i) }).collect();
                    Constraint::Words(words)
                }
            }
            3 => {
                let list = unsafe { desc.constraint.string_list };
                if list.is_null() {
                    Constraint::None
                } else {
                    let mut strings = Vec::new();
                    for i in 0..MAX_LIST_ITEMS {
                        // NULL-terminated list of C strings.
                        let item = unsafe { *list.add(i) };
                        if item.is_null() {
                            break;
                        }
                        strings.push(owned_string(item));
                    }
                    Constraint::Strings(strings)
                }
            }
            _ => Constraint::None,
        };
        Some(OptionDescriptor {
            index,
            name: owned_string(desc.name),
            title: owned_string(desc.title),
            value_type,
            unit,
            size: desc.size,
            cap: desc.cap,
            constraint,
        })
    }

    /// All option descriptors (option 0, the count, excluded).
    pub fn options(&mut self) -> Result<Vec<OptionDescriptor>, ScanError> {
        let count = self.option_count()?;
        Ok((1..count).filter_map(|i| self.descriptor(i)).collect())
    }

    /// The descriptor of the option with this name, if the device has it.
    pub fn find_option(&mut self, name: &str) -> Result<Option<OptionDescriptor>, ScanError> {
        let count = self.option_count()?;
        Ok((1..count)
            .filter_map(|i| self.descriptor(i))
            .find(|d| d.name == name))
    }

    /// Reads an option's current value.
    pub fn get_value(&mut self, desc: &OptionDescriptor) -> Result<Value, ScanError> {
        let size = usize::try_from(desc.size).unwrap_or(0).clamp(4, 1 << 20);
        let mut buf = WordBuf::zeroed(size);
        let _global = lock();
        self.control_locked(desc, raw::ACTION_GET_VALUE, &mut buf)?;
        let bytes = buf.to_bytes();
        Ok(decode_value(desc, bytes.get(..size).unwrap_or(&bytes)))
    }

    /// Sets an option. The value's type must match the option's.
    pub fn set_value(
        &mut self,
        desc: &OptionDescriptor,
        value: &Value,
    ) -> Result<SetInfo, ScanError> {
        let mut buf = WordBuf::from_bytes(&encode_value(desc, value)?);
        let _global = lock();
        self.control_locked(desc, raw::ACTION_SET_VALUE, &mut buf)
    }

    /// Lets the backend choose the value (`SANE_ACTION_SET_AUTO`).
    pub fn set_auto(&mut self, desc: &OptionDescriptor) -> Result<SetInfo, ScanError> {
        let _global = lock();
        let mut info: raw::SANE_Int = 0;
        // SAFETY: SET_AUTO takes no value (NULL allowed by the standard); valid info pointer;
        // the descriptor is fetched first so the backend knows the option is "loaded".
        let status = unsafe {
            raw::sane_get_option_descriptor(self.handle, desc.index);
            Status(raw::sane_control_option(
                self.handle,
                desc.index,
                raw::ACTION_SET_AUTO,
                ptr::null_mut(),
                &raw mut info,
            ))
        };
        if status != Status::GOOD {
            return Err(option_error(desc, status));
        }
        Ok(set_info(info))
    }

    fn control_locked(
        &mut self,
        desc: &OptionDescriptor,
        action: c_int,
        buf: &mut WordBuf,
    ) -> Result<SetInfo, ScanError> {
        // The backend writes (for GET) or reads (for SET) `desc.size` bytes; the buffer must be
        // at least that big. Checked here so the C side can never run past it.
        let needed = usize::try_from(desc.size).unwrap_or(0).max(4);
        if buf.byte_len() < needed {
            return Err(ScanError::Option {
                name: desc.name.clone(),
                problem: "value buffer smaller than the option size".into(),
            });
        }
        // Fetch the descriptor again right before the call: after an options reload some
        // backends (the `test` backend among them) refuse options not "loaded" since then.
        if self.descriptor_locked(desc.index).is_none() {
            return Err(ScanError::Option {
                name: desc.name.clone(),
                problem: "option disappeared".into(),
            });
        }
        let mut info: raw::SANE_Int = 0;
        // SAFETY: SANE lock held; `buf` is valid for at least `desc.size` bytes (checked above)
        // and word-aligned (it is a Vec<i32>), as backends read and write SANE_Word through
        // it; `info` is a valid out-pointer.
        let status = unsafe {
            Status(raw::sane_control_option(
                self.handle,
                desc.index,
                action,
                buf.0.as_mut_ptr().cast::<c_void>(),
                &raw mut info,
            ))
        };
        if status != Status::GOOD {
            return Err(option_error(desc, status));
        }
        Ok(set_info(info))
    }

    /// The scan parameters (`sane_get_parameters`). Exact only after [`Device::start`].
    pub fn parameters(&mut self) -> Result<Parameters, ScanError> {
        let _global = lock();
        let mut p = raw::SANE_Parameters::default();
        // SAFETY: valid out-pointer to a SANE_Parameters; SANE lock held.
        let status = Status(unsafe { raw::sane_get_parameters(self.handle, &raw mut p) });
        if status != Status::GOOD {
            return Err(ScanError::from_status(status, Call::Parameters));
        }
        Ok(Parameters {
            format: p.format,
            last_frame: p.last_frame != 0,
            bytes_per_line: p.bytes_per_line,
            pixels_per_line: p.pixels_per_line,
            lines: p.lines,
            depth: p.depth,
        })
    }

    /// Starts acquiring one frame (`sane_start`). `NO_DOCS` here means the feeder is empty.
    pub fn start(&mut self) -> Result<(), ScanError> {
        // Taken before the SANE lock, never while holding it.
        if !self.scanning {
            ScanSlot::acquire();
        }
        let _global = lock();
        // SAFETY: SANE lock held, open handle.
        let status = Status(unsafe { raw::sane_start(self.handle) });
        // Whatever sane_start answered, a scan may now be pending until sane_cancel.
        self.scanning = true;
        if status != Status::GOOD {
            return Err(ScanError::from_status(status, Call::Start));
        }
        self.frame_open = true;
        self.settled = false;
        let mut p = raw::SANE_Parameters::default();
        // SAFETY: valid out-pointer; SANE lock held.
        let ok = Status(unsafe { raw::sane_get_parameters(self.handle, &raw mut p) });
        self.frame_left = (ok == Status::GOOD)
            .then(|| {
                let lines = u64::try_from(p.lines).ok()?;
                Some(lines * u64::try_from(p.bytes_per_line).ok()?)
            })
            .flatten();
        Ok(())
    }

    /// Works around a libsane bug: `sanei_thread` (the reader-thread helper of the `test`
    /// backend and other backends in Debian's pthread build) stops its reader thread with an
    /// *asynchronous* `pthread_cancel`. If that lands while the thread is inside `malloc` or
    /// `free` (right after `sane_start`, or when it frees its buffer after the last write), the
    /// allocator lock stays taken forever and the next thread that uses that arena hangs (seen
    /// here: about one scan in a thousand hung the test binary). The cancel happens in
    /// `sane_cancel` and in the `sane_read` that reaches the end of the frame, so before those
    /// we give the reader a moment to finish allocating or freeing.
    fn settle(&mut self) {
        if self.frame_open && !self.settled {
            std::thread::sleep(READER_SETTLE);
            self.settled = true;
        }
    }

    /// Reads image data into `buf` (`sane_read`). Errors such as `JAMMED` are returned, never
    /// swallowed.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<Read, ScanError> {
        let max = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        let mut length: raw::SANE_Int = 0;
        if self.frame_left.is_some_and(|left| left <= PIPE_BUFFER) {
            self.settle();
        }
        let _global = lock();
        // SAFETY: `buf` is valid for `max` bytes (max <= buf.len()); SANE lock held.
        let status =
            Status(unsafe { raw::sane_read(self.handle, buf.as_mut_ptr(), max, &raw mut length) });
        match status {
            Status::GOOD => {
                let n = usize::try_from(length).unwrap_or(0).min(buf.len());
                if let Some(left) = &mut self.frame_left {
                    *left = left.saturating_sub(n as u64);
                }
                Ok(Read::Data(n))
            }
            Status::EOF => {
                self.frame_open = false;
                Ok(Read::Eof)
            }
            other => Err(ScanError::from_status(other, Call::Read)),
        }
    }

    /// Ends the current scan or batch (`sane_cancel`). Harmless when nothing is pending.
    pub fn cancel(&mut self) {
        self.settle();
        self.frame_open = false;
        let _global = lock();
        // SAFETY: SANE lock held, open handle; the standard allows sane_cancel at any time.
        unsafe { raw::sane_cancel(self.handle) };
        if self.scanning {
            self.scanning = false;
            ScanSlot::release();
        }
    }

    /// The session this device belongs to.
    pub fn session(&self) -> &Sane {
        &self.session
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.settle();
        let _global = lock();
        // SAFETY: SANE lock held; the handle is open (we never hand out copies) and is closed
        // exactly once here, after ending any pending scan as the standard asks.
        unsafe {
            if self.scanning {
                raw::sane_cancel(self.handle);
            }
            raw::sane_close(self.handle);
        }
        if self.scanning {
            ScanSlot::release();
        }
        // `self.session` drops after this, possibly calling sane_exit.
    }
}

fn set_info(info: raw::SANE_Int) -> SetInfo {
    SetInfo {
        inexact: info & INFO_INEXACT != 0,
        reload_options: info & INFO_RELOAD_OPTIONS != 0,
        reload_params: info & INFO_RELOAD_PARAMS != 0,
    }
}

fn option_error(desc: &OptionDescriptor, status: Status) -> ScanError {
    match status {
        // A device-state status (busy, jammed, gone) matters more than which option it was.
        Status::INVAL | Status::UNSUPPORTED => ScanError::Option {
            name: desc.name.clone(),
            problem: format!("refused ({})", protocol::status_name(status)),
        },
        other => ScanError::from_status(other, Call::Option),
    }
}

fn owned_string(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: SANE strings are NUL-terminated and owned by the backend; callers only pass
    // pointers obtained under the SANE lock, and we copy before releasing it.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn decode_value(desc: &OptionDescriptor, bytes: &[u8]) -> Value {
    let words = || -> Vec<i32> {
        bytes
            .chunks_exact(4)
            .take(desc.words())
            .map(|w| i32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
            .collect()
    };
    match desc.value_type {
        ValueType::Bool => Value::Bool(words().first().copied().unwrap_or(0) != 0),
        ValueType::Fixed => Value::Fixed(words()),
        ValueType::String => {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            Value::String(String::from_utf8_lossy(&bytes[..end]).into_owned())
        }
        _ => Value::Int(words()),
    }
}

fn encode_value(desc: &OptionDescriptor, value: &Value) -> Result<Vec<u8>, ScanError> {
    let size = usize::try_from(desc.size).unwrap_or(0).clamp(4, 1 << 20);
    let wrong = |what: &str| ScanError::Option {
        name: desc.name.clone(),
        problem: format!("expects {what}"),
    };
    let mut buf = vec![0u8; size];
    let put_words = |buf: &mut Vec<u8>, words: &[i32]| {
        for (slot, w) in buf.chunks_exact_mut(4).zip(words) {
            slot.copy_from_slice(&w.to_ne_bytes());
        }
    };
    match (desc.value_type, value) {
        (ValueType::Bool, Value::Bool(b)) => put_words(&mut buf, &[i32::from(*b)]),
        (ValueType::Int, Value::Int(words)) | (ValueType::Fixed, Value::Fixed(words)) => {
            if words.len() > desc.words() {
                return Err(wrong("fewer values"));
            }
            put_words(&mut buf, words);
        }
        (ValueType::String, Value::String(s)) => {
            let bytes = s.as_bytes();
            if bytes.contains(&0) || bytes.len() + 1 > size {
                return Err(ScanError::Option {
                    name: desc.name.clone(),
                    problem: format!("value {s:?} is too long for the option"),
                });
            }
            buf[..bytes.len()].copy_from_slice(bytes);
        }
        (ValueType::Bool, _) => return Err(wrong("a yes/no value")),
        (ValueType::Int, _) => return Err(wrong("whole numbers")),
        (ValueType::Fixed, _) => return Err(wrong("decimal numbers")),
        (ValueType::String, _) => return Err(wrong("text")),
        _ => return Err(wrong("nothing (it cannot be set)")),
    }
    Ok(buf)
}

/// A value buffer for `sane_control_option`: word-aligned, because backends access it as
/// `SANE_Word`s, and one word longer than asked so a string always has room for its NUL.
struct WordBuf(Vec<i32>);

impl WordBuf {
    fn zeroed(bytes: usize) -> Self {
        WordBuf(vec![0; bytes.div_ceil(4) + 1])
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let mut buf = Self::zeroed(bytes.len());
        for (word, chunk) in buf.0.iter_mut().zip(bytes.chunks(4)) {
            let mut w = [0u8; 4];
            w[..chunk.len()].copy_from_slice(chunk);
            *word = i32::from_ne_bytes(w);
        }
        buf
    }

    fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    fn byte_len(&self) -> usize {
        self.0.len() * 4
    }
}
