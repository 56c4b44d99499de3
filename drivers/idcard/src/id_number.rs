//! Citizen identity numbers (公民身份号码, GB 11643-1999) and masking for display.
//!
//! This module depends on nothing but `std`, so that configuration, catalogue and UI code can
//! use it without pulling in the reader driver.
//!
//! An 18-character number is: a 6-digit address code, the birth date `YYYYMMDD`, a 3-digit
//! sequence (odd = male, even = female) and one check character computed with ISO 7064
//! MOD 11-2 (reference A.7). The same structure and check digit are used by the
//! Hong Kong/Macau/Taiwan residence permits (address codes 810000/820000/830000) and by the
//! 2023 foreign permanent resident card (first digit `9`).
//!
//! ```
//! use kiosk_idcard::id_number;
//! assert!(id_number::is_valid("360426199101010071"));
//! assert_eq!(id_number::mask("360426199101010071"), "3604**********0071");
//! assert_eq!(id_number::normalize("11010519491231002x").unwrap(), "11010519491231002X");
//! ```

use std::fmt;

/// Number of characters in a citizen identity number.
pub const LEN: usize = 18;

/// Weights `2^(17-i) mod 11` for the first 17 digits, left to right (reference A.7).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Check character for `S mod 11` (reference A.7).
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Earliest birth year accepted; anything before is taken as a parse error, not a person.
const MIN_BIRTH_YEAR: u32 = 1800;

/// Why a string is not a valid citizen identity number.
///
/// The messages never include the number itself, so the error can be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 18 characters long (the count is of characters, not bytes).
    Length(usize),
    /// A character that must be a digit is not (0-based position).
    NotDigit(usize),
    /// The last character is neither a digit nor `X`/`x`.
    BadCheckCharacter,
    /// Characters 7 to 14 are not a real calendar date.
    BadBirthDate,
    /// The check character does not match the first 17 digits.
    CheckDigitMismatch {
        /// The check character the first 17 digits call for.
        expected: char,
        /// The check character found (upper case).
        found: char,
    },
}

impl fmt::Display for IdNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length(n) => write!(f, "an ID number has 18 characters, this one has {n}"),
            Self::NotDigit(pos) => {
                write!(f, "character {} of the ID number is not a digit", pos + 1)
            }
            Self::BadCheckCharacter => {
                write!(
                    f,
                    "the last character of the ID number is neither a digit nor X"
                )
            }
            Self::BadBirthDate => {
                write!(f, "the birth date inside the ID number is not a real date")
            }
            Self::CheckDigitMismatch { .. } => {
                write!(f, "the check digit of the ID number is wrong")
            }
        }
    }
}

impl std::error::Error for IdNumberError {}

/// The check character (`0`–`9` or `X`) for the first 17 digits of a number.
///
/// Returns `None` unless `first17` is exactly 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARS.get((sum % 11) as usize).copied()
}

/// Checks a number and returns it normalised (a trailing `x` becomes `X`).
///
/// Leading and trailing whitespace is not accepted: trim first if the source pads.
pub fn normalize(id: &str) -> Result<String, IdNumberError> {
    let count = id.chars().count();
    if count != LEN || id.len() != LEN {
        return Err(IdNumberError::Length(count));
    }
    let bytes = id.as_bytes();
    let (first17, last) = bytes.split_at(17);
    if let Some(pos) = first17.iter().position(|b| !b.is_ascii_digit()) {
        return Err(IdNumberError::NotDigit(pos));
    }
    let found = match last.first() {
        Some(b) if b.is_ascii_digit() => char::from(*b),
        Some(b'X' | b'x') => 'X',
        _ => return Err(IdNumberError::BadCheckCharacter),
    };
    if birth_date_parts(first17).is_none() {
        return Err(IdNumberError::BadBirthDate);
    }
    // `first17` is 17 ASCII digits, so this slice is on char boundaries and the check exists.
    let expected = id
        .get(..17)
        .and_then(check_char)
        .ok_or(IdNumberError::NotDigit(0))?;
    if expected != found {
        return Err(IdNumberError::CheckDigitMismatch { expected, found });
    }
    let mut out = String::with_capacity(LEN);
    out.push_str(id.get(..17).unwrap_or_default());
    out.push(found);
    Ok(out)
}

/// Checks a number: 18 characters, digits, a real birth date and the right check character
/// (`X` in either case).
pub fn validate(id: &str) -> Result<(), IdNumberError> {
    normalize(id).map(|_| ())
}

/// `true` if [`validate`] accepts the number.
pub fn is_valid(id: &str) -> bool {
    validate(id).is_ok()
}

/// The birth date inside a number as `(year, month, day)`, if those 8 digits are a real date.
///
/// Only the date part is looked at; the check digit is not verified here.
pub fn birth_date(id: &str) -> Option<(u16, u8, u8)> {
    let bytes = id.as_bytes();
    if bytes.len() < 14 {
        return None;
    }
    birth_date_parts(bytes)
}

/// `Some(true)` for an odd sequence number (male), `Some(false)` for even (female).
///
/// Looks only at character 17; `None` if it is not a digit.
pub fn is_male(id: &str) -> Option<bool> {
    let b = *id.as_bytes().get(16)?;
    b.is_ascii_digit().then_some((b - b'0') % 2 == 1)
}

