//! Progress inquiry: by ID card, or by the application number and code on the notice. Shows
//! each item with its department and state, and a refusal with its reason.

use super::apply::{Exit, Out};
use super::effect::{Effect, ProgressQuery};
use super::event::{Completion, LookupFailure};
use super::{Ctx, SessionId};
use crate::bi;
use crate::domain::progress::ProgressRecord;
use crate::domain::text::Bilingual;

#[derive(Debug, Clone)]
pub enum ProgressAction {
    ByCard,
    ByNumber,
    SetNumber(String),
    SetCode(String),
    Search,
    Back,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressStage {
    Choose,
    WaitCard,
    EnterNumber,
    Loading,
    Results(Vec<ProgressRecord>),
    NotFound,
    Unavailable,
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub stage: ProgressStage,
    pub number: String,
    pub code: String,
    pub message: Option<Bilingual>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            stage: ProgressStage::Choose,
            number: String::new(),
            code: String::new(),
            message: None,
        }
    }
}

impl Progress {
    pub fn is_busy(&self) -> bool {
        self.stage == ProgressStage::Loading
    }

    pub fn on_action(&mut self, action: ProgressAction, session: SessionId) -> Out {
        self.message = None;
        match action {
            ProgressAction::ByCard => self.stage = ProgressStage::WaitCard,
            ProgressAction::ByNumber => self.stage = ProgressStage::EnterNumber,
            ProgressAction::SetNumber(n) => {
                self.number = n.chars().filter(char::is_ascii_digit).take(20).collect();
            }
            ProgressAction::SetCode(c) => {
                self.code = c.chars().filter(char::is_ascii_digit).take(6).collect();
            }
            ProgressAction::Search if self.stage == ProgressStage::EnterNumber => {
                if self.number.len() < 12 || self.code.len() != 6 {
                    self.message = Some(bi!(
                        "请输入受理通知上的受理编号和6位查询码",
                        "Please enter the application number and the 6-digit code from the notice"
                    ));
                    return Out::default();
                }
                self.stage = ProgressStage::Loading;
                let query = ProgressQuery::Number {
                    number: format_number(&self.number),
                    code: self.code.clone(),
                };
                return Out {
                    effects: vec![Effect::FetchProgress { session, query }],
                    exit: None,
                };
            }
            ProgressAction::Back => {
                self.stage = match self.stage {
                    ProgressStage::Choose => {
                        return Out {
                            effects: Vec::new(),
                            exit: Some(Exit::Home),
                        };
                    }
                    ProgressStage::Loading => ProgressStage::Loading,
                    _ => ProgressStage::Choose,
                };
            }
            ProgressAction::Search => {}
        }
        Out::default()
    }

    pub fn on_card(&mut self, id_number: &str, session: SessionId) -> Out {
        if self.stage != ProgressStage::WaitCard {
            return Out::default();
        }
        self.stage = ProgressStage::Loading;
        Out {
            effects: vec![Effect::FetchProgress {
                session,
                query: ProgressQuery::IdNumber(id_number.to_owned()),
            }],
            exit: None,
        }
    }

    pub fn on_completion(&mut self, completion: Completion, _ctx: &Ctx<'_>) {
        if let Completion::Progress(result) = completion
            && self.stage == ProgressStage::Loading
        {
            self.stage = match result {
                Ok(records) if records.is_empty() => ProgressStage::NotFound,
                Ok(records) => ProgressStage::Results(records),
                Err(LookupFailure::NotFound) => ProgressStage::NotFound,
                Err(LookupFailure::Unavailable) => ProgressStage::Unavailable,
            };
        }
    }
}

/// Puts the dashes back into a typed number: `2611223301060100 07` → `261122-33010601-0007`.
fn format_number(digits: &str) -> String {
    if digits.len() < 11 {
        return digits.to_owned();
    }
    let (date, rest) = digits.split_at(6);
    let (kiosk, seq) = rest.split_at(rest.len() - 4);
    format!("{date}-{kiosk}-{seq}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_numbers_get_their_dashes_back() {
        assert_eq!(
            super::format_number("261122330106010007"),
            "261122-33010601-0007"
        );
    }
}
