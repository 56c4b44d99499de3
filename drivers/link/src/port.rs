//! Device ports, written one way everywhere (configuration files and the command line):
//! `/dev/ttyUSB0`, `serial:/dev/ttyUSB0@115200`, `usb:VID:PID` (hex) and `tcp:HOST:PORT`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a device is attached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Port {
    /// A serial device; `baud` is `None` when the device's default applies.
    Serial { path: PathBuf, baud: Option<u32> },
    /// A USB device found by vendor and product id.
    Usb { vid: u16, pid: u16 },
    /// A network device (e.g. an ESC/POS printer on port 9100).
    Tcp { host: String, port: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad port {text:?}: {reason} (expected /dev/ttyX, serial:/dev/ttyX@BAUD, usb:VID:PID or tcp:HOST:PORT)"
)]
pub struct PortError {
    pub text: String,
    pub reason: &'static str,
}

impl Port {
    /// The baud rate to open a serial port with, given the device class default.
    pub fn baud_or(&self, default: u32) -> u32 {
        match self {
            Port::Serial { baud: Some(b), .. } => *b,
            _ => default,
        }
    }
}

impl FromStr for Port {
    type Err = PortError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| PortError {
            text: text.to_owned(),
            reason,
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(err("empty"));
        }
        if let Some(rest) = text.strip_prefix("serial:") {
            let (path, baud) = match rest.rsplit_once('@') {
                Some((path, baud)) => {
                    let baud: u32 = baud.parse().map_err(|_| err("baud rate is not a number"))?;
                    if baud == 0 {
                        return Err(err("baud rate must be above zero"));
                    }
                    (path, Some(baud))
                }
                None => (rest, None),
            };
            if path.is_empty() {
                return Err(err("serial port path is empty"));
            }
            return Ok(Port::Serial {
                path: PathBuf::from(path),
                baud,
            });
        }
        if let Some(rest) = text.strip_prefix("usb:") {
            let (vid, pid) = rest
                .split_once(':')
                .ok_or_else(|| err("usb needs VID:PID"))?;
            let hex = |s: &str| {
                if s.is_empty() || s.len() > 4 {
                    return Err(err("usb ids are 1 to 4 hex digits"));
                }
                u16::from_str_radix(s, 16).map_err(|_| err("usb ids are hex numbers"))
            };
            return Ok(Port::Usb {
                vid: hex(vid)?,
                pid: hex(pid)?,
            });
        }
        if let Some(rest) = text.strip_prefix("tcp:") {
            let (host, port) = rest
                .rsplit_once(':')
                .ok_or_else(|| err("tcp needs HOST:PORT"))?;
            if host.is_empty() {
                return Err(err("tcp host is empty"));
            }
            let port: u16 = port
                .parse()
                .map_err(|_| err("tcp port is not a number 0-65535"))?;
            return Ok(Port::Tcp {
                host: host.trim_matches(['[', ']']).to_owned(),
                port,
            });
        }
        if text.starts_with('/') {
            return Ok(Port::Serial {
                path: PathBuf::from(text),
                baud: None,
            });
        }
        Err(err("unknown kind of port"))
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Serial { path, baud: None } => write!(f, "{}", path.display()),
            Port::Serial {
                path,
                baud: Some(b),
            } => write!(f, "serial:{}@{b}", path.display()),
            Port::Usb { vid, pid } => write!(f, "usb:{vid:04X}:{pid:04X}"),
            Port::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Port::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

impl serde::Serialize for Port {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Port {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            "/dev/ttyUSB0".parse::<Port>().unwrap(),
            Port::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: None
            }
        );
        assert_eq!(
            "serial:/dev/ttyS1@9600".parse::<Port>().unwrap(),
            Port::Serial {
                path: "/dev/ttyS1".into(),
                baud: Some(9600)
            }
        );
        assert_eq!(
            "usb:0400:C35A".parse::<Port>().unwrap(),
            Port::Usb {
                vid: 0x0400,
                pid: 0xC35A
            }
        );
        assert_eq!(
            "tcp:127.0.0.1:9100".parse::<Port>().unwrap(),
            Port::Tcp {
                host: "127.0.0.1".into(),
                port: 9100
            }
        );
    }

    #[test]
    fn round_trips_through_display() {
        for text in [
            "/dev/ttyUSB0",
            "serial:/dev/ttyS1@9600",
            "usb:0400:C35A",
            "tcp:printer.local:9100",
        ] {
            assert_eq!(text.parse::<Port>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_ports_with_a_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("serial:/dev/ttyS0@fast", "baud rate is not a number"),
            ("serial:/dev/ttyS0@0", "baud rate must be above zero"),
            ("usb:0400", "usb needs VID:PID"),
            ("usb:04000:1", "usb ids are 1 to 4 hex digits"),
            ("usb:zz:1", "usb ids are hex numbers"),
            ("tcp:host", "tcp needs HOST:PORT"),
            ("tcp:host:99999", "tcp port is not a number 0-65535"),
            ("COM3", "unknown kind of port"),
        ] {
            assert_eq!(text.parse::<Port>().unwrap_err().reason, reason, "{text}");
        }
    }
}
