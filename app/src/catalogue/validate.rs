//! Checks that span the whole catalogue: ids are unique, every reference resolves, every item
//! has a department and a time limit, dependencies have no cycle, materials follow DB33/T 2304
//! 5.2.3, only secondary materials can be committed for later, and the merged form asks each
//! thing once.

use std::collections::{HashMap, HashSet};

use super::schema::{FieldType, Importance, MaterialSource, PrefillFrom};
use super::{Body, CARD_FIELDS, Catalogue, Level, OneThing};
use crate::config::{Loc, Problem};

/// Words that DB33/T 2304 5.2.3 rules out of material names: vague catch-alls.
const VAGUE_MATERIAL_WORDS: &[&str] = &["其他材料", "相关证明", "等材料", "相关材料"];

struct Check {
    problems: Vec<Problem>,
}

impl Check {
    fn at(&mut self, loc: &Loc, message: impl Into<String>) {
        self.problems.push(Problem {
            loc: loc.clone(),
            message: message.into(),
        });
    }

    fn unique<'a>(&mut self, what: &str, ids: impl Iterator<Item = (&'a str, &'a Loc)>) {
        let mut seen: HashMap<&str, &Loc> = HashMap::new();
        for (id, loc) in ids {
            if id.trim().is_empty() {
                self.at(loc, format!("{what} id must not be empty"));
            } else if let Some(first) = seen.insert(id, loc) {
                self.at(
                    loc,
                    format!("{what} id {id:?} is already used at line {}", first.line),
                );
            }
        }
    }
}

pub(super) fn check(catalogue: &Catalogue) -> Vec<Problem> {
    let mut c = Check {
        problems: Vec::new(),
    };
    c.unique(
        "one-thing",
        catalogue.one_things.iter().map(|o| (o.id.as_str(), &o.loc)),
    );
    for one in &catalogue.one_things {
        check_one_thing(&mut c, catalogue, one);
    }
    for (id, stage) in &catalogue.life_stages {
        if !catalogue.one_things.iter().any(|o| &o.life_stage == id) {
            c.at(&stage.loc, format!("life stage {id:?} has no one-thing"));
        }
    }
    c.problems
}

fn check_one_thing(c: &mut Check, cat: &Catalogue, one: &OneThing) {
    let loc = &one.loc;
    match cat.life_stages.get(&one.life_stage) {
        None => c.at(
            &sub(loc, "life_stage"),
            format!("unknown life stage {:?}", one.life_stage),
        ),
        Some(stage) if stage.audience != one.audience => c.at(
            &sub(loc, "audience"),
            format!(
                "is {} but life stage {:?} is for {}",
                one.audience, one.life_stage, stage.audience
            ),
        ),
        Some(_) => {}
    }
    if !cat.departments.contains_key(&one.lead_department) {
        c.at(
            &sub(loc, "lead_department"),
            format!("unknown department {:?}", one.lead_department),
        );
    }
    if one.level == Level::Sub {
        let parent = one.parent.as_deref().unwrap_or_default();
        match cat.one_thing(parent) {
            Some(p) if p.level == Level::Main => {
                if p.life_stage != one.life_stage {
                    c.at(
                        &sub(loc, "life_stage"),
                        "a sub-item must share its main item's life stage",
                    );
                }
            }
            Some(_) => c.at(
                &sub(loc, "parent"),
                "the parent of a sub-item must be a main item",
            ),
            None => c.at(&sub(loc, "parent"), format!("unknown one-thing {parent:?}")),
        }
    }
    if one.basis.is_empty() {
        c.at(&sub(loc, "basis"), "name at least one source document");
    }
    check_body(c, cat, &one.body, loc);
}

fn check_body(c: &mut Check, cat: &Catalogue, body: &Body, loc: &Loc) {
    let items: HashSet<&str> = body.items.iter().map(|i| i.id.as_str()).collect();
    let roles: HashSet<&str> = body.applicants.iter().map(|a| a.role.as_str()).collect();
    let questions: HashSet<&str> = body.questions.iter().map(|q| q.id.as_str()).collect();
    let situations: HashSet<&str> = body.situations.iter().map(|s| s.id.as_str()).collect();

    c.unique("item", body.items.iter().map(|i| (i.id.as_str(), &i.loc)));
    c.unique(
        "material",
        body.materials.iter().map(|m| (m.id.as_str(), &m.loc)),
    );
    c.unique(
        "question",
        body.questions.iter().map(|q| (q.id.as_str(), &q.loc)),
    );
    c.unique(
        "situation",
        body.situations.iter().map(|s| (s.id.as_str(), &s.loc)),
    );
    c.unique("field", body.fields.iter().map(|f| (f.id.as_str(), &f.loc)));
    c.unique(
        "applicant role",
        body.applicants.iter().map(|a| (a.role.as_str(), &a.loc)),
    );

    if body.items.is_empty() {
        c.at(&sub(loc, "items"), "a one-thing needs at least one item");
    }
    if body.applicants.is_empty() {
        c.at(&sub(loc, "applicants"), "name at least one applicant");
    }
    if body.time_limit.working_days == 0 {
        c.at(&body.time_limit.loc, "working_days must be at least 1");
    }
    if body.delivery.is_empty() {
        c.at(
            &sub(loc, "delivery"),
            "name at least one way to deliver the results",
        );
    }
    let refs = Refs { items: &items };
    check_items(c, cat, body, &refs);
    check_materials(c, cat, body, &refs, &roles);
    check_questions(c, body, &refs, &situations);
    check_fields(c, cat, body, &refs, &roles, &questions);
}

