//! 好差评: five levels, reasons for the two lowest, never forced (the resident may skip).

use super::apply::{Exit, Out};
use super::effect::Effect;
use super::event::Completion;
use super::{Ctx, SessionId};
use crate::bi;
use crate::domain::evaluation::{Evaluation, LOW_RATING_REASONS, is_low};
use crate::domain::text::Bilingual;

#[derive(Debug, Clone)]
pub enum EvaluateAction {
    Level(u8),
    ToggleReason(String),
    Submit,
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvaluateStage {
    Choose,
    Saving,
    Thanks,
}

#[derive(Debug, Clone)]
pub struct Evaluate {
    pub stage: EvaluateStage,
    pub application_number: Option<String>,
    pub level: Option<u8>,
    pub reasons: Vec<String>,
    pub message: Option<Bilingual>,
}

impl Evaluate {
    pub fn new(application_number: Option<String>) -> Self {
        Evaluate {
            stage: EvaluateStage::Choose,
            application_number,
            level: None,
            reasons: Vec::new(),
            message: None,
        }
    }

    pub fn on_action(&mut self, action: EvaluateAction, ctx: &Ctx<'_>, session: SessionId) -> Out {
        self.message = None;
        match action {
            EvaluateAction::Level(level)
                if (1..=5).contains(&level) && self.stage == EvaluateStage::Choose =>
            {
                self.level = Some(level);
                if !is_low(level) {
                    self.reasons.clear();
                }
            }
            EvaluateAction::ToggleReason(reason)
                if self.level.is_some_and(is_low)
                    && LOW_RATING_REASONS.iter().any(|(id, _, _)| *id == reason) =>
            {
                if let Some(pos) = self.reasons.iter().position(|r| *r == reason) {
                    self.reasons.remove(pos);
                } else {
                    self.reasons.push(reason);
                }
            }
            EvaluateAction::Submit if self.stage == EvaluateStage::Choose => {
                let Some(level) = self.level else {
                    self.message = Some(bi!(
                        "请先选择一个评价，或点“跳过”",
                        "Please choose a rating first, or tap Skip"
                    ));
                    return Out::default();
                };
                if is_low(level) && self.reasons.is_empty() {
                    self.message = Some(bi!(
                        "请选择不满意的原因，帮助我们改进",
                        "Please tell us what went wrong, so we can improve"
                    ));
                    return Out::default();
                }
                self.stage = EvaluateStage::Saving;
                let evaluation = Evaluation {
                    id: ctx.fresh.evaluation_id,
                    application_number: self.application_number.clone(),
                    level,
                    reasons: self.reasons.clone(),
                    at: ctx.now.timestamp(),
                };
                return Out {
                    effects: vec![Effect::SaveEvaluation {
                        session,
                        evaluation,
                    }],
                    exit: None,
                };
            }
            EvaluateAction::Skip => {
                return Out {
                    effects: Vec::new(),
                    exit: Some(Exit::Home),
                };
            }
            _ => {}
        }
        Out::default()
    }

    pub fn on_completion(&mut self, completion: &Completion) {
        if matches!(completion, Completion::EvaluationSaved) && self.stage == EvaluateStage::Saving
        {
            self.stage = EvaluateStage::Thanks;
        }
    }
}
