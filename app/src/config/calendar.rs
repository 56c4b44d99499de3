//! Loads `config/calendar/*.toml`, one file per year of the State Council's holiday schedule.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::{Date, Weekday};

use super::checked_toml::{Errors, FromToml, KeyPath};
use super::{ConfigErrors, Problem, problem_at, read_file};
use crate::domain::calendar::{WorkCalendar, Year};
use crate::toml_section;

toml_section! {
    #[derive(Debug, Clone)]
    pub struct YearFile {
        pub year: i64,
        /// The notice the dates come from.
        pub source: String,
        pub holidays: Vec<Holiday>,
        /// Weekend days that are working days (调休上班).
        pub workdays: Vec<Date>,
    }
}

toml_section! {
    #[derive(Debug, Clone)]
    pub struct Holiday {
        pub name: String,
        pub from: Date,
        pub to: Date,
    }
}

/// Loads every year file in `dir` and checks that the dates belong to their year, holiday
/// ranges run forwards, make-up working days fall on weekends and nothing is both.
pub fn load(dir: &Path) -> Result<WorkCalendar, ConfigErrors> {
    let mut problems: Vec<Problem> = Vec::new();
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(e) => {
            return Err(ConfigErrors(vec![problem_at(
                dir,
                0,
                format!("cannot list the calendar: {e}"),
            )]));
        }
    };
    files.sort();
    let mut years = BTreeMap::new();
    for path in &files {
        let source = match read_file(path) {
            Ok(s) => s,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let mut errs = Errors::new(path, &source);
        let file = errs.parse().and_then(|doc| {
            let value = toml::Spanned::new(doc.span(), toml::de::DeValue::Table(doc.into_inner()));
            YearFile::from_toml(&value, &KeyPath::root(), &mut errs)
        });
        if let Some(file) = file
            && let Some((year, data)) = check_year(&file, &mut errs)
            && years.insert(year, data).is_some()
        {
            errs.push_at(
                &file.loc.child("year"),
                format!("the year {year} has two files"),
            );
        }
        problems.extend(errs.into_problems());
    }
    if files.is_empty() {
        problems.push(problem_at(
            dir,
            0,
            "no year files: due dates cannot be computed",
        ));
    }
    if problems.is_empty() {
        Ok(WorkCalendar::new(years))
    } else {
        Err(ConfigErrors(problems))
    }
}

fn check_year(file: &YearFile, errs: &mut Errors<'_>) -> Option<(i16, Year)> {
    let Ok(year) = i16::try_from(file.year) else {
        errs.push_at(&file.loc.child("year"), "expected a year such as 2026");
        return None;
    };
    let mut data = Year {
        source: file.source.clone(),
        ..Year::default()
    };
    for h in &file.holidays {
        if h.from.year() != year || h.to.year() != year {
            errs.push_at(&h.loc, format!("{} falls outside {year}", h.name));
            continue;
        }
        if h.to < h.from {
            errs.push_at(
                &h.loc.child("to"),
                format!("{}: the last day is before the first", h.name),
            );
            continue;
        }
        let mut day = h.from;
        while day <= h.to {
            data.holidays.insert(day);
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
    }
    for (i, day) in file.workdays.iter().enumerate() {
        let loc = file.loc.child("workdays").index(i);
        if day.year() != year {
            errs.push_at(&loc, format!("{day} falls outside {year}"));
        } else if !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            errs.push_at(
                &loc,
                format!("{day} is a weekday; make-up working days fall on weekends"),
            );
        } else if data.holidays.contains(day) {
            errs.push_at(&loc, format!("{day} is also listed as a holiday"));
        } else {
            data.workdays.insert(*day);
        }
    }
    Some((year, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn shipped() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/calendar")
    }

    #[test]
    fn the_shipped_years_load_and_give_known_due_dates() {
        let cal = load(&shipped()).unwrap();
        assert_eq!(cal.years().collect::<Vec<_>>(), [2024, 2025, 2026]);
        // 2025 Spring Festival: 1-28 to 2-4 off, 1-26 (Sun) and 2-8 (Sat) worked.
        assert!(cal.is_working_day(date(2025, 1, 26)).unwrap());
        assert_eq!(
            cal.due_date(date(2025, 1, 24), 4).unwrap(),
            date(2025, 2, 6)
        );
        // National Day 2026: 10-1 to 10-7 off, 9-20 (Sun) and 10-10 (Sat) worked.
        assert_eq!(
            cal.due_date(date(2026, 9, 30), 4).unwrap(),
            date(2026, 10, 12)
        );
    }

    #[test]
    fn bad_year_files_are_reported_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("2026.toml"),
            "year = 2026\nsource = \"x\"\nholidays = [\n  { name = \"春节\", from = 2026-02-23, to = 2026-02-15 },\n  { name = \"元旦\", from = 2025-01-01, to = 2025-01-01 },\n]\nworkdays = [2026-02-16, 2027-01-02]\n",
        )
        .unwrap();
        let text = load(dir.path()).unwrap_err().to_string();
        assert!(
            text.contains("2026.toml:4: holidays[0].to: 春节: the last day is before the first"),
            "{text}"
        );
        assert!(
            text.contains("2026.toml:5: holidays[1]: 元旦 falls outside 2026"),
            "{text}"
        );
        assert!(
            text.contains("2026.toml:7: workdays[0]: 2026-02-16 is a weekday"),
            "{text}"
        );
        assert!(
            text.contains("workdays[1]: 2027-01-02 falls outside 2026"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_calendar_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            load(dir.path())
                .unwrap_err()
                .to_string()
                .contains("no year files")
        );
    }
}
