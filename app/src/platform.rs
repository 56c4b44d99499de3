//! The one module that talks to the provincial platform: it maps the kiosk's domain onto the
//! platform's wire types (`kiosk_platform::wire`) and back, delivers outbox rows, and answers
//! the journeys' live look-ups.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use kiosk_platform::wire::{
    self, ApplicationSubmission, Dataset, IdKind, IdentifiedBy, ItemResult, ProgressByCodeRequest,
    ProgressByIdNumberRequest, ResultKind, Role, SharedDataRequest, SubmittedItem,
};
use kiosk_platform::{PlatformClient, PlatformError};

use crate::catalogue::{Catalogue, Delivery, Importance};
use crate::domain::application::{Application, MaterialState, ValueSource};
use crate::domain::evaluation::Evaluation;
use crate::domain::progress::{ItemProgress, ItemState, ProgressRecord};
use crate::flows::effect::ProgressQuery;
use crate::flows::event::LookupFailure;
use crate::outbox::{Deliver, Outcome};
use crate::store::{OutboxKind, OutboxRow, Store};

/// The platform role of a catalogue applicant role.
pub fn role(catalogue_role: &str) -> Role {
    match catalogue_role {
        "father" => Role::Father,
        "mother" => Role::Mother,
        "spouse-a" | "spouse-b" => Role::Spouse,
        "guardian" => Role::Guardian,
        "agent" => Role::Agent,
        _ => Role::Applicant,
    }
}

