//! The scanner driver: opens a SANE device, sets resolution, mode, source and page size, and
//! scans page by page into a [`PageStore`], streaming each page from `sane_read` into the JPEG
//! encoder. Blocking; the device task in [`crate::handle`] runs it off the UI thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kiosk_link::DeviceStatus;
use serde::Serialize;

use crate::encode::{EncodeOptions, MemoryRows, PageGeometry, RowSource};
use crate::error::ScanError;
use crate::options::{
    Applied, ColorMode, ScanSettings, Source, lowest, mm_in_unit, pick_mode, pick_number,
    pick_source, word_value,
};
use crate::protocol::{LineAssembler, PageFormat};
use crate::sane::{Constraint, Device, DeviceInfo, OptionDescriptor, Read, Sane, Value, ValueType};
use crate::store::{PageStore, StoredPage};

/// Size of one `sane_read` buffer.
pub const READ_CHUNK: usize = 64 * 1024;

/// Most bytes accepted after the announced end of a page before giving up on the backend.
const MAX_TRAILING_BYTES: u64 = 64 * 1024 * 1024;

/// How many empty reads in a row are tolerated (a backend in non-blocking mode).
const MAX_EMPTY_READS: u32 = 5_000;

/// Pause after an empty read.
const EMPTY_READ_PAUSE: Duration = Duration::from_millis(1);

/// Standard SANE option names (`saneopts.h`).
pub mod names {
    pub const SOURCE: &str = "source";
    pub const MODE: &str = "mode";
    pub const DEPTH: &str = "depth";
    pub const RESOLUTION: &str = "resolution";
    pub const TL_X: &str = "tl-x";
    pub const TL_Y: &str = "tl-y";
    pub const BR_X: &str = "br-x";
    pub const BR_Y: &str = "br-y";
    /// Sheet-fed backends (`fujitsu`, `canon_dr` …) size the paper with these.
    pub const PAGE_WIDTH: &str = "page-width";
    pub const PAGE_HEIGHT: &str = "page-height";
}

