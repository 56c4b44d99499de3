//! The one-thing catalogue (一件事目录), loaded from `config/catalogue/` and checked at start:
//! the three levels of DB33/T 2304 5.1.1 (main item 主项, sub-item 子项, situation 情形项),
//! each with its items and departments, materials, situation questions, the fields of the
//! one merged form, time limit, fee, delivery and simplified guide.

pub mod schema;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

pub use schema::{
    Applicant, Audience, Body, Dataset, Delivery, Department, Field, FieldType, Importance, Item,
    LifeStage, Material, MaterialSource, PrefillFrom, Question, Situation,
};

use crate::config::checked_toml::{Errors, FromToml, KeyPath};
use crate::config::{ConfigErrors, Problem, problem_at, read_file};

/// Which level of DB33/T 2304 5.1.1 a one-thing sits at. Situations live inside a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Main,
    Sub,
}

/// A one-thing a resident can apply for: a main item or one of its sub-items.
#[derive(Debug, Clone)]
pub struct OneThing {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub level: Level,
    /// For a sub-item, the main item it belongs to.
    pub parent: Option<String>,
    pub audience: Audience,
    pub life_stage: String,
    pub lead_department: String,
    pub lead_department_note: Option<String>,
    pub basis: Vec<String>,
    pub summary: String,
    pub summary_en: String,
    pub body: Body,
    /// Where it was defined, for error messages.
    pub loc: crate::config::Loc,
}

impl OneThing {
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.body.items.iter().find(|i| i.id == id)
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.body.questions.iter().find(|q| q.id == id)
    }

    /// Materials needed when `chosen` items are kept.
    pub fn materials_for<'a>(&'a self, chosen: &'a [String]) -> impl Iterator<Item = &'a Material> {
        self.body
            .materials
            .iter()
            .filter(move |m| needed_by(&m.for_items, chosen))
    }

    /// Fields of the merged form when `chosen` items are kept.
    pub fn fields_for<'a>(&'a self, chosen: &'a [String]) -> impl Iterator<Item = &'a Field> {
        self.body
            .fields
            .iter()
            .filter(move |f| needed_by(&f.for_items, chosen))
    }

    /// Items in an order that respects `depends_on` (checked acyclic at load).
    pub fn items_in_order(&self) -> Vec<&Item> {
        let mut out: Vec<&Item> = Vec::new();
        let mut pending: Vec<&Item> = self.body.items.iter().collect();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|item| {
                let ready = item
                    .depends_on
                    .iter()
                    .all(|d| out.iter().any(|o| &o.id == d));
                if ready {
                    out.push(item);
                }
                !ready
            });
            if pending.len() == before {
                // Unreachable after validation; keep the rest rather than loop forever.
                out.append(&mut pending);
            }
        }
        out
    }
}

fn needed_by(for_items: &[String], chosen: &[String]) -> bool {
    for_items.is_empty() || for_items.iter().any(|i| chosen.contains(i))
}

/// The whole catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub version: String,
    pub life_stages: BTreeMap<String, LifeStage>,
    pub departments: BTreeMap<String, Department>,
    pub datasets: BTreeMap<String, Dataset>,
    pub one_things: Vec<OneThing>,
}

/// The fields an ID card provides (the `kiosk device idcard … read` JSON keys).
pub const CARD_FIELDS: &[&str] = &[
    "name",
    "gender",
    "nation",
    "birth_date",
    "address",
    "id_number",
    "issuing_authority",
    "valid_from",
    "valid_until",
];

