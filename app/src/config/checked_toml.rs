//! Reading TOML into typed structs while collecting *every* error, each with the file, the
//! line, the key path and what was expected.
//!
//! serde stops at the first error and `deny_unknown_fields` names the key but not the line.
//! Operators fix a config file on site, often by phone with a technician, so the kiosk reports
//! all problems at once, in a form that says where and what to write instead. Sections are
//! declared with [`toml_section!`]; leaf values go through serde (`FromToml` for leaves is
//! derived from `Deserialize`), tables and arrays are walked here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where a value sits: file, 1-based line, dotted key path. For a table it also remembers
/// the line of each of its keys, so checks made after loading can point at the right line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc {
    pub file: PathBuf,
    pub line: usize,
    pub key: String,
    key_lines: std::sync::Arc<Vec<(String, usize)>>,
}

impl Loc {
    pub fn new(file: PathBuf, line: usize, key: impl Into<String>) -> Loc {
        Loc {
            file,
            line,
            key: key.into(),
            key_lines: std::sync::Arc::default(),
        }
    }

    /// The location of element `i` of the list this location names (same line).
    #[must_use]
    pub fn index(&self, i: usize) -> Loc {
        Loc {
            key: format!("{}[{i}]", self.key),
            ..self.clone()
        }
    }

    /// The location of `key` inside this table (its own line when the key is present,
    /// else the table's line).
    #[must_use]
    pub fn child(&self, key: &str) -> Loc {
        let line = self
            .key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map_or(self.line, |(_, l)| *l);
        let key = if self.key.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.key)
        };
        Loc {
            file: self.file.clone(),
            line,
            key,
            key_lines: std::sync::Arc::default(),
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.key)
    }
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub loc: Loc,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.key.is_empty() {
            write!(
                f,
                "{}:{}: {}",
                self.loc.file.display(),
                self.loc.line,
                self.message
            )
        } else {
            write!(f, "{}: {}", self.loc, self.message)
        }
    }
}

/// Collects problems for one file.
pub struct Errors<'s> {
    file: PathBuf,
    source: &'s str,
    problems: Vec<Problem>,
}

