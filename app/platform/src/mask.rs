//! Masking and hashing of personal data, so that names, ID numbers and phone numbers never
//! reach a log line, an SMS or a `Debug` output in clear.

use sha2::{Digest, Sha256};

/// Masks a name: the first and last characters stay, the rest become `*`
/// (`王测试` → `王*试`, `李四` → `李*`, `韦龘𠮷` → `韦*𠮷`). Counts characters, not bytes.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.as_slice() {
        [] => String::new(),
        [only] => format!("{only}*"),
        [first, second] => {
            let _ = second;
            format!("{first}*")
        }
        [first, middle @ .., last] => {
            let mut out = String::with_capacity(name.len());
            out.push(*first);
            out.extend(std::iter::repeat_n('*', middle.len()));
            out.push(*last);
            out
        }
    }
}

/// Masks an ID number: the first 4 and last 4 characters stay (DESIGN.md §4). Numbers of
/// 8 characters or fewer are masked whole.
pub fn mask_id_number(id: &str) -> String {
    keep_ends(id.trim(), 4, 4)
}

/// Masks a phone number: the first 3 and last 4 digits stay (`138****0000`).
pub fn mask_phone(phone: &str) -> String {
    keep_ends(phone.trim(), 3, 4)
}

fn keep_ends(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(text.len());
    out.extend(chars.iter().take(head));
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(chars.iter().skip(chars.len() - tail));
    out
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The hash of a resident's query code as the platform stores it: lower-case hex SHA-256 of
/// the code's UTF-8 bytes with surrounding white space removed. The kiosk sends only this
/// hash with an application; the resident types the code itself when asking for progress.
pub fn query_code_hash(code: &str) -> String {
    sha256_hex(code.trim().as_bytes())
}

/// The hash of an ID number as the platform hands it out for matching (locker pickup by ID
/// card): lower-case hex SHA-256 of the number upper-cased with white space removed.
pub fn id_number_hash(id_number: &str) -> String {
    sha256_hex(id_number.trim().to_uppercase().as_bytes())
}

/// True when `text` is 64 lower- or upper-case hex digits (a SHA-256 in hex).
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_first_and_last_character() {
        assert_eq!(mask_name("王测试"), "王*试");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("韦龘𠮷"), "韦*𠮷");
        assert_eq!(mask_name("巴特尔测试"), "巴***试");
        assert_eq!(mask_name("王"), "王*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn id_numbers_and_phones_keep_their_ends() {
        assert_eq!(mask_id_number("360426199101010071"), "3604**********0071");
        assert_eq!(mask_id_number("1234"), "****");
        assert_eq!(mask_phone("13800000000"), "138****0000");
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(
            query_code_hash(" 123456 "),
            "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"
        );
        assert_eq!(
            id_number_hash("11010519491231002x"),
            id_number_hash("11010519491231002X")
        );
        assert!(is_sha256_hex(&query_code_hash("x")));
        assert!(!is_sha256_hex("abc"));
    }
}