/// A cancel switch shared between the caller (any thread) and a scan in progress. The scan
/// looks at it before every `sane_read` and `sane_start`, then ends with `sane_cancel`.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        CancelToken::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// True when both are the same token.
    pub fn same(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a scan reports while it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScanEvent {
    /// A page started (1-based number within this scan).
    PageStarted {
        page: u32,
        width: u32,
        /// `None` when the scanner does not know the length in advance.
        height: Option<u32>,
        dpi: u16,
    },
    /// Bytes read of the expected total for the page (`None` when unknown).
    Progress {
        page: u32,
        bytes_read: u64,
        bytes_expected: Option<u64>,
    },
    /// A page is encoded and in the store. Pages announced here stay valid even if a later
    /// page of the same batch fails.
    PageStored { page: u32, stored: StoredPage },
    /// The device task's state changed (only sent by [`crate::handle::Handle`]).
    Status { status: DeviceStatus },
}

/// An open scanner.
#[derive(Debug)]
pub struct Scanner {
    device: Device,
    name: String,
}

impl Scanner {
    /// The devices SANE can see.
    pub fn list_devices() -> Result<Vec<DeviceInfo>, ScanError> {
        Sane::init()?.devices()
    }

    /// Opens a device by its SANE name.
    pub fn open(name: &str) -> Result<Scanner, ScanError> {
        let sane = Sane::init()?;
        let device = sane.open(name)?;
        tracing::info!(device = name, "scanner opened");
        Ok(Scanner {
            device,
            name: name.to_owned(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// All option descriptors, for diagnostics.
    pub fn options(&mut self) -> Result<Vec<OptionDescriptor>, ScanError> {
        self.device.options()
    }

    /// Reads an option's value, if the device has it.
    pub fn option_value(&mut self, name: &str) -> Result<Option<Value>, ScanError> {
        match self.device.find_option(name)? {
            Some(desc) if desc.is_active() => self.device.get_value(&desc).map(Some),
            _ => Ok(None),
        }
    }

    /// Sets an option from text, parsed by the option's type (`yes`/`no`, numbers, text).
    /// For backend-specific knobs and the `test` backend's fault options.
    pub fn set_option_text(&mut self, name: &str, text: &str) -> Result<(), ScanError> {
        let desc = self
            .device
            .find_option(name)?
            .ok_or_else(|| ScanError::Option {
                name: name.to_owned(),
                problem: "this scanner has no such option".into(),
            })?;
        let bad = |what: &str| ScanError::Option {
            name: name.to_owned(),
            problem: format!("{text:?} is not {what}"),
        };
        let value = match desc.value_type {
            ValueType::Bool => match text.to_ascii_lowercase().as_str() {
                "yes" | "true" | "1" | "on" => Value::Bool(true),
                "no" | "false" | "0" | "off" => Value::Bool(false),
                _ => return Err(bad("yes or no")),
            },
            ValueType::Int => Value::Int(
                text.split(',')
                    .map(|t| t.trim().parse::<i32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("a whole number"))?,
            ),
            ValueType::Fixed => Value::Fixed(
                text.split(',')
                    .map(|t| t.trim().parse::<f64>().map(crate::sane::fix))
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("a number"))?,
            ),
            ValueType::String => Value::String(text.to_owned()),
            _ => return Err(bad("settable")),
        };
        self.device.set_value(&desc, &value)?;
        Ok(())
    }

    /// Finds a settable, active option.
    fn settable(&mut self, name: &str) -> Result<Option<OptionDescriptor>, ScanError> {
        Ok(self
            .device
            .find_option(name)?
            .filter(|d| d.is_active() && d.is_settable()))
    }

    /// Sets a numeric option as close to `wanted` (in its unit) as allowed and returns the
    /// value it took, or `None` when the device has no such settable option.
    fn set_number(&mut self, name: &str, wanted: f64) -> Result<Option<f64>, ScanError> {
        let Some(desc) = self.settable(name)? else {
            return Ok(None);
        };
        let word = pick_number(desc.value_type, &desc.constraint, wanted);
        let value = match desc.value_type {
            ValueType::Fixed => Value::Fixed(vec![word]),
            ValueType::Int => Value::Int(vec![word]),
            _ => {
                return Err(ScanError::Option {
                    name: name.to_owned(),
                    problem: "is not a number".into(),
                });
            }
        };
        self.device.set_value(&desc, &value)?;
        let actual = match self.device.get_value(&desc)? {
            Value::Fixed(w) | Value::Int(w) => w.first().copied().unwrap_or(word),
            _ => word,
        };
        Ok(Some(word_value(desc.value_type, actual)))
    }

    /// Sets a string-list option to the entry `pick` chooses. `Ok(None)`: no such option.
    fn set_choice(
        &mut self,
        name: &str,
        pick: impl Fn(&[String]) -> Option<&String>,
    ) -> Result<Option<Result<String, Vec<String>>>, ScanError> {
        let Some(desc) = self.settable(name)? else {
            return Ok(None);
        };
        let Constraint::Strings(choices) = &desc.constraint else {
            return Ok(Some(Err(Vec::new())));
        };
        let Some(choice) = pick(choices).cloned() else {
            return Ok(Some(Err(choices.clone())));
        };
        self.device
            .set_value(&desc, &Value::String(choice.clone()))?;
        Ok(Some(Ok(choice)))
    }

    /// Applies source, mode, depth, resolution and page size, in that order (each may change
    /// what the next allows). Returns what the device accepted.
    pub fn configure(&mut self, settings: &ScanSettings) -> Result<Applied, ScanError> {
        let source = match (
            self.set_choice(names::SOURCE, |c| pick_source(c, settings.source))?,
            settings.source,
        ) {
            (Some(Ok(s)), _) => Some(s),
            (None, Source::Flatbed) => None,
            (None, Source::Adf) => {
                return Err(ScanError::Unsupported {
                    what: "this scanner has no document feeder".into(),
                });
            }
            (Some(Err(choices)), wanted) => {
                return Err(ScanError::Unsupported {
                    what: format!("source {wanted} (the scanner offers {choices:?})"),
                });
            }
        };
        let mode = match self.set_choice(names::MODE, |c| pick_mode(c, settings.mode))? {
            Some(Ok(m)) => m,
            None => "(device default)".to_owned(),
            Some(Err(choices)) => {
                return Err(ScanError::Unsupported {
                    what: format!("{} mode (the scanner offers {choices:?})", settings.mode),
                });
            }
        };
        // 8 bits per sample where the depth can be chosen; other depths are converted anyway.
        if let Some(desc) = self.settable(names::DEPTH)? {
            let allows_8 = match &desc.constraint {
                Constraint::Words(w) => w.contains(&8),
                Constraint::Range { min, max, .. } => (*min..=*max).contains(&8),
                _ => true,
            };
            if allows_8 && desc.value_type == ValueType::Int {
                self.device.set_value(&desc, &Value::Int(vec![8]))?;
            }
        }
        let dpi = self
            .set_number(names::RESOLUTION, f64::from(settings.dpi))?
            .ok_or_else(|| ScanError::Option {
                name: names::RESOLUTION.into(),
                problem: "this scanner has no settable resolution".into(),
            })?;
        let dpi_word = whole(dpi, 1, 65_535);
        let dpi_word = u16::try_from(dpi_word).unwrap_or(u16::MAX);

        // Paper size first (it bounds the scan area on sheet-fed scanners), then the area.
        let (w_mm, h_mm) = (settings.page.width_mm, settings.page.height_mm);
        self.set_geometry(names::PAGE_WIDTH, w_mm, dpi)?;
        self.set_geometry(names::PAGE_HEIGHT, h_mm, dpi)?;
        let left = self.set_to_lowest(names::TL_X)?;
        let top = self.set_to_lowest(names::TL_Y)?;
        let right = self.set_geometry(names::BR_X, left + w_mm, dpi)?;
        let bottom = self.set_geometry(names::BR_Y, top + h_mm, dpi)?;
        let applied = Applied {
            dpi: dpi_word,
            mode,
            source,
            width_mm: right.map_or(w_mm, |r| r - left),
            height_mm: bottom.map_or(h_mm, |b| b - top),
        };
        tracing::debug!(device = %self.name, ?applied, "scanner configured");
        Ok(applied)
    }

    /// Sets a geometry option given in mm (converted if the option counts pixels); returns
    /// the value it took in mm.
    fn set_geometry(&mut self, name: &str, mm: f64, dpi: f64) -> Result<Option<f64>, ScanError> {
        let Some(desc) = self.settable(name)? else {
            return Ok(None);
        };
        let in_unit = mm_in_unit(desc.unit, mm, dpi);
        let taken = self.set_number(name, in_unit)?;
        Ok(taken.map(|v| {
            if desc.unit == crate::sane::Unit::Pixel {
                v * 25.4 / dpi.max(1.0)
            } else {
                v
            }
        }))
    }

    fn set_to_lowest(&mut self, name: &str) -> Result<f64, ScanError> {
        let Some(desc) = self.settable(name)? else {
            return Ok(0.0);
        };
        let word = lowest(&desc.constraint).unwrap_or(0);
        let value = match desc.value_type {
            ValueType::Fixed => Value::Fixed(vec![word]),
            _ => Value::Int(vec![word]),
        };
        self.device.set_value(&desc, &value)?;
        Ok(if desc.unit == crate::sane::Unit::Pixel {
            0.0
        } else {
            word_value(desc.value_type, word)
        })
    }

    /// Scans: one page from the flatbed, or every page in the feeder (until it reports empty,
    /// or `max_pages`). Each page is streamed into `store`; `on_event` hears of each page's
    /// start, progress and storage. The batch always ends with `sane_cancel`.
    ///
    /// Errors: an empty feeder before the first page is [`ScanError::NoDocuments`]; a jam, an
    /// open cover or a lost device stop the batch with their own error (pages stored before
    /// that were already reported with [`ScanEvent::PageStored`]).
    pub fn scan(
        &mut self,
        settings: &ScanSettings,
        store: &PageStore,
        encode: &EncodeOptions,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<Vec<StoredPage>, ScanError> {
        let applied = self.configure(settings)?;
        let result = self.scan_pages(settings, &applied, store, *encode, cancel, on_event);
        self.device.cancel();
        match &result {
            Ok(pages) => tracing::info!(device = %self.name, pages = pages.len(), "scan done"),
            Err(e) => tracing::warn!(device = %self.name, error = %e, "scan failed"),
        }
        result
    }

    /// Acquires one frame and throws the data away: a self-test for technicians, and the
    /// benchmark's measure of how long the scanner (or backend) itself takes. Returns the
    /// number of bytes read.
    pub fn read_frame_discarding(&mut self, settings: &ScanSettings) -> Result<u64, ScanError> {
        self.configure(settings)?;
        let result = (|| {
            self.device.start()?;
            let mut buf = vec![0; READ_CHUNK];
            let mut total = 0u64;
            loop {
                match self.device.read(&mut buf)? {
                    Read::Data(n) => total += n as u64,
                    Read::Eof => return Ok(total),
                }
            }
        })();
        self.device.cancel();
        result
    }

    fn scan_pages(
        &mut self,
        settings: &ScanSettings,
        applied: &Applied,
        store: &PageStore,
        encode: EncodeOptions,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<Vec<StoredPage>, ScanError> {
        let max_pages = match settings.source {
            Source::Flatbed => 1,
            Source::Adf => settings.max_pages.max(1),
        };
        let mut pages = Vec::new();
        for page in 1..=max_pages {
            if cancel.is_cancelled() {
                return Err(ScanError::Cancelled);
            }
            match self.device.start() {
                Ok(()) => {}
                // The feeder ran out after at least one page: the batch is complete.
                Err(ScanError::NoDocuments)
                    if settings.source == Source::Adf && !pages.is_empty() =>
                {
                    break;
                }
                Err(e) => return Err(e),
            }
            let format = PageFormat::from_parameters(&self.device.parameters()?)?;
            on_event(ScanEvent::PageStarted {
                page,
                width: format.width,
                height: format.height,
                dpi: applied.dpi,
            });
            let stored = self.read_page(format, page, applied, store, encode, cancel, on_event)?;
            on_event(ScanEvent::PageStored {
                page,
                stored: stored.clone(),
            });
            pages.push(stored);
        }
        Ok(pages)
    }

    #[allow(clippy::too_many_arguments)]
    fn read_page(
        &mut self,
        format: PageFormat,
        page: u32,
        applied: &Applied,
        store: &PageStore,
        encode: EncodeOptions,
        cancel: &CancelToken,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> Result<StoredPage, ScanError> {
        let mut rows = SaneRows::new(&mut self.device, format, page, cancel, on_event);
        if let Some(height) = format.height {
            // Known length: stream straight into the encoder.
            let geometry = PageGeometry {
                width: format.width,
                height,
                channels: format.channels,
                dpi: applied.dpi,
            };
            let pending = store.encode(&geometry, &mut rows, &encode)?;
            // Read to the end of the frame so that a jam or error at the very end is not
            // missed, before the page becomes visible in the store.
            rows.drain()?;
            return pending.commit();
        }
        // Unknown length (hand scanners, feeders with paper-end detection): collect the rows
        // into one page-sized buffer, reserved once, then encode from it.
        let row_len = format.row_len();
        let limit_rows = whole(
            (applied.height_mm * 2.0 / 25.4 * f64::from(applied.dpi)).ceil(),
            1,
            crate::protocol::MAX_DIMENSION,
        ) as usize;
        let mut buffer = Vec::with_capacity(limit_rows * row_len);
        let mut height = 0u32;
        loop {
            let error = match rows.next_row() {
                Ok(row) => {
                    if height as usize >= limit_rows {
                        return Err(ScanError::PageTooLarge {
                            detail: format!("more than {limit_rows} lines"),
                        });
                    }
                    buffer.extend_from_slice(row);
                    height += 1;
                    continue;
                }
                Err(e) => e,
            };
            // The end of the frame ends a page of unknown length; a partial last line is
            // dropped.
            if matches!(error, ScanError::IncompletePage { .. }) && rows.at_eof() {
                break;
            }
            return Err(error);
        }
        drop(rows);
        if height == 0 {
            return Err(ScanError::IncompletePage {
                got: 0,
                expected: row_len as u64,
            });
        }
        let geometry = PageGeometry {
            width: format.width,
            height,
            channels: format.channels,
            dpi: applied.dpi,
        };
        store.store(&geometry, &mut MemoryRows::new(&buffer, row_len), &encode)
    }
}

/// The rows of one frame, read from SANE on demand.
struct SaneRows<'a> {
    device: &'a mut Device,
    assembler: LineAssembler,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    cancel: &'a CancelToken,
    page: u32,
    bytes_read: u64,
    expected: Option<u64>,
    next_report: u64,
    on_event: &'a mut dyn FnMut(ScanEvent),
}

impl<'a> SaneRows<'a> {
    fn new(
        device: &'a mut Device,
        format: PageFormat,
        page: u32,
        cancel: &'a CancelToken,
        on_event: &'a mut dyn FnMut(ScanEvent),
    ) -> Self {
        SaneRows {
            device,
            assembler: LineAssembler::new(format),
            buf: vec![0; READ_CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            cancel,
            page,
            bytes_read: 0,
            expected: format.frame_bytes(),
            next_report: 1,
            on_event,
        }
    }

    fn at_eof(&self) -> bool {
        self.eof
    }

    /// Reads the next chunk. `Ok(false)` at the end of the frame.
    fn fill(&mut self) -> Result<bool, ScanError> {
        let mut empty = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Err(ScanError::Cancelled);
            }
            match self.device.read(&mut self.buf)? {
                Read::Eof => {
                    self.eof = true;
                    return Ok(false);
                }
                Read::Data(0) => {
                    empty += 1;
                    if empty > MAX_EMPTY_READS {
                        return Err(ScanError::DeviceGone {
                            detail: "the scanner keeps sending no data".into(),
                        });
                    }
                    std::thread::sleep(EMPTY_READ_PAUSE);
                }
                Read::Data(n) => {
                    self.pos = 0;
                    self.len = n;
                    self.bytes_read += n as u64;
                    self.report();
                    return Ok(true);
                }
            }
        }
    }

    /// Sends a progress event when another percent (or, for unknown lengths, another MiB)
    /// has arrived.
    fn report(&mut self) {
        let step = match self.expected {
            Some(total) if total > 0 => (self.bytes_read.saturating_mul(100) / total).min(100),
            _ => self.bytes_read / (1024 * 1024),
        };
        if step >= self.next_report || self.bytes_read == self.expected.unwrap_or(0) {
            self.next_report = step + 1;
            (self.on_event)(ScanEvent::Progress {
                page: self.page,
                bytes_read: self.bytes_read,
                bytes_expected: self.expected,
            });
        }
    }

    /// Reads and discards whatever the backend still sends after the last row, up to EOF.
    fn drain(&mut self) -> Result<(), ScanError> {
        let mut extra = (self.len - self.pos) as u64;
        self.pos = self.len;
        while !self.eof {
            if self.fill()? {
                extra += self.len as u64;
                self.pos = self.len;
                if extra > MAX_TRAILING_BYTES {
                    return Err(ScanError::PageTooLarge {
                        detail: format!("the scanner sent {extra} bytes past the page end"),
                    });
                }
            }
        }
        if extra > 0 {
            tracing::debug!(extra, "bytes after the announced page end ignored");
        }
        Ok(())
    }
}

impl RowSource for SaneRows<'_> {
    fn next_row(&mut self) -> Result<&[u8], ScanError> {
        loop {
            if self.pos < self.len {
                let (n, done) = self.assembler.push(&self.buf[self.pos..self.len]);
                self.pos += n;
                if done {
                    break;
                }
                continue;
            }
            if self.eof || !self.fill()? {
                return Err(ScanError::IncompletePage {
                    got: self.bytes_read,
                    expected: self.expected.unwrap_or(self.bytes_read),
                });
            }
        }
        Ok(self.assembler.row())
    }
}

/// Rounds `v` to a whole number within `min..=max` (NaN gives `min`).
fn whole(v: f64, min: u32, max: u32) -> u32 {
    if v.is_nan() {
        return min;
    }
    let clamped = v.round().clamp(f64::from(min), f64::from(max));
    // Within u32 range after the clamp.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = clamped as u32;
    n
}

/// Convenience for one colour mode word in logs and JSON.
pub fn mode_word(mode: ColorMode) -> &'static str {
    match mode {
        ColorMode::Color => "color",
        ColorMode::Gray => "gray",
    }
}