/// Builds the submission the platform receives for an accepted application.
pub fn submission(
    app: &Application,
    catalogue: &Catalogue,
    page_sizes: &dyn Fn(&str) -> u64,
) -> ApplicationSubmission {
    let one = catalogue.one_thing(&app.one_thing_id);
    let items = app
        .items
        .iter()
        .map(|id| {
            let item = one.and_then(|o| o.item(id));
            SubmittedItem {
                item_id: id.clone(),
                name: item.map_or_else(|| id.clone(), |i| i.name.clone()),
                department: item
                    .map(|i| catalogue.department_name(&i.department).to_owned())
                    .unwrap_or_default(),
                time_limit_working_days: item.map_or(1, |i| i.time_limit_days),
                depends_on: item
                    .map(|i| {
                        i.depends_on
                            .iter()
                            .filter(|d| app.items.contains(d))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default(),
                result: item.map(|i| ItemResult {
                    name: i.result.clone(),
                    kind: if i.id == "social-security-card" {
                        ResultKind::SocialSecurityCard
                    } else {
                        ResultKind::Document
                    },
                }),
            }
        })
        .collect();
    let applicants = app
        .applicants
        .iter()
        .map(|(r, p)| wire::Applicant {
            role: role(r),
            name: p.name.clone(),
            id_number: p.id_number.clone(),
            id_kind: match p.id_number.as_bytes().first() {
                Some(b'8') => IdKind::HkMoTwPermit,
                Some(b'9') => IdKind::ForeignPermanent,
                Some(c) if c.is_ascii_alphabetic() => IdKind::ForeignPermanent,
                _ => IdKind::Resident,
            },
            gender: match p.gender.as_str() {
                "male" => Some(wire::Gender::Male),
                "female" => Some(wire::Gender::Female),
                _ => None,
            },
            birth_date: Some(p.birth_date),
            nation: p.nation.clone(),
            address: p.address.clone(),
            identified_by: if p.verified_by == "card" {
                IdentifiedBy::IdCard
            } else {
                IdentifiedBy::Typed
            },
        })
        .collect();
    let form = app
        .form
        .iter()
        .map(|(k, v)| {
            let source = match &v.source {
                ValueSource::Card { person } => wire::ValueSource::Card {
                    role: Some(role(person)),
                },
                ValueSource::Shared { dataset } => match dataset.parse::<Dataset>() {
                    Ok(dataset) => wire::ValueSource::Shared {
                        dataset,
                        role: None,
                    },
                    Err(_) => wire::ValueSource::Typed,
                },
                ValueSource::Answer | ValueSource::Typed => wire::ValueSource::Typed,
            };
            (
                k.clone(),
                wire::FormValue {
                    value: v.value.clone(),
                    source,
                },
            )
        })
        .collect();
    let accepted_on = app
        .accepted_at
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date();
    let materials = app
        .materials
        .iter()
        .map(|m| {
            let def = one.and_then(|o| o.body.materials.iter().find(|d| d.id == m.id));
            let state = match &m.state {
                MaterialState::FromCard { person } => wire::MaterialState::FromCard {
                    role: Some(role(person)),
                },
                MaterialState::MergedForm | MaterialState::Signed => wire::MaterialState::Form,
                MaterialState::Shared { dataset } => match dataset.parse::<Dataset>() {
                    Ok(dataset) => wire::MaterialState::Shared {
                        dataset,
                        role: def.and_then(|d| d.person.as_deref()).map(role),
                    },
                    Err(_) => wire::MaterialState::Form,
                },
                MaterialState::Scanned { pages } => wire::MaterialState::Scanned {
                    pages: pages
                        .iter()
                        .map(|sha| wire::PageRef {
                            sha256: sha.clone(),
                            bytes: page_sizes(sha),
                        })
                        .collect(),
                },
                MaterialState::CommittedLater { deadline } => wire::MaterialState::CommittedLater {
                    deadline: deadline.unwrap_or(accepted_on),
                },
            };
            wire::Material {
                material_id: m.id.clone(),
                name: def.map_or_else(|| m.id.clone(), |d| d.name.clone()),
                primary: def.is_none_or(|d| d.importance == Importance::Primary),
                state,
            }
        })
        .collect();
    let main = app.main_applicant();
    let delivery = match app.delivery {
        Delivery::Locker => wire::Delivery::Locker {
            kiosk_id: app.kiosk_id.clone(),
        },
        Delivery::Mail => wire::Delivery::Mail {
            address: wire::MailingAddress {
                recipient: main.map(|p| p.name.clone()).unwrap_or_default(),
                phone: app.contact_phone.clone().unwrap_or_default(),
                province: String::new(),
                city: String::new(),
                district: String::new(),
                detail: app.mailing_address.clone().unwrap_or_default(),
                postcode: None,
            },
        },
        Delivery::Window => wire::Delivery::Window { place: None },
        Delivery::OnTheSpot => wire::Delivery::OnTheSpot,
    };
    ApplicationSubmission {
        application_id: app.id,
        application_number: app.number.clone(),
        kiosk_id: app.kiosk_id.clone(),
        one_thing_id: app.one_thing_id.clone(),
        one_thing_name: one.map_or_else(|| app.one_thing_id.clone(), |o| o.name.clone()),
        catalogue_version: Some(catalogue.version.clone()),
        items,
        applicants,
        form,
        materials,
        delivery,
        contact_phone: app.contact_phone.clone().unwrap_or_default(),
        accepted_at: app.accepted_at,
        due_date: app.due_date,
        query_code_sha256: app.query_code_hash.clone(),
    }
}

/// A card-making result waiting to be reported.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CardResultPayload {
    pub request_id: String,
    pub idempotency_key: uuid::Uuid,
    pub result: wire::CardResult,
}

/// Delivers outbox rows with the platform client.
pub struct PlatformDeliver {
    pub client: Arc<PlatformClient>,
    pub catalogue: Arc<Catalogue>,
}

fn outcome<T>(result: Result<T, PlatformError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Delivered,
        Err(e) if e.is_retryable() => Outcome::Retry(e.to_string()),
        Err(e) => Outcome::Rejected(e.to_string()),
    }
}

