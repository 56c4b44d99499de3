//! The simulator's sample people and their shared-data records (`resources/sim/platform/`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jiff::civil::Date;
use serde::Deserialize;

use crate::wire::{Dataset, Gender};

/// The sample file built into the binary.
pub const BUILTIN_PEOPLE: &str = include_str!("../../../../resources/sim/platform/people.toml");

/// One fictitious person.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id_number: String,
    pub name: String,
    pub gender: Gender,
    pub nation: String,
    pub birth_date: Date,
    /// The number of a social security card the person already has.
    #[serde(default)]
    pub social_security_card: Option<String>,
    #[serde(default)]
    pub datasets: BTreeMap<Dataset, BTreeMap<String, String>>,
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("datasets", &self.datasets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleFile {
    #[serde(default)]
    person: Vec<Person>,
}

/// Why a people file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("cannot read the people file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the people file is not valid: {0}")]
    Parse(String),
    #[error("person #{index}: dataset {dataset} must have exactly the fields {expected:?}")]
    Fields {
        index: usize,
        dataset: Dataset,
        expected: &'static [&'static str],
    },
    #[error("person #{index}: the same ID number appears twice")]
    Duplicate { index: usize },
}

/// The people, by upper-case ID number.
#[derive(Debug, Clone, Default)]
pub struct People {
    by_id: HashMap<String, Person>,
}

impl People {
    /// The built-in sample people.
    pub fn builtin() -> Result<People, PeopleError> {
        People::parse(BUILTIN_PEOPLE)
    }

    /// Reads a people file of the same shape as `resources/sim/platform/people.toml`.
    pub fn load(path: &Path) -> Result<People, PeopleError> {
        let text = std::fs::read_to_string(path).map_err(|source| PeopleError::Read {
            path: path.display().to_string(),
            source,
        })?;
        People::parse(&text)
    }

    /// Parses and checks people TOML: every dataset record has exactly its fields.
    pub fn parse(text: &str) -> Result<People, PeopleError> {
        // The TOML error text may quote a line of the file (fictitious data, but keep the
        // habit): only its message is kept, which names the key and position.
        let file: PeopleFile =
            toml::from_str(text).map_err(|e| PeopleError::Parse(e.message().to_owned()))?;
        let mut by_id = HashMap::new();
        for (index, person) in file.person.into_iter().enumerate() {
            for (dataset, fields) in &person.datasets {
                let expected = dataset.fields();
                let same = fields.len() == expected.len()
                    && expected.iter().all(|f| fields.contains_key(*f));
                if !same {
                    return Err(PeopleError::Fields {
                        index,
                        dataset: *dataset,
                        expected,
                    });
                }
            }
            let key = normalise_id(&person.id_number);
            if by_id.insert(key, person).is_some() {
                return Err(PeopleError::Duplicate { index });
            }
        }
        Ok(People { by_id })
    }

    /// The person with this ID number (any case, white space ignored).
    pub fn get(&self, id_number: &str) -> Option<&Person> {
        self.by_id.get(&normalise_id(id_number))
    }

    /// A person's record in a dataset.
    pub fn record(&self, id_number: &str, dataset: Dataset) -> Option<&BTreeMap<String, String>> {
        self.get(id_number).and_then(|p| p.datasets.get(&dataset))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Upper case, no surrounding white space.
pub fn normalise_id(id_number: &str) -> String {
    id_number.trim().to_uppercase()
}

/// The GB 11643 check character for the first 17 digits; `None` unless 17 ASCII digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    CHECK.get(usize::try_from(sum % 11).ok()?).copied()
}

/// The two-digit GB 3304 code of an ethnic group name (`汉` → `01`); `97` (其他) when unknown.
pub fn nation_code(nation: &str) -> &'static str {
    const NATIONS: [&str; 56] = [
        "汉",
        "蒙古",
        "回",
        "藏",
        "维吾尔",
        "苗",
        "彝",
        "壮",
        "布依",
        "朝鲜",
        "满",
        "侗",
        "瑶",
        "白",
        "土家",
        "哈尼",
        "哈萨克",
        "傣",
        "黎",
        "傈僳",
        "佤",
        "畲",
        "高山",
        "拉祜",
        "水",
        "东乡",
        "纳西",
        "景颇",
        "柯尔克孜",
        "土",
        "达斡尔",
        "仫佬",
        "羌",
        "布朗",
        "撒拉",
        "毛南",
        "仡佬",
        "锡伯",
        "阿昌",
        "普米",
        "塔吉克",
        "怒",
        "乌孜别克",
        "俄罗斯",
        "鄂温克",
        "德昂",
        "保安",
        "裕固",
        "京",
        "塔塔尔",
        "独龙",
        "鄂伦春",
        "赫哲",
        "门巴",
        "珞巴",
        "基诺",
    ];
    const CODES: [&str; 56] = [
        "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
        "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30",
        "31", "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45",
        "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "56",
    ];
    let name = nation.trim().trim_end_matches('族');
    if name == "外国血统" {
        return "98";
    }
    NATIONS
        .iter()
        .position(|n| *n == name)
        .and_then(|i| CODES.get(i).copied())
        .unwrap_or("97")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_people_load_and_follow_the_story() {
        let people = People::builtin().unwrap();
        assert!(people.len() >= 8);
        let father = "360426199101010071";
        let mother = "45010220000229008x";
        assert!(
            people
                .record(father, Dataset::MarriageCertificate)
                .is_some()
        );
        assert!(people.record(father, Dataset::HouseholdRegister).is_some());
        assert!(people.record(mother, Dataset::HouseholdRegister).is_some());
        let birth = people
            .record(mother, Dataset::BirthMedicalCertificate)
            .unwrap();
        assert!(birth["birth_date"].starts_with("2026-"));
        assert_eq!(
            people.record(mother, Dataset::MarriageCertificate).unwrap()["spouse_name"],
            people.get(father).unwrap().name
        );
        let li = "11010519491231002X";
        assert!(people.get(li).is_some());
        assert!(people.record(li, Dataset::MarriageCertificate).is_none());
        assert!(people.record(li, Dataset::HouseholdRegister).is_none());
        assert!(
            people
                .record("150102198503170050", Dataset::HouseholdRegister)
                .is_some()
        );
    }

    #[test]
    fn every_builtin_id_number_has_a_valid_check_character() {
        let people = People::builtin().unwrap();
        for id in people.by_id.keys() {
            let (first, last) = id.split_at(17);
            assert_eq!(
                id_check_char(first).map(String::from).as_deref(),
                Some(last),
                "{id}"
            );
        }
    }

    #[test]
    fn wrong_fields_are_refused() {
        let text = r#"
            [[person]]
            id_number = "360426199101010071"
            name = "x"
            gender = "male"
            nation = "汉"
            birth_date = "1991-01-01"
            [person.datasets.death-record]
            deceased_name = "x"
        "#;
        assert!(matches!(
            People::parse(text),
            Err(PeopleError::Fields { .. })
        ));
        assert!(matches!(
            People::parse("[[person]]\nname = 1"),
            Err(PeopleError::Parse(_))
        ));
    }

    #[test]
    fn nation_codes() {
        assert_eq!(nation_code("汉"), "01");
        assert_eq!(nation_code("蒙古族"), "02");
        assert_eq!(nation_code("壮"), "08");
        assert_eq!(nation_code("满"), "11");
        assert_eq!(nation_code("基诺"), "56");
        assert_eq!(nation_code("外国血统"), "98");
        assert_eq!(nation_code("?"), "97");
    }
}
