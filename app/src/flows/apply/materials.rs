//! Materials: what the cards and shared data already supply, what must be scanned, and what a
//! resident may commit to supply later (secondary materials only, 容缺).

use super::{Apply, MaterialEntry, MaterialStatus, SharedState, Stage};
use crate::bi;
use crate::catalogue::{Importance, Material, MaterialSource, OneThing};
use crate::domain::text::Bilingual;
use crate::flows::Ctx;
use crate::flows::event::{LookupFailure, ScannedPage};

impl Apply {
    /// Works out each material's status for the chosen items, keeping scans and commitments
    /// already made.
    pub(super) fn build_materials(&mut self, one: &OneThing) {
        let previous = std::mem::take(&mut self.materials);
        let first_role = one
            .body
            .applicants
            .first()
            .map(|a| a.role.clone())
            .unwrap_or_default();
        for m in one.materials_for(&self.chosen) {
            let kept = previous.iter().find(|p| {
                p.id == m.id
                    && matches!(
                        p.status,
                        MaterialStatus::Scanned { .. }
                            | MaterialStatus::CommittedLater
                            | MaterialStatus::Signed
                    )
            });
            let status = match kept {
                Some(p) => p.status.clone(),
                None => self.initial_status(m, &first_role),
            };
            self.materials.push(MaterialEntry {
                id: m.id.clone(),
                status,
            });
        }
    }

    fn initial_status(&self, m: &Material, first_role: &str) -> MaterialStatus {
        let role = m
            .person
            .as_deref()
            .and_then(|p| self.resolve_role(p))
            .unwrap_or_else(|| first_role.to_owned());
        match m.source {
            MaterialSource::MergedForm => MaterialStatus::MergedForm,
            MaterialSource::IdCard if self.applicants.iter().any(|(r, _)| *r == role) => {
                MaterialStatus::FromCard { person: role }
            }
            MaterialSource::IdCard => MaterialStatus::NeedsScan {
                why: bi!(
                    "请扫描身份证正反面",
                    "Please scan both sides of the ID card"
                ),
            },
            MaterialSource::Shared => {
                let dataset = m.dataset.clone().unwrap_or_default();
                match self.shared.get(&(dataset.clone(), role)) {
                    Some(SharedState::Found(_)) => MaterialStatus::Shared { dataset },
                    Some(SharedState::Failed(LookupFailure::NotFound)) => {
                        MaterialStatus::NeedsScan {
                            why: bi!(
                                "数据共享中没有查到，请扫描原件",
                                "Not found by data sharing: please scan the original"
                            ),
                        }
                    }
                    _ => MaterialStatus::NeedsScan {
                        why: bi!(
                            "数据共享暂时不可用，请扫描原件",
                            "Data sharing is unavailable: please scan the original"
                        ),
                    },
                }
            }
            MaterialSource::Scan => MaterialStatus::NeedsScan {
                why: bi!("请扫描原件", "Please scan the original"),
            },
            MaterialSource::SignedForm => MaterialStatus::NeedsSignature,
        }
    }

    pub(super) fn on_scan_page(&mut self, material: &str, page: ScannedPage) {
        if let Some(m) = self.materials.iter_mut().find(|m| m.id == material) {
            match &mut m.status {
                MaterialStatus::Scanned { pages } => {
                    if !pages.iter().any(|p| p.sha256 == page.sha256) {
                        pages.push(page);
                    }
                }
                other => *other = MaterialStatus::Scanned { pages: vec![page] },
            }
        }
        if self.stage == Stage::Scanning(material.to_owned()) {
            self.stage = Stage::Materials;
            self.scan_percent = 100;
        }
    }

    pub(super) fn on_scan_failed(&mut self, material: &str, reason: Bilingual) {
        if self.stage == Stage::Scanning(material.to_owned()) {
            self.stage = Stage::Materials;
        }
        self.message = Some(reason);
    }

    pub(super) fn commit_later(&mut self, material: &str, ctx: &Ctx<'_>) {
        let Some(one) = self.one_thing(ctx) else {
            return;
        };
        let Some(def) = one.body.materials.iter().find(|m| m.id == material) else {
            return;
        };
        if def.importance != Importance::Secondary {
            self.message = Some(bi!(
                "这份材料是必需的，不能以后补交。请扫描，或带原件到窗口办理。",
                "This document is required and cannot be supplied later. Please scan it, or bring the original to the window."
            ));
            return;
        }
        if let Some(m) = self.materials.iter_mut().find(|m| m.id == material)
            && !m.status.is_supplied()
        {
            m.status = MaterialStatus::CommittedLater;
        }
    }

    pub(super) fn undo_commit(&mut self, material: &str, ctx: &Ctx<'_>) {
        let Some(one) = self.one_thing(ctx) else {
            return;
        };
        let Some(def) = one.body.materials.iter().find(|m| m.id == material) else {
            return;
        };
        let first_role = one
            .body
            .applicants
            .first()
            .map(|a| a.role.clone())
            .unwrap_or_default();
        let status = self.initial_status(def, &first_role);
        if let Some(m) = self.materials.iter_mut().find(|m| m.id == material)
            && m.status == MaterialStatus::CommittedLater
        {
            m.status = status;
        }
    }

    /// Missing primary materials refuse the application with one notice of everything
    /// missing; a missing secondary one needs the resident's decision (scan or commit).
    pub(super) fn finish_materials(&mut self, one: &OneThing) {
        let missing = self.missing(one);
        if missing.iter().any(|m| m.importance == Importance::Primary) {
            self.stage = Stage::Missing;
            return;
        }
        if let Some(undecided) = missing.first() {
            self.message = Some(Bilingual::new(
                format!(
                    "“{}”还没有提供：请扫描，或选择“以后补交”并承诺期限",
                    undecided.name
                ),
                format!(
                    "\"{}\" is not supplied yet: scan it, or choose \"supply later\" and commit to the deadline",
                    undecided.name_en
                ),
            ));
            return;
        }
        if self.delivery.is_none() {
            self.delivery = one.body.delivery.first().copied();
        }
        self.stage = Stage::Review;
    }

    /// Materials not supplied and not committed for later.
    pub fn missing<'c>(&self, one: &'c OneThing) -> Vec<&'c Material> {
        self.materials
            .iter()
            .filter(|m| !m.status.is_supplied() && m.status != MaterialStatus::CommittedLater)
            .filter_map(|m| one.body.materials.iter().find(|d| d.id == m.id))
            .collect()
    }
}