impl Deliver for PlatformDeliver {
    fn deliver(&self, row: OutboxRow, store: Arc<Store>) -> impl Future<Output = Outcome> + Send {
        let client = self.client.clone();
        let catalogue = self.catalogue.clone();
        async move {
            match row.kind {
                OutboxKind::SubmitApplication => {
                    let app: Application = match serde_json::from_slice(&row.payload) {
                        Ok(a) => a,
                        Err(e) => {
                            return Outcome::Rejected(format!(
                                "stored application unreadable: {e}"
                            ));
                        }
                    };
                    let sizes = |sha: &str| store.page(sha).map_or(0, |b| b.len() as u64);
                    let sub = submission(&app, &catalogue, &sizes);
                    outcome(client.submit_application(&sub).await)
                }
                OutboxKind::UploadPage => {
                    let page: crate::store::PagePayload = match serde_json::from_slice(&row.payload)
                    {
                        Ok(p) => p,
                        Err(e) => {
                            return Outcome::Rejected(format!(
                                "stored page reference unreadable: {e}"
                            ));
                        }
                    };
                    let Ok(application_id) = page.application_id.parse() else {
                        return Outcome::Rejected("bad application id".into());
                    };
                    let bytes = match store.page(&page.sha256) {
                        Ok(b) => b,
                        Err(e) => return Outcome::Rejected(format!("page file: {e}")),
                    };
                    outcome(
                        client
                            .upload_page(application_id, &page.material_id, &page.sha256, bytes)
                            .await,
                    )
                }
                OutboxKind::Evaluation => {
                    let e: Evaluation = match serde_json::from_slice(&row.payload) {
                        Ok(e) => e,
                        Err(e) => {
                            return Outcome::Rejected(format!("stored evaluation unreadable: {e}"));
                        }
                    };
                    let Ok(level) = wire::Level::try_from(e.level) else {
                        return Outcome::Rejected("bad level".into());
                    };
                    let application_id = e
                        .application_number
                        .as_deref()
                        .and_then(|n| store.application_id_by_number(n).ok().flatten());
                    let evaluation = wire::Evaluation {
                        evaluation_id: e.id,
                        kiosk_id: client.kiosk_id().to_owned(),
                        application_id,
                        level,
                        reasons: e.reasons.clone(),
                        comment: None,
                        at: e.at,
                    };
                    outcome(client.submit_evaluation(&evaluation).await)
                }
                OutboxKind::LockerEvent => {
                    match serde_json::from_slice::<wire::LockerEvent>(&row.payload) {
                        Ok(event) => outcome(client.report_locker_event(&event).await),
                        Err(e) => Outcome::Rejected(format!("stored locker event unreadable: {e}")),
                    }
                }
                OutboxKind::CardResult => {
                    match serde_json::from_slice::<CardResultPayload>(&row.payload) {
                        Ok(p) => outcome(
                            client
                                .report_card_result(&p.request_id, p.idempotency_key, &p.result)
                                .await,
                        ),
                        Err(e) => Outcome::Rejected(format!("stored card result unreadable: {e}")),
                    }
                }
            }
        }
    }
}

/// A live shared-data look-up.
pub async fn shared(
    client: &PlatformClient,
    dataset: &str,
    id_number: String,
) -> Result<BTreeMap<String, String>, LookupFailure> {
    let Ok(dataset) = dataset.parse::<Dataset>() else {
        return Err(LookupFailure::NotFound);
    };
    match client
        .lookup_shared_data(&SharedDataRequest {
            dataset,
            id_number,
            role: None,
        })
        .await
    {
        Ok(Some(record)) => Ok(record.fields),
        Ok(None) => Err(LookupFailure::NotFound),
        Err(e) if e.is_unavailable() => Err(LookupFailure::Unavailable),
        Err(_) => Err(LookupFailure::NotFound),
    }
}