/// A dotted key path (`devices.printer.port`, `items[2].department`).
#[derive(Debug, Clone, Default)]
pub struct KeyPath(String);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(String::new())
    }

    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            KeyPath(key.to_owned())
        } else {
            KeyPath(format!("{}.{key}", self.0))
        }
    }

    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        KeyPath(format!("{}[{i}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'s> Errors<'s> {
    pub fn new(file: &Path, source: &'s str) -> Self {
        Errors {
            file: file.to_owned(),
            source,
            problems: Vec::new(),
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        self.source.as_bytes()[..end].split(|&b| b == b'\n').count()
    }

    pub fn loc(&self, span: &std::ops::Range<usize>, at: &KeyPath) -> Loc {
        Loc {
            file: self.file.clone(),
            line: self.line_of(span.start),
            key: at.as_str().to_owned(),
            key_lines: std::sync::Arc::default(),
        }
    }

    /// The location of a table, remembering where each of its keys is.
    pub fn table_loc(
        &self,
        span: &std::ops::Range<usize>,
        at: &KeyPath,
        table: &DeTable<'_>,
    ) -> Loc {
        let key_lines = table
            .iter()
            .map(|(k, _)| (k.get_ref().to_string(), self.line_of(k.span().start)))
            .collect();
        Loc {
            key_lines: std::sync::Arc::new(key_lines),
            ..self.loc(span, at)
        }
    }

    pub fn push(
        &mut self,
        span: &std::ops::Range<usize>,
        at: &KeyPath,
        message: impl Into<String>,
    ) {
        let loc = self.loc(span, at);
        self.push_at(&loc, message);
    }

    /// A problem found after loading (a reference that does not resolve, a duplicate id…).
    /// Messages may quote what was written; anything shaped like an ID number is masked.
    pub fn push_at(&mut self, loc: &Loc, message: impl Into<String>) {
        let mut loc = loc.clone();
        loc.key = crate::privacy::redact(&loc.key);
        loc.file = PathBuf::from(crate::privacy::redact(&loc.file.to_string_lossy()));
        let message = crate::privacy::redact(&message.into());
        self.problems.push(Problem { loc, message });
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// Parses a whole document, reporting every syntax error (with recovery).
    pub fn parse(&mut self) -> Option<Spanned<DeTable<'s>>> {
        let (table, syntax) = DeTable::parse_recoverable(self.source);
        if syntax.is_empty() {
            return Some(table);
        }
        for e in syntax {
            let span = e.span().unwrap_or(0..0);
            let message = format!("TOML syntax error: {}", e.message().trim());
            self.push(&span, &KeyPath::root(), message);
        }
        None
    }

    /// Reports keys of `table` that are not in `known` (typos must not be silently ignored).
    pub fn unknown_keys(&mut self, table: &DeTable<'_>, known: &[&str], at: &KeyPath) {
        for (key, _) in table {
            if !known.contains(&key.get_ref().as_ref()) {
                let message = format!("unknown key (expected one of: {})", known.join(", "));
                self.push(&key.span(), &at.key(key.get_ref()), message);
            }
        }
    }

    /// Reads field `key` of `table` as `T`. A missing key is an error unless `T` is optional or
    /// a default is given.
    pub fn field<T: FromToml>(
        &mut self,
        table: &Spanned<DeTable<'_>>,
        key: &str,
        at: &KeyPath,
        default: Option<fn() -> T>,
    ) -> Option<T> {
        let path = at.key(key);
        match table.get_ref().get(key) {
            Some(value) => T::from_toml(value, &path, self),
            None => match default {
                Some(make) => Some(make()),
                None => T::missing(&table.span(), &path, self),
            },
        }
    }
}

/// A type that can be read from a TOML value with located errors.
pub trait FromToml: Sized {
    /// What an operator should write, used in "expected …" messages.
    fn expected() -> String;

    fn from_toml(value: &Spanned<DeValue<'_>>, at: &KeyPath, errs: &mut Errors<'_>)
    -> Option<Self>;

    /// Called when the key is absent; optional types return `Some(None)`.
    fn missing(span: &std::ops::Range<usize>, at: &KeyPath, errs: &mut Errors<'_>) -> Option<Self> {
        errs.push(
            span,
            at,
            format!("missing key (expected {})", Self::expected()),
        );
        None
    }
}

/// A short description of what was found. Short strings are quoted (an operator needs to see
/// the typo); anything that looks like an ID number is masked when the problem is recorded.
pub fn found(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) if s.chars().count() <= 40 => format!("{s:?}"),
        other => found_kind(other).to_owned(),
    }
}

/// The kind of a value, never its content.
pub fn found_kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number with a fraction",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date/time",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// Reads a leaf through serde, turning its error into a located problem.
pub fn leaf_via_serde<T: serde::de::DeserializeOwned + FromToml>(
    value: &Spanned<DeValue<'_>>,
    at: &KeyPath,
    errs: &mut Errors<'_>,
) -> Option<T> {
    let de = toml::de::ValueDeserializer::from(value.clone());
    match T::deserialize(de) {
        Ok(v) => Some(v),
        Err(e) => {
            let detail = match value.get_ref() {
                // Custom errors (from FromStr) explain themselves; type mismatches do not.
                DeValue::String(_) if !e.message().starts_with("invalid type") => {
                    format!(": {}", e.message().trim())
                }
                _ => String::new(),
            };
            let message = format!(
                "expected {}, found {}{detail}",
                T::expected(),
                found_kind(value.get_ref())
            );
            errs.push(&value.span(), at, message);
            None
        }
    }
}

