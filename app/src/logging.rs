//! Logs: `tracing`, readable text on stderr by default (journald picks it up), or JSON lines.
//! Every line passes through [`crate::privacy::redact`] before it is written, as a last
//! guard: code never puts personal data into log fields in the first place.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::kiosk::LogFormat;

/// A writer that collects one event and writes it redacted when dropped.
pub struct RedactingWriter<W: Write> {
    buffer: Vec<u8>,
    sink: W,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let clean = crate::privacy::redact(&text);
        self.buffer.clear();
        self.sink.write_all(clean.as_bytes())?;
        self.sink.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Makes redacting writers over a sink factory (stderr, or a buffer in tests).
#[derive(Clone)]
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            buffer: Vec::new(),
            sink: self.0.make_writer(),
        }
    }
}

/// A shared in-memory sink, for tests that read the log.
#[derive(Clone, Default)]
pub struct MemorySink(pub Arc<Mutex<Vec<u8>>>);

impl MemorySink {
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for MemorySink {
    type Writer = MemorySink;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Builds the subscriber for `format` and `filter` writing to `sink`.
pub fn subscriber<M>(
    format: LogFormat,
    filter: &str,
    sink: M,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    M: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redacting(sink))
        .with_target(true);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(false).finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
    }
}

/// Installs the process-wide logger on stderr. `RUST_LOG` overrides the configured filter.
pub fn init(format: LogFormat, filter: &str) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_owned());
    let _ = tracing::subscriber::set_global_default(subscriber(format, &filter, io::stderr));
}
