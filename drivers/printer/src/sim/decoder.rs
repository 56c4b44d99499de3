//! Decoder for the ESC/POS subset a kiosk printer receives, as the simulated printer reads
//! its receive buffer: one command at a time from the front of a byte slice. Pure, never
//! panics, always makes progress (every decoded op consumes at least one byte), and says
//! "need more" when a command is not complete yet.
//!
//! Recognised: `ESC @ a E ! - d J 2 3 t M` (and the lengths of other common ESC commands),
//! `GS ! V ( k` (QR functions 165/167/169/180/181 and the length of any other
//! `GS ( x`), `GS v 0`, `GS r`, `GS a`, `FS & .` (and lengths of other FS commands),
//! two-byte GB18030 text in Chinese mode, printable ASCII, `LF`, `CR`.

/// How a `GS V` cut was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutKind {
    Full,
    Partial,
}

/// One decoded command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    Init,
    Align(u8),
    Bold(bool),
    /// `GS B n`: white on black.
    Reverse(bool),
    /// `GS !`: width and height multipliers, 1..=8.
    Size {
        w: u8,
        h: u8,
    },
    /// `ESC !`: legacy print mode bits (bold 0x08, double height 0x10, double width 0x20).
    PrintMode(u8),
    ChineseMode(bool),
    Char(char),
    /// Bytes the printer cannot print as characters (four-byte GB18030 on a two-byte
    /// printer, high bytes outside Chinese mode, broken pairs): printed as junk.
    Junk,
    LineFeed,
    CarriageReturn,
    FeedLines(u8),
    FeedDots(u8),
    /// `ESC 2` (None: default) or `ESC 3 n`.
    LineSpacing(Option<u8>),
    QrModel(u8),
    QrModuleSize(u8),
    QrErrorCorrection(u8),
    QrStore(&'a [u8]),
    QrPrint,
    Raster {
        mode: u8,
        width_bytes: u16,
        height: u16,
        data: &'a [u8],
    },
    Cut(CutKind),
    /// `GS r n`: answered in order, after everything received before it.
    TransmitStatus(u8),
    /// `GS a n`: Automatic Status Back enable bits.
    AsbEnable(u8),
    /// A real-time command that reached the buffer (the receive path normally takes them).
    RealTime,
    /// Recognised and skipped, or unknown; the byte count is in the decode result.
    Ignored,
}

/// The result of decoding at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A command and how many bytes it took (always at least 1).
    Op(Op<'a>, usize),
    /// The command at the front is not complete yet.
    NeedMore,
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;

fn at(buf: &[u8], i: usize) -> Option<u8> {
    buf.get(i).copied()
}

fn op(op: Op<'_>, len: usize) -> Decoded<'_> {
    Decoded::Op(op, len.max(1))
}

/// Needs `len` bytes for a fixed-length command.
fn fixed<'a>(buf: &'a [u8], len: usize, make: impl FnOnce(&'a [u8]) -> Op<'a>) -> Decoded<'a> {
    match buf.get(..len) {
        Some(bytes) => op(make(bytes), len),
        None => Decoded::NeedMore,
    }
}

fn arg(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(0)
}

/// Decodes the command at the front of `buf`. `chinese` is whether `FS &` is in effect.
pub fn decode(buf: &[u8], chinese: bool) -> Decoded<'_> {
    let Some(first) = at(buf, 0) else {
        return Decoded::NeedMore;
    };
    match first {
        0x0A => op(Op::LineFeed, 1),
        0x0D => op(Op::CarriageReturn, 1),
        ESC => decode_esc(buf),
        GS => decode_gs(buf),
        FS => decode_fs(buf),
        DLE => decode_dle(buf),
        0x20..=0x7E => op(Op::Char(char::from(first)), 1),
        0x00..=0x1F | 0x7F => op(Op::Ignored, 1),
        0x80..=0xFF => decode_high(buf, chinese),
    }
}

fn decode_high(buf: &[u8], chinese: bool) -> Decoded<'_> {
    let first = arg(buf, 0);
    if !chinese || !(0x81..=0xFE).contains(&first) {
        return op(Op::Junk, 1);
    }
    let Some(second) = at(buf, 1) else {
        return Decoded::NeedMore;
    };
    match second {
        0x40..=0x7E | 0x80..=0xFE => {
            let pair = [first, second];
            let (text, _, had_errors) = encoding_rs::GB18030.decode(&pair);
            match text.chars().next() {
                Some(c) if !had_errors && text.chars().count() == 1 => op(Op::Char(c), 2),
                _ => op(Op::Junk, 2),
            }
        }
        // A four-byte sequence: a printer with a two-byte font prints junk for it.
        0x30..=0x39 => {
            if buf.len() < 4 {
                Decoded::NeedMore
            } else {
                op(Op::Junk, 4)
            }
        }
        _ => op(Op::Junk, 1),
    }
}

