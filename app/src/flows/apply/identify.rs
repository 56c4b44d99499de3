//! ID cards for every applicant the one-thing needs, then the situation questions and the
//! items the resident keeps.

use kiosk_idcard::identity::{Identity, ValidUntil};

use super::{Apply, Out, Stage};
use crate::bi;
use crate::catalogue::OneThing;
use crate::domain::person::Person;
use crate::domain::text::Bilingual;
use crate::flows::Ctx;

impl Apply {
    /// A card read while the journey waits for one fills the next applicant.
    pub fn on_card(&mut self, identity: &Identity, ctx: &Ctx<'_>) -> Out {
        if self.stage != Stage::Identify {
            return Out::default();
        }
        let Some(role) = self.awaited_role(ctx) else {
            return Out::default();
        };
        let today = ctx.now.date();
        if let ValidUntil::Date(until) = identity.valid_until
            && until < today
        {
            self.message = Some(bi!(
                "这张身份证已过期，不能用于办理。请到综合窗口办理，或换一张有效证件。",
                "This ID card has expired and cannot be used. Please go to the service window or use a valid card."
            ));
            return Out::default();
        }
        if let Some((other, _)) = self
            .applicants
            .iter()
            .find(|(_, p)| p.id_number == identity.id_number)
        {
            let label = self.role_label(ctx, other);
            self.message = Some(Bilingual::new(
                format!(
                    "这张身份证已经读过了（{}）。请放{}的身份证。",
                    label.zh, role.label
                ),
                format!(
                    "This card was already read ({}). Please place the {}'s card.",
                    label.en,
                    role.label_en.to_lowercase()
                ),
            ));
            return Out::default();
        }
        let person = Person::from_card(identity);
        self.message = Some(Bilingual::new(
            format!("已读取{}：{}", role.label, person.masked_name()),
            format!("{} read: {}", role.label_en, person.masked_name()),
        ));
        self.applicants.push((role.role.clone(), person));
        if self.awaited_role(ctx).is_none()
            && let Some(one) = self.one_thing(ctx)
        {
            self.after_identify(one);
        }
        Out::default()
    }

    fn role_label(&self, ctx: &Ctx<'_>, role: &str) -> Bilingual {
        self.one_thing(ctx)
            .and_then(|o| o.body.applicants.iter().find(|a| a.role == role))
            .map_or_else(Bilingual::default, |a| {
                Bilingual::new(a.label.clone(), a.label_en.clone())
            })
    }

    pub(super) fn after_identify(&mut self, one: &OneThing) {
        self.next_question(one, 0);
    }

    /// Moves to question `index`, or past the last one to the items.
    pub(super) fn next_question(&mut self, one: &OneThing, index: usize) {
        if index < one.body.questions.len() {
            self.stage = Stage::Question(index);
        } else {
            if self.chosen.is_empty() {
                self.chosen = initial_items(one, &self.answers);
            }
            self.stage = Stage::Items;
        }
    }

    pub(super) fn answer(&mut self, question: &str, value: &str, ctx: &Ctx<'_>) -> Out {
        let Some(one) = self.one_thing(ctx) else {
            return Out::default();
        };
        let Stage::Question(index) = self.stage else {
            return Out::default();
        };
        let Some(q) = one.body.questions.get(index).filter(|q| q.id == question) else {
            return Out::default();
        };
        let Some(option) = q.options.iter().find(|o| o.value == value) else {
            return Out::default();
        };
        self.answers.insert(q.id.clone(), option.value.clone());
        // Answers change which items are proposed; recompute from the catalogue defaults.
        self.chosen = initial_items(one, &self.answers);
        if let Some(reason) = &option.not_eligible {
            self.stage = Stage::NotEligible(Bilingual::new(
                reason.clone(),
                reason_en(one, &option.label_en),
            ));
            return Out::default();
        }
        self.next_question(one, index + 1);
        Out::default()
    }

    /// Keeps or drops an item; items the law joins move together.
    pub(super) fn toggle(&mut self, item: &str, ctx: &Ctx<'_>) {
        let Some(one) = self.one_thing(ctx) else {
            return;
        };
        let Some(found) = one.item(item) else { return };
        let group: Vec<&str> = std::iter::once(found.id.as_str())
            .chain(found.must_go_with.iter().map(String::as_str))
            .collect();
        if self.chosen.iter().any(|c| c == item) {
            self.chosen.retain(|c| !group.contains(&c.as_str()));
        } else {
            for id in group {
                if !self.chosen.iter().any(|c| c == id) {
                    self.chosen.push(id.to_owned());
                }
            }
        }
        // Keep dependency order, as the items will be sent.
        let order: Vec<String> = one.items_in_order().iter().map(|i| i.id.clone()).collect();
        self.chosen
            .sort_by_key(|c| order.iter().position(|o| o == c));
    }
}

fn reason_en(one: &OneThing, answer_en: &str) -> String {
    format!(
        "With the answer \"{answer_en}\", {} cannot be applied for at this kiosk. Please ask at the service window.",
        one.name_en
    )
}

/// Items proposed after the answers: defaults, plus what answers select, minus what they
/// deselect, in dependency order.
pub fn initial_items(
    one: &OneThing,
    answers: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let mut chosen: Vec<String> = one
        .body
        .items
        .iter()
        .filter(|i| i.default_selected)
        .map(|i| i.id.clone())
        .collect();
    for q in &one.body.questions {
        let Some(value) = answers.get(&q.id) else {
            continue;
        };
        let Some(option) = q.options.iter().find(|o| &o.value == value) else {
            continue;
        };
        for s in &option.select {
            if !chosen.contains(s) {
                chosen.push(s.clone());
            }
        }
        chosen.retain(|c| !option.deselect.contains(c));
        if let Some(situation) = option
            .situation
            .as_ref()
            .and_then(|s| one.body.situations.iter().find(|x| &x.id == s))
        {
            for item in &situation.items {
                if !chosen.contains(item) {
                    chosen.push(item.clone());
                }
            }
        }
    }
    let order: Vec<String> = one.items_in_order().iter().map(|i| i.id.clone()).collect();
    chosen.sort_by_key(|c| order.iter().position(|o| o == c));
    chosen
}
