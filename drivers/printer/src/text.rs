//! Text as a Chinese ESC/POS printer sees it: GB18030 bytes, widths in display columns
//! (a one-byte character is one column, a two-byte character two), line wrapping, and the
//! characters that need a raster image because they are outside GB18030's two-byte area.

use encoding_rs::GB18030;

/// How many bytes `c` takes in GB18030: 1 (ASCII), 2 (the area printer fonts cover) or 4.
pub fn gb18030_len(c: char) -> usize {
    if c.is_ascii() {
        return 1;
    }
    // GBK, and so GB18030's two-byte area, holds all of CJK Unified Ideographs U+4E00–U+9FA5.
    if ('\u{4E00}'..='\u{9FA5}').contains(&c) {
        return 2;
    }
    let mut utf8 = [0u8; 4];
    let s = c.encode_utf8(&mut utf8);
    let (bytes, _, _) = GB18030.encode(s);
    bytes.len()
}

/// True when the printer's font cannot draw `c` from its code: it must go as a raster image.
pub fn needs_raster(c: char) -> bool {
    gb18030_len(c) > 2
}

/// Display columns `c` occupies on the printer: 1 for ASCII, 2 for everything else (a
/// four-byte character is drawn as a raster image one Chinese cell wide).
///
/// This is the printer's rule, not Unicode's East Asian Width: `·` (U+00B7) is `A1 A4` in
/// GB18030 and prints full width.
pub fn columns(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Display width of a string in columns.
pub fn width(s: &str) -> usize {
    s.chars().map(columns).sum()
}

/// Makes input text safe and printable: control characters (which could smuggle ESC/POS
/// commands into the stream) are dropped, tabs become spaces, line breaks are kept, and the
/// half-width yen sign `¥` (four bytes in GB18030, printed as junk) becomes the full-width
/// `￥` (`A3 A4`).
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            '¥' => out.push('￥'),
            // Control characters, and Unicode format characters (zero-width joiners, bidi
            // marks) that print as junk.
            '\r'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Encodes printable text to GB18030. Callers split off raster characters first; any that
/// remain are encoded as GB18030 four-byte sequences (never dropped, never `?`).
pub fn encode(s: &str) -> Vec<u8> {
    let (bytes, _, _) = GB18030.encode(s);
    bytes.into_owned()
}

fn is_closing_punct(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '！'
            | '？'
            | '）'
            | '》'
            | '」'
            | '』'
            | '】'
            | '〕'
            | '”'
            | '’'
            | '…'
            | '·'
            | '％'
    )
}

fn is_opening_punct(c: char) -> bool {
    matches!(c, '（' | '《' | '「' | '『' | '【' | '〔' | '“' | '‘')
}

#[derive(Debug)]
struct Token<'a> {
    text: &'a str,
    width: usize,
    space: bool,
}

fn tokens(paragraph: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut iter = paragraph.char_indices().peekable();
    while let Some((start, c)) = iter.next() {
        if c == ' ' {
            out.push(Token {
                text: &paragraph[start..=start],
                width: 1,
                space: true,
            });
            continue;
        }
        if c.is_ascii() {
            // An ASCII word (numbers, codes, phone numbers, URLs) stays together.
            let mut end = start + c.len_utf8();
            while let Some(&(i, next)) = iter.peek() {
                if next.is_ascii() && next != ' ' {
                    end = i + next.len_utf8();
                    iter.next();
                } else {
                    break;
                }
            }
            let text = &paragraph[start..end];
            out.push(Token {
                text,
                width: text.len(),
                space: false,
            });
            continue;
        }
        out.push(Token {
            text: &paragraph[start..start + c.len_utf8()],
            width: 2,
            space: false,
        });
    }
    out
}

/// Splits an over-long word into pieces of at most `cols` columns.
fn split_word(word: &str, cols: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut w = 0;
    for (i, c) in word.char_indices() {
        let cw = columns(c);
        if w + cw > cols && i > start {
            pieces.push(&word[start..i]);
            start = i;
            w = 0;
        }
        w += cw;
    }
    if start < word.len() {
        pieces.push(&word[start..]);
    }
    pieces
}