impl Catalogue {
    /// Loads `catalogue.toml` and every `one-things/*.toml` in `dir`, then checks the whole
    /// catalogue; every problem in every file is reported.
    pub fn load(dir: &Path) -> Result<Catalogue, ConfigErrors> {
        let mut problems: Vec<Problem> = Vec::new();
        let index = load_file::<schema::CatalogueFile>(&dir.join("catalogue.toml"), &mut problems);
        let things_dir = dir.join("one-things");
        let mut files: Vec<_> = match std::fs::read_dir(&things_dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect(),
            Err(e) => {
                problems.push(problem_at(
                    &things_dir,
                    0,
                    format!("cannot list one-things: {e}"),
                ));
                Vec::new()
            }
        };
        files.sort();
        let mut one_things = Vec::new();
        for file in &files {
            if let Some(one_thing) = load_file::<schema::OneThingFile>(file, &mut problems) {
                one_things.push(one_thing);
            }
        }
        let (Some(index), true) = (index, problems.is_empty()) else {
            return Err(ConfigErrors(problems));
        };
        let catalogue = Catalogue::assemble(index, one_things);
        let problems = validate::check(&catalogue);
        if problems.is_empty() {
            Ok(catalogue)
        } else {
            Err(ConfigErrors(problems))
        }
    }

    fn assemble(index: schema::CatalogueFile, files: Vec<schema::OneThingFile>) -> Catalogue {
        let mut one_things: Vec<OneThing> = files
            .into_iter()
            .map(|f| OneThing {
                level: if f.parent.is_some() {
                    Level::Sub
                } else {
                    Level::Main
                },
                id: f.id,
                name: f.name,
                name_en: f.name_en,
                parent: f.parent,
                audience: f.audience,
                life_stage: f.life_stage,
                lead_department: f.lead_department,
                lead_department_note: f.lead_department_note,
                basis: f.basis,
                summary: f.summary,
                summary_en: f.summary_en,
                loc: f.loc,
                body: Body {
                    applicants: f.applicants,
                    time_limit: f.time_limit,
                    fee: f.fee,
                    fee_en: f.fee_en,
                    delivery: f.delivery,
                    guide: f.guide,
                    items: f.items,
                    materials: f.materials,
                    questions: f.questions,
                    situations: f.situations,
                    fields: f.fields,
                },
            })
            .collect();
        one_things.sort_by(|a, b| a.id.cmp(&b.id));
        Catalogue {
            version: index.version,
            life_stages: index.life_stages,
            departments: index.departments,
            datasets: index.datasets,
            one_things,
        }
    }

    pub fn one_thing(&self, id: &str) -> Option<&OneThing> {
        self.one_things.iter().find(|o| o.id == id)
    }

    /// One-things for a life stage: each main item followed by its sub-items.
    pub fn for_life_stage<'a>(&'a self, stage: &'a str) -> Vec<&'a OneThing> {
        let in_stage = || {
            self.one_things
                .iter()
                .filter(move |o| o.life_stage == stage)
        };
        let mut out = Vec::new();
        for main in in_stage().filter(|o| o.level == Level::Main) {
            out.push(main);
            out.extend(in_stage().filter(|o| o.parent.as_deref() == Some(main.id.as_str())));
        }
        out
    }

    /// Life stages in home-screen order.
    pub fn life_stages_in_order(&self) -> Vec<(&String, &LifeStage)> {
        let mut stages: Vec<_> = self.life_stages.iter().collect();
        stages.sort_by_key(|(_, s)| s.order);
        stages
    }

    pub fn department_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.departments.get(id).map_or(id, |d| d.name.as_str())
    }
}

fn load_file<T: FromToml>(path: &Path, problems: &mut Vec<Problem>) -> Option<T> {
    let source = match read_file(path) {
        Ok(s) => s,
        Err(p) => {
            problems.push(p);
            return None;
        }
    };
    let mut errs = Errors::new(path, &source);
    let value = errs.parse().and_then(|doc| {
        let value = toml::Spanned::new(doc.span(), toml::de::DeValue::Table(doc.into_inner()));
        T::from_toml(&value, &KeyPath::root(), &mut errs)
    });
    problems.extend(errs.into_problems());
    value
}

#[cfg(test)]
mod tests;