/// Implements [`FromToml`] for types that deserialize from a single TOML value.
#[macro_export]
macro_rules! toml_leaf {
    ($($ty:ty => $expected:expr),* $(,)?) => {$(
        impl $crate::config::checked_toml::FromToml for $ty {
            fn expected() -> String { String::from($expected) }
            fn from_toml(
                value: &toml::Spanned<toml::de::DeValue<'_>>,
                at: &$crate::config::checked_toml::KeyPath,
                errs: &mut $crate::config::checked_toml::Errors<'_>,
            ) -> Option<Self> {
                $crate::config::checked_toml::leaf_via_serde(value, at, errs)
            }
        }
    )*};
}

impl FromToml for std::time::Duration {
    fn expected() -> String {
        String::from("a duration such as \"90s\", \"2m\", \"500ms\" or \"1h\"")
    }
    fn from_toml(
        value: &Spanned<DeValue<'_>>,
        at: &KeyPath,
        errs: &mut Errors<'_>,
    ) -> Option<Self> {
        let parsed = value.get_ref().as_str().and_then(parse_duration);
        if parsed.is_none() {
            let message = format!(
                "expected {}, found {}",
                Self::expected(),
                found(value.get_ref())
            );
            errs.push(&value.span(), at, message);
        }
        parsed
    }
}

/// Parses `90s`, `2m`, `500ms`, `1h`, `3d`.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = |k: u64| Some(std::time::Duration::from_secs(n.checked_mul(k)?));
    match unit.trim() {
        "ms" => Some(std::time::Duration::from_millis(n)),
        "s" => secs(1),
        "m" | "min" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => None,
    }
}

impl FromToml for jiff::civil::Date {
    fn expected() -> String {
        String::from("a date such as 2026-02-15")
    }
    fn from_toml(
        value: &Spanned<DeValue<'_>>,
        at: &KeyPath,
        errs: &mut Errors<'_>,
    ) -> Option<Self> {
        let parsed = match value.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time) {
                (Some(d), None) => jiff::civil::Date::new(
                    i16::try_from(d.year).ok()?,
                    i8::try_from(d.month).ok()?,
                    i8::try_from(d.day).ok()?,
                )
                .ok(),
                _ => None,
            },
            DeValue::String(s) => s.parse().ok(),
            _ => None,
        };
        if parsed.is_none() {
            let message = format!(
                "expected {}, found {}",
                Self::expected(),
                found(value.get_ref())
            );
            errs.push(&value.span(), at, message);
        }
        parsed
    }
}

toml_leaf! {
    String => "a string",
    bool => "true or false",
    u8 => "a whole number 0-255",
    u16 => "a whole number 0-65535",
    u32 => "a whole number",
    u64 => "a whole number",
    i64 => "a whole number",
    PathBuf => "a file path",
    kiosk_link::Port => "a port: /dev/ttyX, serial:/dev/ttyX@BAUD, usb:VID:PID or tcp:HOST:PORT",
}

impl<T: FromToml> FromToml for Option<T> {
    fn expected() -> String {
        T::expected()
    }
    fn from_toml(
        value: &Spanned<DeValue<'_>>,
        at: &KeyPath,
        errs: &mut Errors<'_>,
    ) -> Option<Self> {
        T::from_toml(value, at, errs).map(Some)
    }
    fn missing(_: &std::ops::Range<usize>, _: &KeyPath, _: &mut Errors<'_>) -> Option<Self> {
        Some(None)
    }
}

