//! Working days on the statutory holiday calendar (holidays and make-up working days per
//! year), and due dates counted in working days.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};

/// The days off and the make-up working days of one year.
#[derive(Debug, Clone, Default)]
pub struct Year {
    pub holidays: BTreeSet<Date>,
    pub workdays: BTreeSet<Date>,
    pub source: String,
}

/// The calendar for the years that have a published schedule.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i16, Year>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No schedule for that year is loaded; guessing could promise a resident a wrong date.
    #[error("no holiday schedule for {0} is loaded (add config/calendar/{0}.toml)")]
    YearNotCovered(i16),
}

impl WorkCalendar {
    pub fn new(years: BTreeMap<i16, Year>) -> Self {
        WorkCalendar { years }
    }

    pub fn years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.keys().copied()
    }

    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        let year = self
            .years
            .get(&date.year())
            .ok_or(CalendarError::YearNotCovered(date.year()))?;
        if year.workdays.contains(&date) {
            return Ok(true);
        }
        if year.holidays.contains(&date) {
            return Ok(false);
        }
        Ok(!matches!(
            date.weekday(),
            Weekday::Saturday | Weekday::Sunday
        ))
    }

    /// The date by which `working_days` working days have passed after `accepted_on`: counting
    /// starts the working day after acceptance (an application accepted on a holiday or a
    /// weekend starts counting on the next working day).
    pub fn due_date(&self, accepted_on: Date, working_days: u32) -> Result<Date, CalendarError> {
        let mut date = accepted_on;
        let mut counted = 0;
        while counted < working_days {
            date = date
                .tomorrow()
                .map_err(|_| CalendarError::YearNotCovered(date.year()))?;
            if self.is_working_day(date)? {
                counted += 1;
            }
        }
        Ok(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn year_2026() -> WorkCalendar {
        // Spring Festival 2026: 2-15 (Sun) to 2-23 (Mon) off; 2-14 (Sat) and 2-28 (Sat) worked.
        let holidays = (15..=23).map(|d| date(2026, 2, d)).collect();
        let workdays = [date(2026, 2, 14), date(2026, 2, 28)].into_iter().collect();
        WorkCalendar::new(
            [(
                2026,
                Year {
                    holidays,
                    workdays,
                    source: String::new(),
                },
            )]
            .into(),
        )
    }

    #[test]
    fn make_up_saturdays_count_and_holidays_do_not() {
        let cal = year_2026();
        assert!(
            cal.is_working_day(date(2026, 2, 14)).unwrap(),
            "make-up Saturday"
        );
        assert!(
            !cal.is_working_day(date(2026, 2, 16)).unwrap(),
            "holiday Monday"
        );
        assert!(
            !cal.is_working_day(date(2026, 2, 21)).unwrap(),
            "ordinary Saturday in the holiday"
        );
        assert!(cal.is_working_day(date(2026, 2, 24)).unwrap());
        assert!(!cal.is_working_day(date(2026, 3, 1)).unwrap(), "Sunday");
    }

    #[test]
    fn due_dates_skip_the_spring_festival_and_use_make_up_days() {
        let cal = year_2026();
        // Accepted Friday 2-13: Sat 2-14 is a working day (1), then the holiday, then 2-24 (2),
        // 2-25 (3), 2-26 (4).
        assert_eq!(
            cal.due_date(date(2026, 2, 13), 4).unwrap(),
            date(2026, 2, 26)
        );
        // Accepted during the holiday: counting starts on 2-24.
        assert_eq!(
            cal.due_date(date(2026, 2, 18), 1).unwrap(),
            date(2026, 2, 24)
        );
        // Accepted Thursday 2-26: Fri 2-27 (1), Sat 2-28 make-up (2), Mon 3-2 (3), Tue 3-3 (4).
        assert_eq!(
            cal.due_date(date(2026, 2, 26), 4).unwrap(),
            date(2026, 3, 3)
        );
        assert_eq!(
            cal.due_date(date(2026, 2, 26), 0).unwrap(),
            date(2026, 2, 26)
        );
    }

    #[test]
    fn a_date_outside_the_covered_years_is_an_error() {
        let cal = year_2026();
        assert_eq!(
            cal.due_date(date(2026, 12, 29), 4),
            Err(CalendarError::YearNotCovered(2027))
        );
        assert_eq!(
            cal.is_working_day(date(2025, 6, 1)),
            Err(CalendarError::YearNotCovered(2025))
        );
    }
}
