//! Browsing the simplified guides (简版办事指南, C.1–C.8) and printing a guide slip whose QR
//! code leads to the full guide (DB33/T 2304 5.3.2).

use kiosk_printer::slips::{Document, GuideSlip, ItemLine};

use super::apply::{Exit, Out, PrintState};
use super::effect::Effect;
use super::event::Completion;
use super::{Ctx, SessionId};
use crate::catalogue::{Delivery, OneThing};

#[derive(Debug, Clone)]
pub enum GuideAction {
    ChooseLifeStage(String),
    ChooseOneThing(String),
    Print,
    Back,
    /// Start applying for the one-thing on screen.
    ApplyNow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideStage {
    LifeStage,
    OneThing { life_stage: String },
    View { one_thing: String },
}

#[derive(Debug, Clone)]
pub struct Guide {
    pub stage: GuideStage,
    pub print: PrintState,
}

impl Default for Guide {
    fn default() -> Self {
        Guide {
            stage: GuideStage::LifeStage,
            print: PrintState::Idle,
        }
    }
}

/// Where the guide journey leads besides home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideExit {
    Apply { one_thing: String },
}

impl Guide {
    pub fn is_busy(&self) -> bool {
        self.print == PrintState::Printing
    }

    pub fn on_action(
        &mut self,
        action: GuideAction,
        ctx: &Ctx<'_>,
        session: SessionId,
    ) -> (Out, Option<GuideExit>) {
        match action {
            GuideAction::ChooseLifeStage(stage)
                if ctx.catalogue.life_stages.contains_key(&stage) =>
            {
                self.stage = GuideStage::OneThing { life_stage: stage };
            }
            GuideAction::ChooseOneThing(id) if ctx.catalogue.one_thing(&id).is_some() => {
                self.stage = GuideStage::View { one_thing: id };
                self.print = PrintState::Idle;
            }
            GuideAction::Print => {
                if let GuideStage::View { one_thing } = &self.stage
                    && let Some(one) = ctx.catalogue.one_thing(one_thing)
                {
                    self.print = PrintState::Printing;
                    let document = Box::new(guide_slip(one, ctx));
                    return (
                        Out {
                            effects: vec![Effect::Print { session, document }],
                            exit: None,
                        },
                        None,
                    );
                }
            }
            GuideAction::Back => {
                self.stage = match &self.stage {
                    GuideStage::View { one_thing } => GuideStage::OneThing {
                        life_stage: ctx
                            .catalogue
                            .one_thing(one_thing)
                            .map(|o| o.life_stage.clone())
                            .unwrap_or_default(),
                    },
                    GuideStage::OneThing { .. } => GuideStage::LifeStage,
                    GuideStage::LifeStage => {
                        return (
                            Out {
                                effects: Vec::new(),
                                exit: Some(Exit::Home),
                            },
                            None,
                        );
                    }
                };
            }
            GuideAction::ApplyNow => {
                if let GuideStage::View { one_thing } = &self.stage {
                    return (
                        Out::default(),
                        Some(GuideExit::Apply {
                            one_thing: one_thing.clone(),
                        }),
                    );
                }
            }
            _ => {}
        }
        (Out::default(), None)
    }

    pub fn on_completion(&mut self, completion: Completion) {
        if let Completion::Printed(result) = completion {
            self.print = match result {
                Ok(()) => PrintState::Printed,
                Err(reason) => PrintState::Failed(reason),
            };
        }
    }
}

/// The guide slip for a one-thing, C.1–C.8 with the items and a QR code to the full guide.
pub fn guide_slip(one: &OneThing, ctx: &Ctx<'_>) -> Document {
    let body = &one.body;
    let delivery: Vec<&str> = body
        .delivery
        .iter()
        .map(|d| match d {
            Delivery::Locker => "申请人到智能取件柜自取",
            Delivery::Mail => "邮寄送达",
            Delivery::Window => "到窗口领取",
            Delivery::OnTheSpot => "现场领取",
        })
        .collect();
    let excludes = body
        .time_limit
        .excludes
        .as_deref()
        .map(|e| format!("（{e}）"))
        .unwrap_or_default();
    Document::Guide(GuideSlip {
        centre_name: ctx.centre.name.clone(),
        name: one.name.clone(),
        scope: body.guide.scope.clone(),
        items: body
            .items
            .iter()
            .map(|i| ItemLine {
                name: i.name.clone(),
                department: ctx.catalogue.department_name(&i.department).to_owned(),
            })
            .collect(),
        materials: body.materials.iter().map(|m| m.name.clone()).collect(),
        time_limit: format!("{}个工作日{excludes}", body.time_limit.working_days),
        fees: body.fee.clone(),
        delivery: format!("{}。", delivery.join("，或")),
        consultation: format!(
            "{} 咨询电话：{}",
            body.guide.consultation, ctx.centre.consultation_phone
        ),
        address_and_hours: format!("{}；{}", ctx.centre.address, ctx.centre.opening_hours),
        full_guide_url: format!("{}/{}", ctx.centre.guide_url, body.guide.full_guide_path),
    })
}