/// Item ids of one body, to resolve references against.
struct Refs<'a> {
    items: &'a HashSet<&'a str>,
}

impl Refs<'_> {
    fn check(&self, c: &mut Check, loc: &Loc, key: &str, ids: &[String]) {
        for id in ids {
            if !self.items.contains(id.as_str()) {
                c.at(&sub(loc, key), format!("unknown item {id:?}"));
            }
        }
    }
}

fn check_items(c: &mut Check, cat: &Catalogue, body: &Body, refs: &Refs<'_>) {
    for item in &body.items {
        if !cat.departments.contains_key(&item.department) {
            c.at(
                &sub(&item.loc, "department"),
                format!("unknown department {:?}", item.department),
            );
        }
        if item.time_limit_days == 0 {
            c.at(
                &sub(&item.loc, "time_limit_days"),
                "every item needs a time limit of at least 1 working day",
            );
        }
        if item.delivery.is_empty() {
            c.at(
                &sub(&item.loc, "delivery"),
                "say how the result is delivered",
            );
        }
        refs.check(c, &item.loc, "depends_on", &item.depends_on);
        refs.check(c, &item.loc, "must_go_with", &item.must_go_with);
        if item.depends_on.contains(&item.id) {
            c.at(
                &sub(&item.loc, "depends_on"),
                "an item cannot depend on itself",
            );
        }
    }
    check_cycles(c, body);
}

fn check_materials(
    c: &mut Check,
    cat: &Catalogue,
    body: &Body,
    refs: &Refs<'_>,
    roles: &HashSet<&str>,
) {
    for m in &body.materials {
        if let Some(word) = VAGUE_MATERIAL_WORDS.iter().find(|w| m.name.contains(*w)) {
            c.at(
                &sub(&m.loc, "name"),
                format!("vague material name ({word:?}) is not allowed (DB33/T 2304 5.2.3)"),
            );
        }
        refs.check(c, &m.loc, "for_items", &m.for_items);
        match (m.importance, m.commit_days) {
            (Importance::Secondary, None | Some(0)) => {
                c.at(
                    &sub(&m.loc, "commit_days"),
                    "a secondary material needs the working days allowed to supply it later",
                );
            }
            (Importance::Primary, Some(_)) => {
                c.at(
                    &sub(&m.loc, "commit_days"),
                    "only secondary materials may be committed for later (容缺, DB33/T 2036.2 3.3)",
                );
            }
            _ => {}
        }
        if let Some(person) = &m.person
            && !roles.contains(person.as_str())
        {
            c.at(
                &sub(&m.loc, "person"),
                format!("unknown applicant role {person:?}"),
            );
        }
        match m.source {
            MaterialSource::Shared => {
                match &m.dataset {
                    Some(d) if cat.datasets.contains_key(d) => {}
                    Some(d) => c.at(&sub(&m.loc, "dataset"), format!("unknown dataset {d:?}")),
                    None => c.at(
                        &sub(&m.loc, "dataset"),
                        "a shared material needs its dataset",
                    ),
                }
                if m.fallback != Some(MaterialSource::Scan) {
                    c.at(
                        &sub(&m.loc, "fallback"),
                        "a shared material needs fallback = \"scan\" for when sharing fails",
                    );
                }
            }
            MaterialSource::IdCard if m.person.is_none() => {
                c.at(
                    &sub(&m.loc, "person"),
                    "say whose ID card (an applicant role)",
                );
            }
            _ => {}
        }
    }
}