fn decode_esc(buf: &[u8]) -> Decoded<'_> {
    let Some(cmd) = at(buf, 1) else {
        return Decoded::NeedMore;
    };
    match cmd {
        b'@' => op(Op::Init, 2),
        b'2' => op(Op::LineSpacing(None), 2),
        b'a' => fixed(buf, 3, |b| Op::Align(arg(b, 2))),
        b'E' => fixed(buf, 3, |b| Op::Bold(arg(b, 2) & 1 == 1)),
        b'!' => fixed(buf, 3, |b| Op::PrintMode(arg(b, 2))),
        b'd' => fixed(buf, 3, |b| Op::FeedLines(arg(b, 2))),
        b'J' => fixed(buf, 3, |b| Op::FeedDots(arg(b, 2))),
        b'3' => fixed(buf, 3, |b| Op::LineSpacing(Some(arg(b, 2)))),
        b'-' | b'G' | b't' | b'M' | b'R' | b'V' | b'{' | b' ' | b'=' | b'U' | b'r' | b'S'
        | b'T' | b'%' | b'?' | b'K' | b'L' | b'e' => fixed(buf, 3, |_| Op::Ignored),
        b'$' | b'\\' => fixed(buf, 4, |_| Op::Ignored),
        b'c' => fixed(buf, 4, |_| Op::Ignored),
        b'p' => fixed(buf, 5, |_| Op::Ignored),
        b'D' => {
            // Tab positions: up to 32 bytes ended by NUL.
            match buf.iter().skip(2).take(33).position(|&b| b == 0) {
                Some(i) => op(Op::Ignored, 2 + i + 1),
                None if buf.len() >= 2 + 33 => op(Op::Ignored, 2 + 33),
                None => Decoded::NeedMore,
            }
        }
        b'*' => {
            // ESC * m nL nH d1..dk: k = n (m = 0, 1) or 3n (m = 32, 33)
            let (Some(m), Some(nl), Some(nh)) = (at(buf, 2), at(buf, 3), at(buf, 4)) else {
                return Decoded::NeedMore;
            };
            let n = usize::from(nl) + 256 * usize::from(nh);
            let k = if m >= 32 { 3 * n } else { n };
            if buf.len() >= 5 + k {
                op(Op::Ignored, 5 + k)
            } else {
                Decoded::NeedMore
            }
        }
        _ => op(Op::Ignored, 2),
    }
}

fn decode_gs(buf: &[u8]) -> Decoded<'_> {
    let Some(cmd) = at(buf, 1) else {
        return Decoded::NeedMore;
    };
    match cmd {
        b'!' => fixed(buf, 3, |b| {
            let n = arg(b, 2);
            Op::Size {
                w: ((n >> 4) & 0x07) + 1,
                h: (n & 0x07) + 1,
            }
        }),
        b'V' => {
            let Some(m) = at(buf, 2) else {
                return Decoded::NeedMore;
            };
            match m {
                0 | 48 => op(Op::Cut(CutKind::Full), 3),
                1 | 49 => op(Op::Cut(CutKind::Partial), 3),
                65 | 97 | 103 => fixed(buf, 4, |_| Op::Cut(CutKind::Full)),
                66 | 98 | 104 => fixed(buf, 4, |_| Op::Cut(CutKind::Partial)),
                _ => op(Op::Ignored, 3),
            }
        }
        b'r' => fixed(buf, 3, |b| Op::TransmitStatus(arg(b, 2))),
        b'a' => fixed(buf, 3, |b| Op::AsbEnable(arg(b, 2))),
        b'(' => decode_gs_paren(buf),
        b'v' => {
            // GS v 0 m xL xH yL yH d1..dk
            let Some(header) = buf.get(..8) else {
                return Decoded::NeedMore;
            };
            if arg(header, 2) != b'0' {
                return op(Op::Ignored, 3);
            }
            let width_bytes = u16::from_le_bytes([arg(header, 4), arg(header, 5)]);
            let height = u16::from_le_bytes([arg(header, 6), arg(header, 7)]);
            let k = usize::from(width_bytes) * usize::from(height);
            match buf.get(8..8 + k) {
                Some(data) => op(
                    Op::Raster {
                        mode: arg(header, 3),
                        width_bytes,
                        height,
                        data,
                    },
                    8 + k,
                ),
                None => Decoded::NeedMore,
            }
        }
        b'B' => fixed(buf, 3, |b| Op::Reverse(arg(b, 2) & 1 == 1)),
        b'h' | b'w' | b'H' | b'f' | b'b' | b'I' | b'/' | b'E' | b'T' | b'C' | b'g' | b'z' => {
            fixed(buf, 3, |_| Op::Ignored)
        }
        b'L' | b'W' | b'P' | b'$' | b'\\' | b'^' => fixed(buf, 4, |_| Op::Ignored),
        b'*' => {
            let (Some(x), Some(y)) = (at(buf, 2), at(buf, 3)) else {
                return Decoded::NeedMore;
            };
            let k = usize::from(x) * usize::from(y) * 8;
            if buf.len() >= 4 + k {
                op(Op::Ignored, 4 + k)
            } else {
                Decoded::NeedMore
            }
        }
        b'k' => decode_barcode(buf),
        _ => op(Op::Ignored, 2),
    }
}