/// Wraps text into lines of at most `cols` display columns. Explicit `\n` starts a new
/// line; ASCII words are not broken unless longer than a line; a closing mark (`，。）`…)
/// never starts a line and an opening one (`（《“`…) never ends one. Trailing spaces are
/// trimmed. `cols` of 0 is treated as 1.
pub fn wrap(text: &str, cols: usize) -> Vec<String> {
    let cols = cols.max(2);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line: Vec<&str> = Vec::new();
        let mut line_w = 0usize;
        let flush = |line: &mut Vec<&str>, line_w: &mut usize, lines: &mut Vec<String>| {
            let s: String = line.concat();
            lines.push(s.trim_end().to_owned());
            line.clear();
            *line_w = 0;
        };
        let toks = tokens(paragraph);
        let mut pieces: Vec<Token<'_>> = Vec::with_capacity(toks.len());
        for t in toks {
            if t.width > cols {
                for p in split_word(t.text, cols) {
                    pieces.push(Token {
                        text: p,
                        width: width(p),
                        space: false,
                    });
                }
            } else {
                pieces.push(t);
            }
        }
        let mut continuation = false;
        for tok in pieces {
            if tok.space && continuation && line.is_empty() {
                // no leading space on a continuation line
                continue;
            }
            if line_w + tok.width <= cols {
                line.push(tok.text);
                line_w += tok.width;
                continue;
            }
            continuation = true;
            if tok.space {
                flush(&mut line, &mut line_w, &mut lines);
                continue;
            }
            // Kinsoku: carry characters over so that a closing mark does not start the next
            // line and an opening mark does not end this one, when the carried text and the
            // token still fit on a line.
            let first = tok.text.chars().next().unwrap_or(' ');
            let mut carried: Vec<&str> = Vec::new();
            let mut carried_w = 0;
            let fits = |extra: usize, carried_w: usize| carried_w + extra + tok.width <= cols;
            // A number stays with the unit after it ("24小时", "4个工作日").
            let glued_number = !first.is_ascii()
                && line
                    .last()
                    .and_then(|t| t.chars().last())
                    .is_some_and(|c| c.is_ascii_alphanumeric());
            if (is_closing_punct(first) || glued_number)
                && line.len() > 1
                && line.last().is_some_and(|t| fits(width(t), carried_w))
                && let Some(last) = line.pop()
            {
                line_w = line_w.saturating_sub(width(last));
                carried_w += width(last);
                carried.push(last);
            }
            while line.len() > 1
                && line
                    .last()
                    .and_then(|t| t.chars().last())
                    .is_some_and(is_opening_punct)
                && line.last().is_some_and(|t| fits(width(t), carried_w))
            {
                if let Some(last) = line.pop() {
                    line_w = line_w.saturating_sub(width(last));
                    carried_w += width(last);
                    carried.insert(0, last);
                }
            }
            flush(&mut line, &mut line_w, &mut lines);
            for c in carried {
                line.push(c);
                line_w += width(c);
            }
            line.push(tok.text);
            line_w += tok.width;
        }
        flush(&mut line, &mut line_w, &mut lines);
    }
    lines
}

/// Pads `s` on the right with spaces to `cols` columns (no-op if already wider).
pub fn pad_right(s: &str, cols: usize) -> String {
    let w = width(s);
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_lengths_and_columns() {
        assert_eq!(gb18030_len('A'), 1);
        assert_eq!(gb18030_len('办'), 2);
        assert_eq!(gb18030_len('￥'), 2);
        assert_eq!(gb18030_len('·'), 2);
        assert_eq!(gb18030_len('¥'), 4);
        assert_eq!(gb18030_len('\u{20000}'), 4);
        // U+4DAE is one of the characters GB18030-2005 moved into the two-byte area (FE9F)
        assert_eq!(gb18030_len('䶮'), 2);
        assert_eq!(gb18030_len('㐀'), 4); // CJK Ext A: four bytes
        assert!(needs_raster('\u{20000}'));
        assert!(!needs_raster('堃'));
        assert_eq!(width("No.受理"), 7);
        assert_eq!(width("·"), 2);
    }

    #[test]
    fn encodes_like_the_reference() {
        assert_eq!(
            encode("办事回执"),
            [0xB0, 0xEC, 0xCA, 0xC2, 0xBB, 0xD8, 0xD6, 0xB4]
        );
        assert_eq!(encode("￥"), [0xA3, 0xA4]);
        assert_eq!(encode("\u{20000}"), [0x95, 0x32, 0x82, 0x36]);
    }

    #[test]
    fn sanitize_drops_controls_and_fixes_yen() {
        assert_eq!(sanitize("a\x1b@b\x1d\x56\x00c"), "a@bVc");
        assert_eq!(sanitize("¥12"), "￥12");
        assert_eq!(sanitize("x\ty\r\nz"), "x y\nz");
        assert_eq!(sanitize("a\u{200B}b"), "ab");
    }

    #[test]
    fn wraps_by_columns_and_keeps_ascii_words() {
        let lines = wrap("申请编号 ZJ2024050600123 已受理", 16);
        for l in &lines {
            assert!(width(l) <= 16, "{l:?}");
        }
        assert!(lines.iter().any(|l| l.contains("ZJ2024050600123")));
        let lines = wrap("一二三四五六七八九十", 8);
        assert_eq!(lines, vec!["一二三四", "五六七八", "九十"]);
    }

    #[test]
    fn closing_marks_never_start_a_line() {
        let lines = wrap("一二三四，五六", 8);
        assert_eq!(lines, vec!["一二三", "四，五六"]);
        let lines = wrap("一二三（四五", 8);
        assert_eq!(lines, vec!["一二三", "（四五"]);
    }

    #[test]
    fn numbers_stay_with_their_unit() {
        let lines = wrap("一二三四24小时", 10);
        assert_eq!(lines, vec!["一二三四", "24小时"]);
    }

    #[test]
    fn breaks_words_longer_than_a_line_and_keeps_empty_paragraphs() {
        let lines = wrap("https://example.invalid/very/long/path", 10);
        assert!(lines.iter().all(|l| width(l) <= 10));
        assert_eq!(lines.concat(), "https://example.invalid/very/long/path");
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
    }

    proptest::proptest! {
        #[test]
        fn wrap_never_exceeds_the_width(s in "[a-z0-9 一二三，。（）]{0,80}", cols in 2usize..50) {
            for line in wrap(&s, cols) {
                proptest::prop_assert!(width(&line) <= cols);
            }
        }
    }
}