/// A live progress inquiry.
pub async fn progress(
    client: &PlatformClient,
    query: ProgressQuery,
) -> Result<Vec<ProgressRecord>, LookupFailure> {
    let answer = match query {
        ProgressQuery::Number { number, code } => client
            .progress_by_code(&ProgressByCodeRequest {
                application_number: number,
                query_code: code,
            })
            .await
            .map(|r| r.map(|r| r.applications)),
        ProgressQuery::IdNumber(id_number) => client
            .progress_by_id_number(&ProgressByIdNumberRequest { id_number })
            .await
            .map(|r| Some(r.applications)),
    };
    match answer {
        Ok(Some(apps)) => Ok(apps.iter().map(record).collect()),
        Ok(None) => Err(LookupFailure::NotFound),
        Err(e) if e.is_unavailable() => Err(LookupFailure::Unavailable),
        Err(_) => Err(LookupFailure::NotFound),
    }
}

fn record(app: &wire::ApplicationProgress) -> ProgressRecord {
    let items = app
        .items
        .iter()
        .map(|i| ItemProgress {
            name: i.name.clone(),
            department: i.department.clone(),
            state: match &i.state {
                wire::ItemState::Accepted => ItemState::Accepted,
                wire::ItemState::Waiting { for_item_name, .. } => ItemState::Waiting {
                    for_item: for_item_name.clone(),
                },
                wire::ItemState::InProgress { .. } => ItemState::InProgress,
                wire::ItemState::Done { .. } => ItemState::Done,
                wire::ItemState::Refused { reason, .. } => ItemState::Refused {
                    reason: reason.clone(),
                },
            },
        })
        .collect();
    ProgressRecord {
        number: app.case_number.clone(),
        one_thing: app.one_thing_name.clone(),
        accepted_on: app
            .accepted_at
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .date()
            .to_string(),
        items,
        collect: collection_text(&app.collection),
    }
}

/// Where and how to collect the results, in words for the resident.
fn collection_text(c: &wire::Collection) -> Option<String> {
    Some(match c {
        wire::Collection::NotReady | wire::Collection::NothingToCollect => return None,
        wire::Collection::ReadyForLocker { .. } => {
            "已办结，正在放入本中心智能取件柜，放好后会发短信通知您".to_owned()
        }
        wire::Collection::InLocker {
            compartment_label, ..
        } => {
            format!("已放入本中心智能取件柜 {compartment_label} 号格，请凭身份证或取件码领取")
        }
        wire::Collection::Collected { .. } => "已领取".to_owned(),
        wire::Collection::Recalled { .. } => "取件柜超期未取，已收回，请到综合窗口领取".to_owned(),
        wire::Collection::Mailed {
            carrier,
            tracking_number,
            ..
        } => format!("已邮寄：{carrier} {tracking_number}"),
        wire::Collection::AtWindow { place } => match place {
            Some(p) => format!("请到{p}领取"),
            None => "请到综合窗口领取".to_owned(),
        },
        wire::Collection::HandedOver => "已交付".to_owned(),
    })
}

/// Finished applications the platform wants loaded into this kiosk's locker.
pub async fn lockers_ready(
    client: &PlatformClient,
) -> Result<Vec<crate::domain::locker::ReadyApplication>, LookupFailure> {
    use crate::domain::locker::{ReadyApplication, Size};
    match client.lockers_ready().await {
        Ok(answer) => Ok(answer
            .applications
            .into_iter()
            .map(|a| ReadyApplication {
                application_id: a.application_id,
                case_number: a.case_number,
                applicant_masked: a.applicant_masked,
                holder_hashes: a.applicant_id_sha256,
                documents: a.items.into_iter().map(|i| i.result).collect(),
                size: match a.size_hint {
                    wire::SizeHint::S => Size::S,
                    wire::SizeHint::M => Size::M,
                    wire::SizeHint::L => Size::L,
                },
                ready_since_ms: a.ready_since.as_millisecond(),
            })
            .collect()),
        Err(e) if e.is_unavailable() => Err(LookupFailure::Unavailable),
        Err(_) => Err(LookupFailure::NotFound),
    }
}