fn decode_barcode(buf: &[u8]) -> Decoded<'_> {
    let Some(m) = at(buf, 2) else {
        return Decoded::NeedMore;
    };
    if m <= 6 {
        // NUL-terminated data
        match buf.iter().skip(3).position(|&b| b == 0) {
            Some(i) => op(Op::Ignored, 3 + i + 1),
            None if buf.len() > 3 + 255 => op(Op::Ignored, 3),
            None => Decoded::NeedMore,
        }
    } else {
        let Some(n) = at(buf, 3) else {
            return Decoded::NeedMore;
        };
        let len = 4 + usize::from(n);
        if buf.len() >= len {
            op(Op::Ignored, len)
        } else {
            Decoded::NeedMore
        }
    }
}

fn decode_gs_paren(buf: &[u8]) -> Decoded<'_> {
    let (Some(kind), Some(pl), Some(ph)) = (at(buf, 2), at(buf, 3), at(buf, 4)) else {
        return Decoded::NeedMore;
    };
    let p = usize::from(pl) + 256 * usize::from(ph);
    let len = 5 + p;
    let Some(body) = buf.get(5..len) else {
        return Decoded::NeedMore;
    };
    if kind != b'k' {
        return op(Op::Ignored, len);
    }
    // GS ( k pL pH cn fn [params]; cn 49 = QR code.
    let (Some(&cn), Some(&func)) = (body.first(), body.get(1)) else {
        return op(Op::Ignored, len);
    };
    if cn != 49 {
        return op(Op::Ignored, len);
    }
    let param = |i: usize| body.get(i).copied().unwrap_or(0);
    let decoded = match func {
        65 => Op::QrModel(param(2)),
        67 => Op::QrModuleSize(param(2)),
        69 => Op::QrErrorCorrection(param(2)),
        80 => Op::QrStore(body.get(3..).unwrap_or(&[])),
        81 => Op::QrPrint,
        _ => Op::Ignored,
    };
    op(decoded, len)
}

fn decode_fs(buf: &[u8]) -> Decoded<'_> {
    let Some(cmd) = at(buf, 1) else {
        return Decoded::NeedMore;
    };
    match cmd {
        b'&' => op(Op::ChineseMode(true), 2),
        b'.' => op(Op::ChineseMode(false), 2),
        b'!' | b'-' | b'W' | b'C' => fixed(buf, 3, |_| Op::Ignored),
        b'S' | b'p' => fixed(buf, 4, |_| Op::Ignored),
        b'2' => fixed(buf, 4 + 72, |_| Op::Ignored),
        _ => op(Op::Ignored, 2),
    }
}

fn decode_dle(buf: &[u8]) -> Decoded<'_> {
    let Some(cmd) = at(buf, 1) else {
        return Decoded::NeedMore;
    };
    match cmd {
        0x04 | 0x05 => fixed(buf, 3, |_| Op::RealTime),
        0x14 => {
            let Some(func) = at(buf, 2) else {
                return Decoded::NeedMore;
            };
            let len = if func == 8 { 10 } else { 5 };
            fixed(buf, len, |_| Op::RealTime)
        }
        _ => op(Op::Ignored, 1),
    }
}

