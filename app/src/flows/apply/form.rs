//! The one merged form (一表申请): shared data is fetched for the chosen items, every field
//! the cards and shared data can fill is filled, and only the rest is typed.

use super::{Apply, FormEntry, Out, SharedState, Stage};
use crate::bi;
use crate::catalogue::{Field, MaterialSource, OneThing, PrefillFrom};
use crate::domain::application::ValueSource;
use crate::domain::person::Person;
use crate::domain::text::Bilingual;
use crate::domain::validate;
use crate::flows::effect::Effect;
use crate::flows::event::LookupFailure;
use crate::flows::{Ctx, SessionId};

impl Apply {
    /// The applicant role a `person` reference names (`answer:<question>` takes it from an
    /// answer, e.g. which parent the child registers with).
    pub(super) fn resolve_role(&self, person: &str) -> Option<String> {
        match person.strip_prefix("answer:") {
            Some(question) => self.answers.get(question).cloned(),
            None => Some(person.to_owned()),
        }
    }

    fn person(&self, role: &str) -> Option<&Person> {
        self.applicants
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, p)| p)
    }

    /// Asks the platform for every dataset the form and the materials need.
    pub(super) fn start_fetching(&mut self, one: &OneThing, session: SessionId) -> Out {
        let mut wanted: Vec<(String, String)> = Vec::new();
        for f in one.fields_for(&self.chosen) {
            if f.prefill.from == PrefillFrom::Shared
                && let (Some(dataset), Some(role)) = (
                    f.prefill.dataset.clone(),
                    f.prefill
                        .person
                        .as_deref()
                        .and_then(|p| self.resolve_role(p)),
                )
            {
                wanted.push((dataset, role));
            }
        }
        let first_role = one
            .body
            .applicants
            .first()
            .map(|a| a.role.clone())
            .unwrap_or_default();
        for m in one.materials_for(&self.chosen) {
            if m.source == MaterialSource::Shared
                && let Some(dataset) = m.dataset.clone()
            {
                let role = m
                    .person
                    .as_deref()
                    .and_then(|p| self.resolve_role(p))
                    .unwrap_or_else(|| first_role.clone());
                wanted.push((dataset, role));
            }
        }
        wanted.sort();
        wanted.dedup();
        let mut effects = Vec::new();
        for (dataset, role) in wanted {
            let key = (dataset.clone(), role.clone());
            if matches!(self.shared.get(&key), Some(SharedState::Found(_))) {
                continue;
            }
            let Some(id_number) = self.person(&role).map(|p| p.id_number.clone()) else {
                continue;
            };
            self.shared.insert(key, SharedState::Pending);
            effects.push(Effect::FetchShared {
                session,
                dataset,
                role,
                id_number,
            });
        }
        if effects.is_empty() {
            self.build_form(one);
        } else {
            self.stage = Stage::Fetching;
        }
        Out {
            effects,
            exit: None,
        }
    }

    pub(super) fn on_shared(
        &mut self,
        dataset: String,
        role: String,
        result: Result<std::collections::BTreeMap<String, String>, LookupFailure>,
        ctx: &Ctx<'_>,
    ) {
        let state = match result {
            Ok(fields) => SharedState::Found(fields),
            Err(failure) => SharedState::Failed(failure),
        };
        self.shared.insert((dataset, role), state);
        if self.stage == Stage::Fetching
            && !self.shared.values().any(|s| *s == SharedState::Pending)
            && let Some(one) = self.one_thing(ctx)
        {
            self.build_form(one);
        }
    }

    /// Fills the form for the chosen items, keeping whatever the resident typed before.
    fn build_form(&mut self, one: &OneThing) {
        let previous = std::mem::take(&mut self.form);
        for f in one.fields_for(&self.chosen) {
            let typed = previous
                .iter()
                .find(|e| e.field == f.id && e.source == Some(ValueSource::Typed));
            let entry = match typed {
                Some(e) => e.clone(),
                None => self.prefill(f, one),
            };
            self.form.push(entry);
        }
        if self
            .shared
            .values()
            .any(|s| *s == SharedState::Failed(LookupFailure::Unavailable))
        {
            self.message = Some(bi!(
                "政务服务平台暂时连不上，部分信息需要您自己填写，所需材料可以扫描。",
                "The platform cannot be reached right now: please fill in the missing details yourself; documents can be scanned."
            ));
        }
        self.stage = Stage::Form;
    }

    fn prefill(&self, f: &Field, one: &OneThing) -> FormEntry {
        let empty = FormEntry {
            field: f.id.clone(),
            value: String::new(),
            source: None,
            locked: false,
            error: None,
        };
        let p = &f.prefill;
        match p.from {
            PrefillFrom::Card => {
                let role = p.person.clone().unwrap_or_default();
                let value = self
                    .person(&role)
                    .and_then(|person| card_value(person, p.field.as_deref().unwrap_or_default()));
                match value {
                    Some(value) => FormEntry {
                        value,
                        source: Some(ValueSource::Card { person: role }),
                        locked: true,
                        ..empty
                    },
                    None => empty,
                }
            }
            PrefillFrom::Shared => {
                let dataset = p.dataset.clone().unwrap_or_default();
                let role = p
                    .person
                    .as_deref()
                    .and_then(|r| self.resolve_role(r))
                    .unwrap_or_default();
                let value = match self.shared.get(&(dataset.clone(), role)) {
                    Some(SharedState::Found(fields)) => {
                        p.field.as_ref().and_then(|k| fields.get(k)).cloned()
                    }
                    _ => None,
                };
                match value {
                    Some(value) => FormEntry {
                        value,
                        source: Some(ValueSource::Shared { dataset }),
                        ..empty
                    },
                    None => empty,
                }
            }
            PrefillFrom::Answer => {
                let q = p.field.as_deref().unwrap_or_default();
                let label = one.question(q).and_then(|question| {
                    let value = self.answers.get(q)?;
                    question
                        .options
                        .iter()
                        .find(|o| &o.value == value)
                        .map(|o| o.label.clone())
                });
                match label {
                    Some(value) => FormEntry {
                        value,
                        source: Some(ValueSource::Answer),
                        locked: true,
                        ..empty
                    },
                    None => empty,
                }
            }
            PrefillFrom::Resident => empty,
        }
    }

    pub(super) fn set_field(&mut self, field: &str, value: &str, ctx: &Ctx<'_>) {
        let Some(one) = self.one_thing(ctx) else {
            return;
        };
        let Some(def) = one.body.fields.iter().find(|f| f.id == field) else {
            return;
        };
        let Some(entry) = self.form.iter_mut().find(|e| e.field == field) else {
            return;
        };
        if entry.locked {
            return;
        }
        value.clone_into(&mut entry.value);
        entry.source = Some(ValueSource::Typed);
        entry.error = if value.trim().is_empty() && !def.required {
            None
        } else {
            validate::field(def.kind, value, &def.options, ctx.now.date()).err()
        };
        if entry.error.is_none()
            && !value.trim().is_empty()
            && let Ok(clean) = validate::field(def.kind, value, &def.options, ctx.now.date())
        {
            entry.value = clean;
        }
    }

    pub(super) fn finish_form(&mut self, one: &OneThing, ctx: &Ctx<'_>) {
        let today = ctx.now.date();
        let mut problems = 0;
        for entry in &mut self.form {
            let Some(def) = one.body.fields.iter().find(|f| f.id == entry.field) else {
                continue;
            };
            if entry.value.trim().is_empty() && !def.required {
                entry.error = None;
                continue;
            }
            match validate::field(def.kind, &entry.value, &def.options, today) {
                Ok(clean) => {
                    entry.value = clean;
                    entry.error = None;
                }
                Err(e) => {
                    entry.error = Some(e);
                    problems += 1;
                }
            }
        }
        if problems > 0 {
            self.message = Some(Bilingual::new(
                format!("还有{problems}项需要填写或更正，已用红色标出"),
                format!("{problems} field(s) still need filling in or correcting (marked in red)"),
            ));
            return;
        }
        self.build_materials(one);
        self.stage = Stage::Materials;
    }
}

/// The value of an ID-card field as the form shows it.
fn card_value(person: &Person, field: &str) -> Option<String> {
    match field {
        "name" => Some(person.name.clone()),
        "id_number" => Some(person.id_number.clone()),
        "gender" => Some(match person.gender.as_str() {
            "male" => "男".to_owned(),
            "female" => "女".to_owned(),
            _ => "未知".to_owned(),
        }),
        "nation" => person.nation.clone(),
        "birth_date" => Some(person.birth_date.to_string()),
        "address" => person.address.clone(),
        "issuing_authority" => person.issuing_authority.clone(),
        _ => None,
    }
}
