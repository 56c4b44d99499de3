//! Checking what residents type into the merged form. Messages say what to do, in both
//! languages, and never repeat the value (it may be personal data).

use jiff::civil::Date;

use crate::bi;
use crate::catalogue::FieldType;
use crate::domain::text::Bilingual;

/// Checks `value` for a field of `kind` and returns it normalised (trimmed, `x` → `X`,
/// spaces and dashes removed from phone numbers).
pub fn field(
    kind: FieldType,
    value: &str,
    options: &[String],
    today: Date,
) -> Result<String, Bilingual> {
    let value = value.trim();
    if value.is_empty() {
        return Err(bi!("请填写这一项", "Please fill this in"));
    }
    match kind {
        FieldType::IdNumber => kiosk_idcard::id_number::normalize(value).map_err(|_| {
            bi!(
                "身份证号码不正确，请核对（18位，最后一位可能是X）",
                "This ID number is not valid; please check it (18 characters, the last may be X)"
            )
        }),
        FieldType::Phone => phone(value),
        FieldType::Date => {
            let date: Date = value.parse().map_err(|_| {
                bi!(
                    "请按“年-月-日”填写，例如 2026-02-15",
                    "Please write the date as year-month-day, e.g. 2026-02-15"
                )
            })?;
            if date > today {
                return Err(bi!("日期不能晚于今天", "The date cannot be after today"));
            }
            Ok(date.to_string())
        }
        FieldType::ChineseName => chinese_name(value),
        FieldType::Choice => {
            if options.iter().any(|o| o == value) {
                Ok(value.to_owned())
            } else {
                Err(bi!("请从选项中选择", "Please choose one of the options"))
            }
        }
        FieldType::Number => {
            if value.parse::<f64>().is_ok_and(|n| n >= 0.0) {
                Ok(value.to_owned())
            } else {
                Err(bi!("请填写数字", "Please enter a number"))
            }
        }
        FieldType::Text | FieldType::Address => {
            if value.chars().count() > 120 {
                Err(bi!(
                    "内容太长，请精简到120个字以内",
                    "Too long; please keep it under 120 characters"
                ))
            } else {
                Ok(value.to_owned())
            }
        }
    }
}

/// Mainland mobile numbers (11 digits, 1[3-9]…) and fixed lines (0 + area code + number).
fn phone(value: &str) -> Result<String, Bilingual> {
    let digits: String = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let bad = || {
        bi!(
            "电话号码不正确：手机号为11位数字，固定电话请加区号",
            "This phone number is not valid: mobiles have 11 digits; add the area code to a landline"
        )
    };
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let mobile = digits.len() == 11
        && digits.starts_with('1')
        && digits
            .as_bytes()
            .get(1)
            .is_some_and(|d| (b'3'..=b'9').contains(d));
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    if mobile || landline {
        Ok(digits)
    } else {
        Err(bad())
    }
}

/// Chinese names: 1 to 15 characters of Han script (any plane, for rare characters) and the
/// middle dot used in transcribed names (e.g. 阿依古丽·买买提).
fn chinese_name(value: &str) -> Result<String, Bilingual> {
    let count = value.chars().count();
    let han = |c: char| {
        matches!(c as u32,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F | 0x3007)
    };
    if count == 0 || count > 15 || !value.chars().all(|c| han(c) || c == '·' || c == '•') {
        return Err(bi!(
            "请用汉字填写姓名（少数民族姓名可用“·”分隔）",
            "Please write the name in Chinese characters (use · between parts of a transcribed name)"
        ));
    }
    Ok(value.replace('•', "·"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2026, 11, 22);

    #[test]
    fn id_numbers_are_checked_by_their_check_digit() {
        assert_eq!(
            field(FieldType::IdNumber, " 11010519491231002x ", &[], TODAY).unwrap(),
            "11010519491231002X"
        );
        assert!(field(FieldType::IdNumber, "110105194912310021", &[], TODAY).is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(
            field(FieldType::Phone, "138 0013 8000", &[], TODAY).unwrap(),
            "13800138000"
        );
        assert_eq!(
            field(FieldType::Phone, "0571-88886666", &[], TODAY).unwrap(),
            "057188886666"
        );
        for bad in ["12800138000", "1380013800", "phone", "88886666"] {
            assert!(field(FieldType::Phone, bad, &[], TODAY).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_dates_choices() {
        assert_eq!(
            field(FieldType::ChineseName, "韦龘𠮷", &[], TODAY).unwrap(),
            "韦龘𠮷"
        );
        assert_eq!(
            field(FieldType::ChineseName, "阿依古丽•买买提", &[], TODAY).unwrap(),
            "阿依古丽·买买提"
        );
        assert!(field(FieldType::ChineseName, "Zhang San", &[], TODAY).is_err());
        assert_eq!(
            field(FieldType::Date, "2026-02-15", &[], TODAY).unwrap(),
            "2026-02-15"
        );
        assert!(field(FieldType::Date, "2027-01-01", &[], TODAY).is_err());
        assert!(field(FieldType::Date, "15/02/2026", &[], TODAY).is_err());
        let options = vec!["男".to_owned(), "女".to_owned()];
        assert!(field(FieldType::Choice, "女", &options, TODAY).is_ok());
        assert!(field(FieldType::Choice, "未知", &options, TODAY).is_err());
        assert!(field(FieldType::Text, "   ", &[], TODAY).is_err());
    }
}