/// A readable listing of an ESC/POS stream: one command per line, its bytes in hex and
/// what it means; runs of text are shown as text. Used for golden files and by technicians.
/// Every byte of the input appears in the hex column, so the listing is byte-exact.
pub fn listing(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut rest = bytes;
    let mut chinese = false;
    let mut text_hex = String::new();
    let mut text = String::new();
    let flush_text = |out: &mut String, text_hex: &mut String, text: &mut String| {
        if !text.is_empty() {
            let _ = writeln!(out, "{} # \"{}\"", text_hex.trim_end(), text);
            text_hex.clear();
            text.clear();
        }
    };
    while let Decoded::Op(op, n) = decode(rest, chinese) {
        let (taken, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        let hex = taken
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ");
        match op {
            Op::Char(c) => {
                text_hex.push_str(&hex);
                text_hex.push(' ');
                text.push(c);
                continue;
            }
            Op::ChineseMode(on) => chinese = on,
            _ => {}
        }
        flush_text(&mut out, &mut text_hex, &mut text);
        let meaning = match op {
            Op::QrStore(data) => format!("QrStore({:?})", String::from_utf8_lossy(data)),
            Op::Raster {
                mode,
                width_bytes,
                height,
                ..
            } => {
                format!("Raster {{ mode: {mode}, width_bytes: {width_bytes}, height: {height} }}")
            }
            other => format!("{other:?}"),
        };
        let _ = writeln!(out, "{hex} # {meaning}");
    }
    flush_text(&mut out, &mut text_hex, &mut text);
    if !rest.is_empty() {
        let hex = rest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(out, "{hex} # (incomplete)");
    }
    out
}

/// The bytes of a [`listing`]: every hex pair before a `#` on each line.
pub fn listing_bytes(listing: &str) -> Vec<u8> {
    listing
        .lines()
        .flat_map(|line| line.split('#').next().unwrap_or("").split_whitespace())
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(mut buf: &[u8], chinese: bool) -> Vec<Op<'_>> {
        let mut out = Vec::new();
        while let Decoded::Op(o, n) = decode(buf, chinese) {
            out.push(o);
            buf = &buf[n..];
        }
        out
    }

    #[test]
    fn decodes_the_reference_slip() {
        let bytes: Vec<u8> = [
            &[0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1D, 0x21, 0x11][..],
            &[
                0xB0, 0xEC, 0xCA, 0xC2, 0xBB, 0xD8, 0xD6, 0xB4, 0x1B, 0x64, 0x01,
            ],
            &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31],
            &[
                0x1D, 0x28, 0x6B, 0x06, 0x00, 0x31, 0x50, 0x30, b'a', b'b', b'c',
            ],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30],
            &[0x1D, 0x56, 0x41, 0x00],
        ]
        .concat();
        let ops = all(&bytes, false);
        assert_eq!(ops[0], Op::Init);
        assert_eq!(ops[1], Op::ChineseMode(true));
        assert_eq!(ops[2], Op::Align(1));
        assert_eq!(ops[3], Op::Size { w: 2, h: 2 });
        // Chinese mode was switched on by the stream itself, but `all` decodes with the
        // flag given: without it the text is junk.
        assert_eq!(ops[4], Op::Junk);
        let ops = all(&bytes, true);
        let text: String = ops
            .iter()
            .filter_map(|o| if let Op::Char(c) = o { Some(*c) } else { None })
            .collect();
        assert_eq!(text, "办事回执");
        assert!(ops.contains(&Op::QrModel(50)));
        assert!(ops.contains(&Op::QrModuleSize(6)));
        assert!(ops.contains(&Op::QrErrorCorrection(49)));
        assert!(ops.contains(&Op::QrStore(b"abc")));
        assert!(ops.contains(&Op::QrPrint));
        assert_eq!(ops.last(), Some(&Op::Cut(CutKind::Full)));
    }

    #[test]
    fn four_byte_gb18030_is_junk_on_a_two_byte_printer() {
        assert_eq!(
            decode(&[0x81, 0x30, 0x84, 0x36], true),
            Decoded::Op(Op::Junk, 4)
        );
        assert_eq!(decode(&[0x81, 0x30], true), Decoded::NeedMore);
        assert_eq!(decode(&[0xA3, 0xA4], true), Decoded::Op(Op::Char('￥'), 2));
    }

    #[test]
    fn raster_and_cuts_and_incomplete_commands() {
        let mut raster = vec![0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x01, 0x00, 0xFF];
        assert_eq!(decode(&raster, true), Decoded::NeedMore);
        raster.push(0x80);
        assert_eq!(
            decode(&raster, true),
            Decoded::Op(
                Op::Raster {
                    mode: 0,
                    width_bytes: 2,
                    height: 1,
                    data: &[0xFF, 0x80]
                },
                10
            )
        );
        assert_eq!(
            decode(&[0x1D, 0x56, 0x01], true),
            Decoded::Op(Op::Cut(CutKind::Partial), 3)
        );
        assert_eq!(decode(&[0x1D, 0x56, 0x42], true), Decoded::NeedMore);
        assert_eq!(decode(&[0x1D], true), Decoded::NeedMore);
        assert_eq!(decode(&[], true), Decoded::NeedMore);
    }

    #[test]
    fn listing_round_trips() {
        let bytes = [
            0x1B, 0x40, 0x1C, 0x26, 0xB0, 0xEC, b'A', 0x1B, 0x64, 0x01, 0x1D, 0x56,
        ];
        let l = listing(&bytes);
        assert!(l.contains("\"办A\""), "{l}");
        assert!(l.contains("(incomplete)"));
        assert_eq!(listing_bytes(&l), bytes);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_always_progresses(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), chinese: bool) {
            let mut buf = &bytes[..];
            while let Decoded::Op(_, n) = decode(buf, chinese) {
                proptest::prop_assert!(n >= 1 && n <= buf.len());
                buf = &buf[n..];
            }
        }
    }
}