impl<T: FromToml> FromToml for Vec<T> {
    fn expected() -> String {
        format!("a list of {}", T::expected())
    }
    fn from_toml(
        value: &Spanned<DeValue<'_>>,
        at: &KeyPath,
        errs: &mut Errors<'_>,
    ) -> Option<Self> {
        let DeValue::Array(items) = value.get_ref() else {
            let message = format!(
                "expected {}, found {}",
                Self::expected(),
                found_kind(value.get_ref())
            );
            errs.push(&value.span(), at, message);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match T::from_toml(item, &at.index(i), errs) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

impl<T: FromToml> FromToml for BTreeMap<String, T> {
    fn expected() -> String {
        format!("a table of {}", T::expected())
    }
    fn from_toml(
        value: &Spanned<DeValue<'_>>,
        at: &KeyPath,
        errs: &mut Errors<'_>,
    ) -> Option<Self> {
        let DeValue::Table(table) = value.get_ref() else {
            let message = format!(
                "expected {}, found {}",
                Self::expected(),
                found_kind(value.get_ref())
            );
            errs.push(&value.span(), at, message);
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, item) in table {
            match T::from_toml(item, &at.key(key.get_ref()), errs) {
                Some(v) => {
                    out.insert(key.get_ref().to_string(), v);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// Borrows the table inside a value, or reports what was found instead.
pub fn expect_table<'a, 'i>(
    value: &'a Spanned<DeValue<'i>>,
    at: &KeyPath,
    errs: &mut Errors<'_>,
) -> Option<Spanned<&'a DeTable<'i>>> {
    match value.get_ref() {
        DeValue::Table(t) => Some(Spanned::new(value.span(), t)),
        other => {
            errs.push(
                &value.span(),
                at,
                format!("expected a table, found {}", found_kind(other)),
            );
            None
        }
    }
}

/// Declares a config section: the struct, and a [`FromToml`] impl that reports unknown keys,
/// missing keys and bad values all together. Fields may have defaults (`= expr`); every
/// section also gets `loc`, where it was found, for errors found later (cross-references).
#[macro_export]
macro_rules! toml_section {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $fvis:vis $field:ident : $ty:ty $(= $default:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[doc = $doc])* $fvis $field: $ty, )*
            /// Where this section was read from.
            pub loc: $crate::config::checked_toml::Loc,
        }

        impl $crate::config::checked_toml::FromToml for $name {
            fn expected() -> String { String::from(concat!("a table (", stringify!($name), ")")) }

            fn from_toml(
                value: &toml::Spanned<toml::de::DeValue<'_>>,
                at: &$crate::config::checked_toml::KeyPath,
                errs: &mut $crate::config::checked_toml::Errors<'_>,
            ) -> Option<Self> {
                let table = $crate::config::checked_toml::expect_table(value, at, errs)?;
                errs.unknown_keys(table.get_ref(), &[$(stringify!($field)),*], at);
                let owned = toml::Spanned::new(table.span(), (*table.get_ref()).clone());
                $(
                    let $field: Option<$ty> =
                        errs.field(&owned, stringify!($field), at, $crate::toml_section!(@default $ty $(, $default)?));
                )*
                let loc = errs.table_loc(&value.span(), at, table.get_ref());
                Some($name { $( $field: $field?, )* loc })
            }
        }
    };
    (@default $ty:ty) => { None };
    (@default $ty:ty, $default:expr) => { Some((|| -> $ty { $default }) as fn() -> $ty) };
}

/// Declares a string-valued enum with the accepted spellings listed in errors.
#[macro_export]
macro_rules! toml_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[doc = $doc:literal])* $variant:ident = $text:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name { $( $(#[doc = $doc])* #[serde(rename = $text)] $variant, )* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::config::checked_toml::FromToml for $name {
            fn expected() -> String {
                let names: &[&str] = &[$($text),*];
                format!("one of: {}", names.join(", "))
            }
            fn from_toml(
                value: &toml::Spanned<toml::de::DeValue<'_>>,
                at: &$crate::config::checked_toml::KeyPath,
                errs: &mut $crate::config::checked_toml::Errors<'_>,
            ) -> Option<Self> {
                match value.get_ref().as_str() {
                    $( Some($text) => Some($name::$variant), )*
                    _ => {
                        let message = format!(
                            "expected {}, found {}",
                            <Self as $crate::config::checked_toml::FromToml>::expected(),
                            $crate::config::checked_toml::found(value.get_ref())
                        );
                        errs.push(&value.span(), at, message);
                        None
                    }
                }
            }
        }
    };
}
