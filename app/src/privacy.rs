//! Keeping personal data out of places it must not reach: logs, error messages, exported
//! reports. Pattern-based, so it is a last line of defence; the first is that code never
//! formats personal fields into messages (identity types mask themselves in `Debug`).

/// Replaces anything shaped like a resident ID number (15 to 18 digits, the last possibly `X`)
/// with a placeholder. Used on every log line and every config/catalogue error message.
pub fn redact(text: &str) -> String {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], 'X' | 'x')) {
            i += 1;
        }
        if i > start {
            let run = &chars[start..i];
            let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
            if run.len() >= 15 && digits + 1 >= run.len() {
                out.push_str("[ID number removed]");
            } else {
                out.extend(run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_id_numbers_and_keeps_other_numbers() {
        assert_eq!(
            redact("id 360426199101010071 read"),
            "id [ID number removed] read"
        );
        assert_eq!(redact("11010519491231002X"), "[ID number removed]");
        assert_eq!(
            redact("old 15-digit 360426910101007"),
            "old 15-digit [ID number removed]"
        );
        assert_eq!(
            redact("port 9100, 4 days, 2026-02-15"),
            "port 9100, 4 days, 2026-02-15"
        );
        assert_eq!(redact("no digits"), "no digits");
        assert_eq!(redact("A12X"), "A12X");
    }
}