fn check_questions(c: &mut Check, body: &Body, refs: &Refs<'_>, situations: &HashSet<&str>) {
    for q in &body.questions {
        if q.options.len() < 2 {
            c.at(
                &sub(&q.loc, "options"),
                "a question needs at least two answers",
            );
        }
        c.unique(
            "answer",
            q.options.iter().map(|o| (o.value.as_str(), &o.loc)),
        );
        for o in &q.options {
            refs.check(c, &o.loc, "select", &o.select);
            refs.check(c, &o.loc, "deselect", &o.deselect);
            if let Some(s) = &o.situation
                && !situations.contains(s.as_str())
            {
                c.at(
                    &sub(&o.loc, "situation"),
                    format!("unknown situation {s:?}"),
                );
            }
        }
    }
    for s in &body.situations {
        refs.check(c, &s.loc, "items", &s.items);
        let reached = body
            .questions
            .iter()
            .flat_map(|q| &q.options)
            .any(|o| o.situation.as_deref() == Some(&s.id));
        if !reached {
            c.at(&s.loc, format!("no answer leads to situation {:?}", s.id));
        }
    }
}

fn check_fields(
    c: &mut Check,
    cat: &Catalogue,
    body: &Body,
    refs: &Refs<'_>,
    roles: &HashSet<&str>,
    questions: &HashSet<&str>,
) {
    let mut sources: HashMap<String, &Loc> = HashMap::new();
    for f in &body.fields {
        refs.check(c, &f.loc, "for_items", &f.for_items);
        match (f.kind, f.options.is_empty()) {
            (FieldType::Choice, true) => {
                c.at(&sub(&f.loc, "options"), "a choice field needs options");
            }
            (kind, false) if kind != FieldType::Choice => {
                c.at(&sub(&f.loc, "options"), "only choice fields have options");
            }
            _ => {}
        }
        let p = &f.prefill;
        let ploc = &p.loc;
        let source_key = match p.from {
            PrefillFrom::Card => {
                let person = p.person.as_deref().unwrap_or_default();
                let field = p.field.as_deref().unwrap_or_default();
                if !roles.contains(person) {
                    c.at(
                        &sub(ploc, "person"),
                        format!("unknown applicant role {person:?}"),
                    );
                }
                if !CARD_FIELDS.contains(&field) {
                    c.at(
                        &sub(ploc, "field"),
                        format!(
                            "an ID card has no field {field:?} (it has {})",
                            CARD_FIELDS.join(", ")
                        ),
                    );
                }
                Some(format!("card:{person}.{field}"))
            }
            PrefillFrom::Shared => {
                let dataset = p.dataset.as_deref().unwrap_or_default();
                let field = p.field.as_deref().unwrap_or_default();
                match cat.datasets.get(dataset) {
                    None => c.at(
                        &sub(ploc, "dataset"),
                        format!("unknown dataset {dataset:?}"),
                    ),
                    Some(d) if !d.fields.iter().any(|x| x == field) => {
                        c.at(
                            &sub(ploc, "field"),
                            format!("dataset {dataset:?} has no field {field:?}"),
                        );
                    }
                    Some(_) => {}
                }
                let person = p.person.as_deref().unwrap_or_default();
                match person.strip_prefix("answer:") {
                    Some(q) if questions.contains(q) => {}
                    Some(q) => c.at(&sub(ploc, "person"), format!("unknown question {q:?}")),
                    None if roles.contains(person) => {}
                    None => c.at(
                        &sub(ploc, "person"),
                        format!("unknown applicant role {person:?} (or answer:<question>)"),
                    ),
                }
                Some(format!("shared:{dataset}.{field}@{person}"))
            }
            PrefillFrom::Answer => {
                let q = p.field.as_deref().unwrap_or_default();
                if !questions.contains(q) {
                    c.at(&sub(ploc, "field"), format!("unknown question {q:?}"));
                }
                Some(format!("answer:{q}"))
            }
            PrefillFrom::Resident => None,
        };
        if let Some(key) = source_key
            && let Some(first) = sources.insert(key, &f.loc)
        {
            c.at(&f.loc, format!("asks for the same data as the field at line {} (one form asks each thing once)", first.line));
        }
    }
}

/// Reports a cycle in `depends_on`, which would make the items impossible to send in order.
fn check_cycles(c: &mut Check, body: &Body) {
    let deps: HashMap<&str, &Vec<String>> = body
        .items
        .iter()
        .map(|i| (i.id.as_str(), &i.depends_on))
        .collect();
    for item in &body.items {
        let mut stack: Vec<&str> = item.depends_on.iter().map(String::as_str).collect();
        let mut seen: HashSet<&str> = HashSet::new();
        while let Some(next) = stack.pop() {
            if next == item.id {
                c.at(
                    &sub(&item.loc, "depends_on"),
                    format!("item {:?} depends on itself through other items", item.id),
                );
                break;
            }
            if seen.insert(next) {
                stack.extend(
                    deps.get(next)
                        .into_iter()
                        .flat_map(|d| d.iter().map(String::as_str)),
                );
            }
        }
    }
}

fn sub(loc: &Loc, key: &str) -> Loc {
    loc.child(key)
}
