//! The optional state file: a journal of [`Op`]s, one JSON line each, after a header line
//! with the clock's epoch. Each op is written (and flushed to the OS) before it is applied
//! and answered, so a simulator killed at any point and restarted keeps everything it
//! answered. Not fsynced: it survives the process being killed, not the machine losing power.
//!
//! The file holds the test data the kiosk sent (fictitious people); it is a simulator's file
//! and must never be used with real residents' data.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::state::Op;

const MAGIC: &str = "kiosk-platform-sim";
/// The format of the ops. 2: submissions carry `application_number`; files of another format
/// are refused with [`JournalError::OtherVersion`].
const VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Header {
    journal: String,
    version: u32,
    epoch: Timestamp,
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {path} is not a platform simulator state file")]
    NotAJournal { path: PathBuf },
    #[error(
        "state file {path} has format {version} of another simulator version (this one reads {VERSION}); delete it to start afresh"
    )]
    OtherVersion { path: PathBuf, version: u32 },
    #[error("state file {path}: line {line} cannot be read")]
    BadLine { path: PathBuf, line: usize },
}

pub struct Journal {
    path: PathBuf,
    out: BufWriter<File>,
}

/// What was in the file when it was opened.
pub struct Replay {
    pub epoch: Timestamp,
    pub ops: Vec<Op>,
}

impl Journal {
    /// Opens (or creates, with `new_epoch`) the state file and reads back its ops. A last
    /// line cut short by a kill is dropped.
    pub fn open(path: &Path, new_epoch: Timestamp) -> Result<(Journal, Replay), JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let mut reader = BufReader::new(&file);
        let mut line = String::new();
        let mut good_len: u64 = 0;
        let mut epoch = None;
        let mut ops = Vec::new();
        let mut number = 0usize;
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(io)?;
            if n == 0 {
                break;
            }
            number += 1;
            let complete = line.ends_with('\n');
            if epoch.is_none() {
                match serde_json::from_str::<Header>(line.trim_end()) {
                    Ok(h) if h.journal == MAGIC && h.version == VERSION && complete => {
                        epoch = Some(h.epoch);
                    }
                    Ok(h) if h.journal == MAGIC && complete => {
                        return Err(JournalError::OtherVersion {
                            path: path.to_owned(),
                            version: h.version,
                        });
                    }
                    _ if !complete => break,
                    _ => {
                        return Err(JournalError::NotAJournal {
                            path: path.to_owned(),
                        });
                    }
                }
            } else {
                match serde_json::from_str::<Op>(line.trim_end()) {
                    Ok(op) if complete => ops.push(op),
                    // A torn last line: the op was never applied nor answered.
                    _ if !complete => break,
                    _ => {
                        return Err(JournalError::BadLine {
                            path: path.to_owned(),
                            line: number,
                        });
                    }
                }
            }
            good_len += u64::try_from(n).unwrap_or(0);
        }
        drop(reader);
        file.set_len(good_len).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let mut journal = Journal {
            path: path.to_owned(),
            out: BufWriter::new(file),
        };
        let epoch = if let Some(e) = epoch {
            e
        } else {
            let header = Header {
                journal: MAGIC.to_owned(),
                version: VERSION,
                epoch: new_epoch,
            };
            journal.write_line(&header).map_err(io)?;
            new_epoch
        };
        Ok((journal, Replay { epoch, ops }))
    }

    fn write_line<T: Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Appends one op and hands it to the OS.
    pub fn append(&mut self, op: &Op) -> std::io::Result<()> {
        self.write_line(op)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
