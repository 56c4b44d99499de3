//! Pseudo-terminal pairs: a simulator holds the master end, the driver opens the slave by
//! path, so the production `open()` code runs in tests and in `kiosk sim … --link PATH`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serialport::{SerialPort, TTYPort};

use crate::link::LinkError;
use crate::serial::SerialLink;

/// `TTYPort::pair()` is not thread-safe (serialport's own tests say so), and tests run in
/// parallel threads.
static PAIR_LOCK: Mutex<()> = Mutex::new(());

/// Keeps the slave side of a pty open (so the master never sees a hang-up while no driver
/// is connected) and removes the symlink when dropped.
pub struct PtyGuard {
    _slave: TTYPort,
    slave_path: PathBuf,
    link_path: Option<PathBuf>,
}

impl PtyGuard {
    /// The `/dev/pts/N` path a driver opens.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// The symlink that points at the slave, if one was asked for.
    pub fn link_path(&self) -> Option<&Path> {
        self.link_path.as_deref()
    }

    /// The path a driver should open: the symlink when there is one.
    pub fn device_path(&self) -> &Path {
        self.link_path.as_deref().unwrap_or(&self.slave_path)
    }
}

impl Drop for PtyGuard {
    fn drop(&mut self) {
        if let Some(link) = &self.link_path
            && std::fs::read_link(link).is_ok_and(|target| target == self.slave_path)
        {
            let _ = std::fs::remove_file(link);
        }
    }
}

/// Creates a pty pair. Returns the master end as a link for the simulator, and a guard for
/// the slave end. With `link`, a symlink at that path points at the slave (an existing
/// symlink there is replaced, so a simulator can "replug" under the same name).
pub fn open_pair(link: Option<&Path>) -> Result<(SerialLink, PtyGuard), LinkError> {
    let (master, slave) = {
        let _guard = PAIR_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        TTYPort::pair().map_err(|e| LinkError::Open {
            port: "pty".into(),
            reason: e.to_string(),
        })?
    };
    let slave_path = slave
        .name()
        .map(PathBuf::from)
        .ok_or_else(|| LinkError::Open {
            port: "pty".into(),
            reason: "slave has no name".into(),
        })?;
    if let Some(link) = link {
        replace_symlink(&slave_path, link).map_err(|e| LinkError::Open {
            port: link.display().to_string(),
            reason: format!("cannot create symlink: {e}"),
        })?;
    }
    let master_link = SerialLink::from_port(Box::new(master), PathBuf::from("pty-master"));
    Ok((
        master_link,
        PtyGuard {
            _slave: slave,
            slave_path,
            link_path: link.map(Path::to_owned),
        },
    ))
}

fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(link) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::remove_file(link)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a symlink is in the way",
            ));
        }
        Err(_) => {}
    }
    std::os::unix::fs::symlink(target, link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{Link, recv_exact};
    use std::time::{Duration, Instant};

    #[test]
    fn every_byte_value_crosses_a_pty_opened_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let link_path = dir.path().join("ttyTEST");
        let (mut master, guard) = open_pair(Some(&link_path)).unwrap();
        let mut driver = SerialLink::open(guard.device_path(), 115_200).unwrap();
        let all: Vec<u8> = (0..=255).collect();
        driver.send(&all).unwrap();
        let mut got = vec![0u8; 256];
        recv_exact(
            &mut master,
            &mut got,
            Instant::now() + Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(got, all);
        master.send(&all).unwrap();
        recv_exact(
            &mut driver,
            &mut got,
            Instant::now() + Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(got, all);
        drop(guard);
        assert!(
            std::fs::symlink_metadata(&link_path).is_err(),
            "symlink removed"
        );
    }

    #[test]
    fn closing_the_master_disconnects_the_driver() {
        let (master, guard) = open_pair(None).unwrap();
        let mut driver = SerialLink::open(guard.device_path(), 9600).unwrap();
        drop(master);
        drop(guard);
        let mut buf = [0u8; 4];
        let err = driver
            .recv(&mut buf, Duration::from_millis(200))
            .unwrap_err();
        assert!(err.is_disconnect(), "{err}");
    }
}