/// Masks a number for screens and paper: the first 4 and the last 4 characters stay, every
/// character between becomes `*` (`3604**********0071`).
///
/// Works on characters, so any string is safe to pass. A string of 8 characters or fewer
/// would be shown whole by that rule, so it is masked completely instead.
pub fn mask(id: &str) -> String {
    let count = id.chars().count();
    if count <= 8 {
        return "*".repeat(count);
    }
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= count - 4 { c } else { '*' })
        .collect()
}

/// Reads `YYYYMMDD` at bytes 6..14 and checks it is a calendar date.
fn birth_date_parts(bytes: &[u8]) -> Option<(u16, u8, u8)> {
    let digits = bytes.get(6..14)?;
    let mut n = [0u32; 8];
    for (slot, b) in n.iter_mut().zip(digits) {
        if !b.is_ascii_digit() {
            return None;
        }
        *slot = u32::from(b - b'0');
    }
    let year = n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3];
    let month = n[4] * 10 + n[5];
    let day = n[6] * 10 + n[7];
    if year < MIN_BIRTH_YEAR || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    if day > days_in_month(year, month) {
        return None;
    }
    Some((
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    ))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_is_valid() {
        assert!(is_valid("360426199101010071"));
        assert_eq!(check_char("36042619910101007"), Some('1'));
    }

    #[test]
    fn x_check_character_in_either_case() {
        // 11010519491231002X is the GB 11643 standard's own example.
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(
            normalize("11010519491231002X").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            normalize("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert!(is_valid("11010519491231002x"));
    }

    #[test]
    fn wrong_check_digit_is_reported() {
        assert_eq!(
            validate("360426199101010072"),
            Err(IdNumberError::CheckDigitMismatch {
                expected: '1',
                found: '2'
            })
        );
        assert_eq!(
            validate("36042619910101007X"),
            Err(IdNumberError::CheckDigitMismatch {
                expected: '1',
                found: 'X'
            })
        );
    }

    #[test]
    fn length_and_characters() {
        assert_eq!(validate(""), Err(IdNumberError::Length(0)));
        assert_eq!(
            validate("36042619910101007"),
            Err(IdNumberError::Length(17))
        );
        assert_eq!(
            validate("3604261991010100711"),
            Err(IdNumberError::Length(19))
        );
        // 18 chars but more bytes: counted in characters.
        assert_eq!(
            validate("36042619910101007１"),
            Err(IdNumberError::Length(18))
        );
        assert_eq!(
            validate("3604A6199101010071"),
            Err(IdNumberError::NotDigit(4))
        );
        assert_eq!(
            validate("36042619910101007Y"),
            Err(IdNumberError::BadCheckCharacter)
        );
        assert_eq!(
            validate(" 60426199101010071"),
            Err(IdNumberError::NotDigit(0))
        );
    }

    #[test]
    fn birth_date_must_be_real() {
        // Construct numbers with a correct check digit so only the date is wrong.
        for first17 in [
            "36042619910230007", // 30 February
            "36042619911301007", // month 13
            "36042619910100007", // day 0
            "36042619900229007", // 1990 is not a leap year
            "36042617991231007", // before 1800
            "36042619000229007", // 1900 is not a leap year
        ] {
            let id = format!("{first17}{}", check_char(first17).unwrap());
            assert_eq!(validate(&id), Err(IdNumberError::BadBirthDate), "{first17}");
        }
        for first17 in [
            "36042620000229007",
            "36042619960229007",
            "36042619911231007",
        ] {
            let id = format!("{first17}{}", check_char(first17).unwrap());
            assert!(is_valid(&id), "{first17}");
        }
    }

    #[test]
    fn birth_date_and_gender() {
        assert_eq!(birth_date("360426199101010071"), Some((1991, 1, 1)));
        assert_eq!(birth_date("3604261991"), None);
        assert_eq!(is_male("360426199101010071"), Some(true)); // 007 is odd
        assert_eq!(is_male("11010519491231002X"), Some(false)); // 002 is even
        assert_eq!(is_male("short"), None);
    }

    #[test]
    fn permit_and_foreign_2023_numbers_use_the_same_rule() {
        for first17 in [
            "81000019800101001",
            "83000019991231002",
            "93310419850615001",
        ] {
            let id = format!("{first17}{}", check_char(first17).unwrap());
            assert!(is_valid(&id), "{first17}");
        }
    }

    #[test]
    fn masking() {
        assert_eq!(mask("360426199101010071"), "3604**********0071");
        assert_eq!(mask("11010519491231002X"), "1101**********002X");
        assert_eq!(mask("ABC123456789012"), "ABC1*******9012");
        assert_eq!(mask("123456789"), "1234*6789");
        assert_eq!(mask("12345678"), "********");
        assert_eq!(mask(""), "");
        assert_eq!(mask("张三丰李四王五赵六钱"), "张三丰李**五赵六钱");
    }

    #[test]
    fn check_char_rejects_bad_input() {
        assert_eq!(check_char("1234"), None);
        assert_eq!(check_char("3604261991010100a"), None);
    }

    #[test]
    fn error_messages_do_not_contain_the_number() {
        let err = validate("360426199101010072").unwrap_err();
        assert!(!err.to_string().contains("3604"));
    }
}
