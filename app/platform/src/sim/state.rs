//! The simulator's state and every change to it. Each change is an [`Op`] applied by
//! [`SimState::apply`], deterministically: the same ops in the same order give the same state,
//! which is how the optional state file (a journal of ops) survives restarts.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{self, TimeZone};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::card::{self, Holder};
use super::clock::{At, Clock, DAY_MS, HOUR_MS};
use super::data::{self, People, normalise_id};
use crate::mask;
use crate::wire::{
    ApiError, ApplicationProgress, ApplicationSubmission, CardRequest, CardRequestResponse,
    CardResult, CardResultAck, CatalogueUpdate, Collection, Dataset, Delivery, Eligibility,
    EndpointStats, ErrorCode, Evaluation, EventAck, Gender, Heartbeat, HeartbeatAck, ItemProgress,
    ItemState, LockerEvent, LockerEventKind, MaterialState, PageReceipt, ReadyForLocker, ReadyItem,
    RefuseItem, ResultKind, SimApplication, SimClock, SimStats, SizeHint, SmsRecord,
    SubmissionReceipt,
};

/// An HTTP answer made by the state: status and JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply { status, body },
            Err(_) => Reply::error(500, ErrorCode::Unknown, "the answer could not be encoded"),
        }
    }

    pub fn error(status: u16, code: ErrorCode, message: &str) -> Reply {
        let body = serde_json::to_vec(&ApiError::new(code, message)).unwrap_or_default();
        Reply { status, body }
    }

    /// The same answer for a repeat: 200 instead of 201.
    #[must_use]
    pub fn repeated(&self) -> Reply {
        Reply {
            status: if self.status == 201 { 200 } else { self.status },
            body: self.body.clone(),
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The write endpoints whose counts are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Applications,
    Pages,
    CardRequests,
    CardResults,
    LockerEvents,
    Evaluations,
    Heartbeats,
}

/// One change to the state (a line of the state file). Sizes differ a lot between ops; they
/// are short-lived, so no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Submit {
        key: String,
        kiosk: String,
        submission: ApplicationSubmission,
        at: At,
    },
    Page {
        application_id: Uuid,
        material_id: String,
        sha256: String,
        body_sha256: String,
        bytes: u64,
        jpeg: bool,
        at: At,
    },
    CardRequest {
        key: String,
        request: CardRequest,
        at: At,
    },
    CardResult {
        key: String,
        request_id: String,
        result: CardResult,
        at: At,
    },
    LockerEvent {
        key: String,
        kiosk: String,
        event: LockerEvent,
        at: At,
    },
    Evaluation {
        key: String,
        kiosk: String,
        evaluation: Evaluation,
        at: At,
    },
    Heartbeat {
        key: String,
        kiosk: String,
        heartbeat: Heartbeat,
        at: At,
    },
    /// A request to a write endpoint that could not be read (bad JSON, headers).
    Rejected {
        endpoint: Endpoint,
    },
    Lookup {
        found: bool,
    },
    Progress,
    Cryptogram,
    Refuse {
        refuse: RefuseItem,
        at: At,
    },
    Advance {
        ms: u64,
    },
    SetCatalogue {
        catalogue: CatalogueUpdate,
    },
}

impl Op {
    /// The instant the op happened at, when it has one.
    pub fn at(&self) -> Option<At> {
        match self {
            Op::Submit { at, .. }
            | Op::Page { at, .. }
            | Op::CardRequest { at, .. }
            | Op::CardResult { at, .. }
            | Op::LockerEvent { at, .. }
            | Op::Evaluation { at, .. }
            | Op::Heartbeat { at, .. }
            | Op::Refuse { at, .. } => Some(*at),
            _ => None,
        }
    }
}

struct Refusal {
    item_id: String,
    reason: String,
    at_ms: u64,
}

struct LockerRecord {
    kind: LockerEventKind,
    kiosk_id: String,
    compartment_label: String,
    at: Timestamp,
}

struct AppRecord {
    submission: ApplicationSubmission,
    receipt: SubmissionReceipt,
    accepted_ms: u64,
    refusals: Vec<Refusal>,
    /// When a card made on the spot was reported issued (simulated ms).
    card_issued_ms: Option<u64>,
    card_failed: bool,
    locker: Vec<LockerRecord>,
    locker_event_ids: Vec<Uuid>,
    pages: Vec<PageReceipt>,
    card_requests: Vec<String>,
}

struct CardRequestRecord {
    request: CardRequest,
    response: CardRequestResponse,
    application_id: Option<Uuid>,
    holder_id: String,
    issued: bool,
}

struct Stored<T> {
    body: T,
    reply: Reply,
}

/// What one item looks like at an instant.
struct ItemView {
    state: ItemState,
    since_ms: u64,
    done_ms: Option<u64>,
    /// The item whose refusal stopped this one (itself when refused directly), and when.
    refused_root: Option<(usize, u64)>,
    on_the_spot: bool,
}

/// The whole simulated platform.
pub struct SimState {
    pub clock: Clock,
    pub outage: bool,
    people: People,
    applications: HashMap<Uuid, AppRecord>,
    /// Application number → application id.
    numbers: HashMap<String, Uuid>,
    pages: HashMap<(Uuid, String, String), PageReceipt>,
    card_requests: HashMap<String, CardRequestRecord>,
    card_request_keys: HashMap<String, String>,
    card_results: HashMap<String, Stored<(String, CardResult)>>,
    issued_cards: HashMap<String, String>,
    locker_events: HashMap<Uuid, Stored<LockerEvent>>,
    evaluations: HashMap<Uuid, Stored<Evaluation>>,
    heartbeat_keys: HashMap<String, Reply>,
    last_heartbeats: BTreeMap<String, Heartbeat>,
    sms: Vec<SmsRecord>,
    catalogue: Option<CatalogueUpdate>,
    stats: SimStats,
    next_card: u64,
}

const NOT_FOUND_APPLICATION: &str = "no application with this id";
/// The same words for a wrong code and an unknown number: no hint which.
const NOT_FOUND_PROGRESS: &str = "no application matches this number and code";

impl SimState {
    pub fn new(clock: Clock, people: People) -> SimState {
        SimState {
            clock,
            outage: false,
            people,
            applications: HashMap::new(),
            numbers: HashMap::new(),
            pages: HashMap::new(),
            card_requests: HashMap::new(),
            card_request_keys: HashMap::new(),
            card_results: HashMap::new(),
            issued_cards: HashMap::new(),
            locker_events: HashMap::new(),
            evaluations: HashMap::new(),
            heartbeat_keys: HashMap::new(),
            last_heartbeats: BTreeMap::new(),
            sms: Vec::new(),
            catalogue: None,
            stats: SimStats::default(),
            next_card: 1,
        }
    }

    fn endpoint(&mut self, e: Endpoint) -> &mut EndpointStats {
        match e {
            Endpoint::Applications => &mut self.stats.applications,
            Endpoint::Pages => &mut self.stats.pages,
            Endpoint::CardRequests => &mut self.stats.card_requests,
            Endpoint::CardResults => &mut self.stats.card_results,
            Endpoint::LockerEvents => &mut self.stats.locker_events,
            Endpoint::Evaluations => &mut self.stats.evaluations,
            Endpoint::Heartbeats => &mut self.stats.heartbeats,
        }
    }

    /// Counts a reply of a write endpoint: 201 distinct, 200 duplicate (or the first 200 of
    /// an endpoint that always answers 200), 409 conflict, anything else rejected.
    fn count(&mut self, e: Endpoint, reply: Reply, first: bool) -> Reply {
        let s = self.endpoint(e);
        s.received += 1;
        match reply.status {
            200..=299 if first => s.distinct += 1,
            200..=299 => s.duplicates += 1,
            409 => s.conflicts += 1,
            _ => s.rejected += 1,
        }
        reply
    }

    /// Applies one op and returns the answer for the request that caused it.
    #[allow(clippy::too_many_lines)] // one arm per op
    pub fn apply(&mut self, op: &Op) -> Reply {
        if let Some(at) = op.at() {
            self.clock.observe(at);
        }
        match op {
            Op::Submit {
                key,
                kiosk,
                submission,
                at,
            } => {
                let (reply, first) = self.submit(key, kiosk, submission, *at);
                self.count(Endpoint::Applications, reply, first)
            }
            Op::Page {
                application_id,
                material_id,
                sha256,
                body_sha256,
                bytes,
                jpeg,
                ..
            } => {
                let (reply, first) = self.page(
                    *application_id,
                    material_id,
                    sha256,
                    body_sha256,
                    *bytes,
                    *jpeg,
                );
                self.count(Endpoint::Pages, reply, first)
            }
            Op::CardRequest { key, request, at } => {
                let (reply, first) = self.card_request(key, request, *at);
                self.count(Endpoint::CardRequests, reply, first)
            }
            Op::CardResult {
                key,
                request_id,
                result,
                at,
            } => {
                let (reply, first) = self.card_result(key, request_id, result, *at);
                self.count(Endpoint::CardResults, reply, first)
            }
            Op::LockerEvent {
                key,
                kiosk,
                event,
                at,
            } => {
                let (reply, first) = self.locker_event(key, kiosk, event, *at);
                self.count(Endpoint::LockerEvents, reply, first)
            }
            Op::Evaluation {
                key,
                kiosk,
                evaluation,
                at,
            } => {
                let (reply, first) = self.evaluation(key, kiosk, evaluation, *at);
                self.count(Endpoint::Evaluations, reply, first)
            }
            Op::Heartbeat {
                key,
                kiosk,
                heartbeat,
                at,
            } => {
                let (reply, first) = self.heartbeat(key, kiosk, heartbeat, *at);
                self.count(Endpoint::Heartbeats, reply, first)
            }
            Op::Rejected { endpoint } => {
                let s = self.endpoint(*endpoint);
                s.received += 1;
                s.rejected += 1;
                Reply::error(400, ErrorCode::BadRequest, "rejected")
            }
            Op::Lookup { found } => {
                if *found {
                    self.stats.lookups_found += 1;
                } else {
                    self.stats.lookups_not_found += 1;
                }
                Reply::json(200, &())
            }
            Op::Progress => {
                self.stats.progress_queries += 1;
                Reply::json(200, &())
            }
            Op::Cryptogram => {
                self.stats.cryptograms += 1;
                Reply::json(200, &())
            }
            Op::Refuse { refuse, at } => self.refuse(refuse, *at),
            Op::Advance { ms } => {
                self.clock.advance(*ms);
                Reply::json(200, &self.stats().clock)
            }
            Op::SetCatalogue { catalogue } => {
                self.catalogue = Some(catalogue.clone());
                Reply::json(200, catalogue)
            }
        }
    }

    // ----- applications -------------------------------------------------------------

    fn submit(
        &mut self,
        key: &str,
        kiosk: &str,
        sub: &ApplicationSubmission,
        at: At,
    ) -> (Reply, bool) {
        if Uuid::parse_str(key.trim()).ok() != Some(sub.application_id) {
            return (
                Reply::error(
                    400,
                    ErrorCode::MissingIdempotencyKey,
                    "Idempotency-Key must be the application_id",
                ),
                false,
            );
        }
        if kiosk != sub.kiosk_id {
            return (
                Reply::error(
                    400,
                    ErrorCode::MissingKioskId,
                    "X-Kiosk-Id does not match kiosk_id",
                ),
                false,
            );
        }
        if let Some(rec) = self.applications.get(&sub.application_id) {
            if rec.submission == *sub {
                return (Reply::json(200, &rec.receipt), false);
            }
            return (
                Reply::error(
                    409,
                    ErrorCode::Conflict,
                    "this application id was already submitted with a different body",
                ),
                false,
            );
        }
        if let Err(why) = validate_submission(sub) {
            return (Reply::error(422, ErrorCode::Invalid, &why), false);
        }
        if self.numbers.contains_key(&sub.application_number) {
            return (
                Reply::error(
                    409,
                    ErrorCode::Conflict,
                    "this application number is already used by another application",
                ),
                false,
            );
        }
        let receipt = SubmissionReceipt {
            application_id: sub.application_id,
            case_number: sub.application_number.clone(),
            received_at: at.real,
        };
        let reply = Reply::json(201, &receipt);
        self.numbers
            .insert(sub.application_number.clone(), sub.application_id);
        self.applications.insert(
            sub.application_id,
            AppRecord {
                submission: sub.clone(),
                receipt,
                accepted_ms: at.ms,
                refusals: Vec::new(),
                card_issued_ms: None,
                card_failed: false,
                locker: Vec::new(),
                locker_event_ids: Vec::new(),
                pages: Vec::new(),
                card_requests: Vec::new(),
            },
        );
        (reply, true)
    }

    fn page(
        &mut self,
        application_id: Uuid,
        material_id: &str,
        sha256: &str,
        body_sha256: &str,
        bytes: u64,
        jpeg: bool,
    ) -> (Reply, bool) {
        let sha = sha256.to_ascii_lowercase();
        let Some(rec) = self.applications.get_mut(&application_id) else {
            return (
                Reply::error(
                    404,
                    ErrorCode::NotFound,
                    "submit the application before its pages",
                ),
                false,
            );
        };
        let Some(material) = rec
            .submission
            .materials
            .iter()
            .find(|m| m.material_id == material_id)
        else {
            return (
                Reply::error(
                    404,
                    ErrorCode::NotFound,
                    "no such material in the application",
                ),
                false,
            );
        };
        let MaterialState::Scanned { pages } = &material.state else {
            return (
                Reply::error(409, ErrorCode::Conflict, "this material was not scanned"),
                false,
            );
        };
        let Some(listed) = pages.iter().find(|p| p.sha256.eq_ignore_ascii_case(&sha)) else {
            return (
                Reply::error(
                    404,
                    ErrorCode::NotFound,
                    "this page is not listed in the material",
                ),
                false,
            );
        };
        if !jpeg {
            return (
                Reply::error(
                    415,
                    ErrorCode::UnsupportedMediaType,
                    "a page must be a JPEG",
                ),
                false,
            );
        }
        if !body_sha256.eq_ignore_ascii_case(&sha) {
            return (
                Reply::error(
                    422,
                    ErrorCode::HashMismatch,
                    "the SHA-256 of the body is not the one in the URL",
                ),
                false,
            );
        }
        if listed.bytes != bytes {
            return (
                Reply::error(
                    422,
                    ErrorCode::Invalid,
                    "the page size differs from the submission",
                ),
                false,
            );
        }
        let key = (application_id, material_id.to_owned(), sha.clone());
        if let Some(existing) = self.pages.get(&key) {
            return (Reply::json(200, existing), false);
        }
        let receipt = PageReceipt {
            application_id,
            material_id: material_id.to_owned(),
            sha256: sha,
            bytes,
        };
        rec.pages.push(receipt.clone());
        let reply = Reply::json(201, &receipt);
        self.pages.insert(key, receipt);
        (reply, true)
    }

    // ----- progress -------------------------------------------------------------------

    #[allow(clippy::too_many_lines)] // one pass over the items, kept together on purpose
    fn item_views(rec: &AppRecord, now: u64) -> Vec<ItemView> {
        let items = &rec.submission.items;
        let index: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.item_id.as_str(), i))
            .collect();
        let mut views: Vec<ItemView> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let deps: Vec<usize> = item
                .depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .filter(|&j| j < i)
                .collect();
            if let Some(refusal) = rec.refusals.iter().find(|r| r.item_id == item.item_id) {
                views.push(ItemView {
                    state: ItemState::Refused {
                        reason: refusal.reason.clone(),
                        because_of: None,
                    },
                    since_ms: refusal.at_ms,
                    done_ms: None,
                    refused_root: Some((i, refusal.at_ms)),
                    on_the_spot: false,
                });
                continue;
            }
            let root = deps
                .iter()
                .filter_map(|&j| views.get(j).and_then(|v| v.refused_root))
                .min_by_key(|&(_, t)| t);
            if let Some((r, t)) = root {
                let (root_id, root_name) = items
                    .get(r)
                    .map(|it| (it.item_id.clone(), it.name.clone()))
                    .unwrap_or_default();
                views.push(ItemView {
                    state: ItemState::Refused {
                        reason: format!("因“{root_name}”不予受理，本事项无法继续办理。"),
                        because_of: Some(root_id),
                    },
                    since_ms: t,
                    done_ms: None,
                    refused_root: Some((r, t)),
                    on_the_spot: false,
                });
                continue;
            }
            let mut start = rec.accepted_ms;
            let mut waiting_for = None;
            for &j in &deps {
                match views.get(j).and_then(|v| v.done_ms) {
                    Some(t) if t <= now => start = start.max(t),
                    _ => {
                        if waiting_for.is_none() {
                            waiting_for = Some(j);
                        }
                    }
                }
            }
            if let Some(j) = waiting_for {
                let (for_item_id, for_item_name) = items
                    .get(j)
                    .map(|it| (it.item_id.clone(), it.name.clone()))
                    .unwrap_or_default();
                views.push(ItemView {
                    state: ItemState::Waiting {
                        for_item_id,
                        for_item_name,
                    },
                    since_ms: start,
                    done_ms: None,
                    refused_root: None,
                    on_the_spot: false,
                });
                continue;
            }
            let limit = u64::from(item.time_limit_working_days).saturating_mul(DAY_MS);
            let is_card = item
                .result
                .as_ref()
                .is_some_and(|r| r.kind == ResultKind::SocialSecurityCard);
            let natural_done = start.saturating_add(limit);
            let (done, on_the_spot) = match rec.card_issued_ms {
                Some(t) if is_card && t < natural_done => (t.max(start), true),
                _ => (natural_done, false),
            };
            let picked_up = start.saturating_add(limit.min(HOUR_MS));
            let view = if now >= done {
                let result = item.result.as_ref().map(|r| {
                    if on_the_spot {
                        format!("{}（已当场制发）", r.name)
                    } else {
                        r.name.clone()
                    }
                });
                ItemView {
                    state: ItemState::Done { result },
                    since_ms: done,
                    done_ms: Some(done),
                    refused_root: None,
                    on_the_spot,
                }
            } else if now < picked_up {
                ItemView {
                    state: ItemState::Accepted,
                    since_ms: start,
                    done_ms: Some(done),
                    refused_root: None,
                    on_the_spot: false,
                }
            } else {
                let detail = is_card.then(|| {
                    if rec.card_failed {
                        "制卡失败，改为集中制卡".to_owned()
                    } else {
                        "制卡中".to_owned()
                    }
                });
                ItemView {
                    state: ItemState::InProgress { detail },
                    since_ms: picked_up,
                    done_ms: Some(done),
                    refused_root: None,
                    on_the_spot: false,
                }
            };
            views.push(view);
        }
        views
    }

    /// Results to collect: done items with a document, or a card not made on the spot.
    fn to_collect(rec: &AppRecord, views: &[ItemView]) -> Vec<ReadyItem> {
        rec.submission
            .items
            .iter()
            .zip(views)
            .filter_map(|(item, view)| {
                let result = item.result.as_ref()?;
                let collectable = matches!(view.state, ItemState::Done { .. })
                    && !view.on_the_spot
                    && result.kind != ResultKind::Electronic;
                collectable.then(|| ReadyItem {
                    item_id: item.item_id.clone(),
                    name: item.name.clone(),
                    result: result.name.clone(),
                })
            })
            .collect()
    }

    fn progress_of(&self, rec: &AppRecord, now: u64) -> ApplicationProgress {
        let views = Self::item_views(rec, now);
        let finished = views.iter().all(|v| v.state.is_final());
        let finish_ms = views
            .iter()
            .map(|v| v.since_ms)
            .max()
            .unwrap_or(rec.accepted_ms);
        let collection = if finished {
            self.collection(rec, &views, finish_ms)
        } else {
            Collection::NotReady
        };
        let items = rec
            .submission
            .items
            .iter()
            .zip(views)
            .map(|(item, view)| ItemProgress {
                item_id: item.item_id.clone(),
                name: item.name.clone(),
                department: item.department.clone(),
                state: view.state,
                since: self.clock.timestamp(view.since_ms),
            })
            .collect();
        let sub = &rec.submission;
        ApplicationProgress {
            application_id: sub.application_id,
            case_number: rec.receipt.case_number.clone(),
            one_thing_id: sub.one_thing_id.clone(),
            one_thing_name: sub.one_thing_name.clone(),
            accepted_at: sub.accepted_at,
            due_date: sub.due_date,
            items,
            finished,
            collection,
        }
    }

    fn collection(&self, rec: &AppRecord, views: &[ItemView], finish_ms: u64) -> Collection {
        let physical = Self::to_collect(rec, views);
        if physical.is_empty() {
            return if views.iter().any(|v| v.on_the_spot) {
                Collection::HandedOver
            } else {
                Collection::NothingToCollect
            };
        }
        match &rec.submission.delivery {
            Delivery::Locker { kiosk_id } => match rec.locker.last() {
                None => Collection::ReadyForLocker {
                    kiosk_id: kiosk_id.clone(),
                },
                Some(ev) => match ev.kind {
                    LockerEventKind::Deposit => Collection::InLocker {
                        kiosk_id: ev.kiosk_id.clone(),
                        compartment_label: ev.compartment_label.clone(),
                        since: ev.at,
                    },
                    LockerEventKind::Pickup => Collection::Collected { at: ev.at },
                    LockerEventKind::Recall => Collection::Recalled { at: ev.at },
                },
            },
            Delivery::Mail { .. } => Collection::Mailed {
                carrier: "EMS".to_owned(),
                tracking_number: tracking_number(rec.submission.application_id),
                at: self.clock.timestamp(finish_ms),
            },
            Delivery::Window { place } => Collection::AtWindow {
                place: place.clone(),
            },
            Delivery::OnTheSpot => Collection::AtWindow { place: None },
        }
    }

    /// `POST /v1/progress/by-code`: the application with this number when the code's hash
    /// matches.
    pub fn progress_by_code(&self, application_number: &str, code: &str) -> Reply {
        let now = self.clock.peek();
        let found = self
            .numbers
            .get(application_number.trim())
            .and_then(|id| self.applications.get(id));
        match found {
            Some(rec) if mask::query_code_hash(code) == rec.submission.query_code_sha256 => {
                Reply::json(
                    200,
                    &crate::wire::ProgressResponse {
                        applications: vec![self.progress_of(rec, now)],
                    },
                )
            }
            _ => Reply::error(404, ErrorCode::NotFound, NOT_FOUND_PROGRESS),
        }
    }

    /// `POST /v1/progress/by-id-number`: every application the person is an applicant in.
    pub fn progress_by_id_number(&self, id_number: &str) -> Reply {
        let now = self.clock.peek();
        let id = normalise_id(id_number);
        let mut apps: Vec<&AppRecord> = self
            .applications
            .values()
            .filter(|rec| {
                rec.submission
                    .applicants
                    .iter()
                    .any(|a| normalise_id(&a.id_number) == id)
            })
            .collect();
        apps.sort_by(|a, b| {
            (b.submission.accepted_at, b.receipt.case_number.as_str())
                .cmp(&(a.submission.accepted_at, a.receipt.case_number.as_str()))
        });
        Reply::json(
            200,
            &crate::wire::ProgressResponse {
                applications: apps.iter().map(|r| self.progress_of(r, now)).collect(),
            },
        )
    }

    fn refuse(&mut self, refuse: &RefuseItem, at: At) -> Reply {
        let Some(rec) = self.applications.get(&refuse.application_id) else {
            return Reply::error(404, ErrorCode::NotFound, NOT_FOUND_APPLICATION);
        };
        let Some(pos) = rec
            .submission
            .items
            .iter()
            .position(|i| i.item_id == refuse.item_id)
        else {
            return Reply::error(404, ErrorCode::NotFound, "no such item in the application");
        };
        if refuse.reason.trim().is_empty() {
            return Reply::error(422, ErrorCode::Invalid, "a refusal needs its reason");
        }
        let views = Self::item_views(rec, at.ms);
        if views.get(pos).is_some_and(|v| v.state.is_final()) {
            return Reply::error(
                409,
                ErrorCode::Conflict,
                "the item is already done or refused",
            );
        }
        if let Some(rec) = self.applications.get_mut(&refuse.application_id) {
            rec.refusals.push(Refusal {
                item_id: refuse.item_id.clone(),
                reason: refuse.reason.clone(),
                at_ms: at.ms,
            });
        }
        match self.applications.get(&refuse.application_id) {
            Some(rec) => Reply::json(200, &self.progress_of(rec, at.ms)),
            None => Reply::error(404, ErrorCode::NotFound, NOT_FOUND_APPLICATION),
        }
    }

    // ----- shared data ------------------------------------------------------------------

    /// A person's record in a dataset.
    pub fn lookup(&self, dataset: Dataset, id_number: &str) -> Option<BTreeMap<String, String>> {
        self.people.record(id_number, dataset).cloned()
    }

    // ----- cards ----------------------------------------------------------------------------

    fn card_request(&mut self, key: &str, request: &CardRequest, at: At) -> (Reply, bool) {
        if let Some(request_id) = self.card_request_keys.get(key)
            && let Some(existing) = self.card_requests.get(request_id)
        {
            if existing.request == *request {
                return (Reply::json(200, &existing.response), false);
            }
            return (
                Reply::error(
                    409,
                    ErrorCode::Conflict,
                    "this idempotency key was already used for another card request",
                ),
                false,
            );
        }
        let request_id = format!("CR{:06}", self.next_card);
        let card_number = format!("SIM{:06}", self.next_card);
        let issue_date = local_date(self.clock.timestamp(at.ms));
        let (eligibility, holder, application_id) = match request {
            CardRequest::Application { application_id } => {
                let Some(rec) = self.applications.get(application_id) else {
                    return (
                        Reply::error(404, ErrorCode::NotFound, NOT_FOUND_APPLICATION),
                        false,
                    );
                };
                let (eligibility, holder) = self.application_eligibility(rec, at.ms);
                (eligibility, holder, Some(*application_id))
            }
            CardRequest::Person { id_number, name } => {
                let Some(person) = self.people.get(id_number).filter(|p| p.name == name.trim())
                else {
                    return (
                        Reply::error(404, ErrorCode::NotFound, "no such person"),
                        false,
                    );
                };
                let eligibility = self.person_eligibility(person);
                let holder = OwnedHolder {
                    name: person.name.clone(),
                    id_number: normalise_id(&person.id_number),
                    gender: person.gender,
                    nation_code: data::nation_code(&person.nation).to_owned(),
                    birth_date: person.birth_date,
                };
                (eligibility, Some(holder), None)
            }
        };
        let mut eligibility = eligibility;
        let card = match (&eligibility, &holder) {
            (Eligibility::Eligible, Some(h)) => {
                let data = card::card_data(&h.as_holder(), &card_number, issue_date);
                if data.is_none() {
                    eligibility = Eligibility::NotEligible {
                        reason: "姓名超出卡片芯片可写长度，请到窗口办理。".to_owned(),
                    };
                }
                data
            }
            _ => None,
        };
        self.next_card += 1;
        let response = CardRequestResponse {
            request_id: request_id.clone(),
            eligibility,
            card,
        };
        let reply = Reply::json(201, &response);
        if let Some(id) = application_id
            && let Some(rec) = self.applications.get_mut(&id)
        {
            rec.card_requests.push(request_id.clone());
        }
        self.card_request_keys
            .insert(key.to_owned(), request_id.clone());
        self.card_requests.insert(
            request_id,
            CardRequestRecord {
                request: request.clone(),
                response,
                application_id,
                holder_id: holder.map(|h| h.id_number).unwrap_or_default(),
                issued: false,
            },
        );
        (reply, true)
    }

    fn person_eligibility(&self, person: &data::Person) -> Eligibility {
        let id = normalise_id(&person.id_number);
        if let Some(number) = self
            .issued_cards
            .get(&id)
            .or(person.social_security_card.as_ref())
        {
            return Eligibility::AlreadyHasCard {
                card_number_masked: mask::mask_id_number(number),
            };
        }
        let mut waiting_for = Vec::new();
        if !person.datasets.contains_key(&Dataset::HouseholdRegister) {
            waiting_for.push("户籍登记".to_owned());
        }
        let insured = person
            .datasets
            .get(&Dataset::SocialInsurance)
            .is_some_and(|r| r.get("insured").is_some_and(|v| v == "是"));
        if !insured {
            waiting_for.push("参保登记".to_owned());
        }
        if waiting_for.is_empty() {
            Eligibility::Eligible
        } else {
            let message = format!("需先完成{}，才能申领社会保障卡。", waiting_for.join("和"));
            Eligibility::NotYet {
                waiting_for,
                message,
            }
        }
    }

    fn application_eligibility(
        &self,
        rec: &AppRecord,
        now: u64,
    ) -> (Eligibility, Option<OwnedHolder>) {
        let items = &rec.submission.items;
        let Some(pos) = items.iter().position(|i| {
            i.result
                .as_ref()
                .is_some_and(|r| r.kind == ResultKind::SocialSecurityCard)
        }) else {
            return (
                Eligibility::NotEligible {
                    reason: "本申请不含社会保障卡申领事项。".to_owned(),
                },
                None,
            );
        };
        let views = Self::item_views(rec, now);
        let holder = self.holder_for(rec);
        if let Some(ItemState::Refused { reason, .. }) = views.get(pos).map(|v| &v.state) {
            return (
                Eligibility::NotEligible {
                    reason: reason.clone(),
                },
                holder,
            );
        }
        if rec.card_issued_ms.is_some() {
            let number = self
                .card_requests
                .values()
                .filter(|c| c.issued && c.application_id == Some(rec.submission.application_id))
                .find_map(|c| c.response.card.as_ref().map(|d| d.card_number.clone()))
                .unwrap_or_default();
            return (
                Eligibility::AlreadyHasCard {
                    card_number_masked: mask::mask_id_number(&number),
                },
                holder,
            );
        }
        let index: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.item_id.as_str(), i))
            .collect();
        let waiting_for: Vec<String> = items
            .get(pos)
            .map(|card_item| {
                card_item
                    .depends_on
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .filter(|&j| {
                        !views
                            .get(j)
                            .is_some_and(|v| matches!(v.state, ItemState::Done { .. }))
                    })
                    .filter_map(|j| items.get(j).map(|it| it.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if !waiting_for.is_empty() {
            let message = format!("需等待{}办结后才能制卡。", waiting_for.join("、"));
            return (
                Eligibility::NotYet {
                    waiting_for,
                    message,
                },
                holder,
            );
        }
        if holder.is_none() {
            return (
                Eligibility::NotEligible {
                    reason: "缺少持卡人信息，请到窗口办理。".to_owned(),
                },
                None,
            );
        }
        (Eligibility::Eligible, holder)
    }

    /// The card holder of an application: the newborn when there is a birth medical
    /// certificate under an applicant (or child fields in the form), else the first applicant.
    fn holder_for(&self, rec: &AppRecord) -> Option<OwnedHolder> {
        let sub = &rec.submission;
        let birth = sub.applicants.iter().find_map(|a| {
            self.people
                .record(&a.id_number, Dataset::BirthMedicalCertificate)
        });
        let form = |k: &str| sub.form.get(k).map(|v| v.value.clone());
        let child_name =
            form("child_name").or_else(|| birth.and_then(|b| b.get("child_name").cloned()));
        if let Some(child_name) = child_name {
            let gender_text = form("child_gender")
                .or_else(|| birth.and_then(|b| b.get("child_gender").cloned()))
                .unwrap_or_default();
            let gender = if gender_text.contains('女') || gender_text == "female" {
                Gender::Female
            } else {
                Gender::Male
            };
            let birth_date: Date = form("birth_date")
                .or_else(|| birth.and_then(|b| b.get("birth_date").cloned()))
                .and_then(|d| d.parse().ok())?;
            let parent = sub.applicants.first()?;
            let nation = sub
                .applicants
                .iter()
                .find_map(|a| a.nation.clone())
                .unwrap_or_else(|| "汉".to_owned());
            return Some(OwnedHolder {
                name: child_name,
                id_number: newborn_id_number(
                    &parent.id_number,
                    birth_date,
                    gender,
                    sub.application_id,
                ),
                gender,
                nation_code: data::nation_code(&nation).to_owned(),
                birth_date,
            });
        }
        let first = sub.applicants.first()?;
        let person = self.people.get(&first.id_number);
        Some(OwnedHolder {
            name: first.name.clone(),
            id_number: normalise_id(&first.id_number),
            gender: first.gender.or(person.map(|p| p.gender))?,
            nation_code: data::nation_code(
                first
                    .nation
                    .as_deref()
                    .or(person.map(|p| p.nation.as_str()))
                    .unwrap_or("汉"),
            )
            .to_owned(),
            birth_date: first.birth_date.or(person.map(|p| p.birth_date))?,
        })
    }

    /// `POST /v1/cards/{request_id}/cryptogram`: checks the request may make a card.
    pub fn card_request_eligible(&self, request_id: &str) -> Result<(), Reply> {
        match self.card_requests.get(request_id) {
            None => Err(Reply::error(
                404,
                ErrorCode::NotFound,
                "no such card request",
            )),
            Some(r) if r.response.eligibility == Eligibility::Eligible => Ok(()),
            Some(_) => Err(Reply::error(
                409,
                ErrorCode::Conflict,
                "no card can be made for this request",
            )),
        }
    }

    fn card_result(
        &mut self,
        key: &str,
        request_id: &str,
        result: &CardResult,
        at: At,
    ) -> (Reply, bool) {
        if let Some(existing) = self.card_results.get(key) {
            if existing.body.0 == request_id && existing.body.1 == *result {
                return (existing.reply.repeated(), false);
            }
            return (
                Reply::error(
                    409,
                    ErrorCode::Conflict,
                    "this idempotency key was already used with another result",
                ),
                false,
            );
        }
        if let Err(reply) = self.card_request_eligible(request_id) {
            return (reply, false);
        }
        let Some(req) = self.card_requests.get_mut(request_id) else {
            return (
                Reply::error(404, ErrorCode::NotFound, "no such card request"),
                false,
            );
        };
        if req.issued {
            return (
                Reply::error(
                    409,
                    ErrorCode::Conflict,
                    "this card was already reported issued",
                ),
                false,
            );
        }
        let outcome = match result {
            CardResult::Issued { card_number } => {
                if card_number.trim().is_empty() {
                    return (
                        Reply::error(422, ErrorCode::Invalid, "card_number is empty"),
                        false,
                    );
                }
                req.issued = true;
                if let Some(id) = req.application_id {
                    if let Some(rec) = self.applications.get_mut(&id) {
                        rec.card_issued_ms = Some(at.ms);
                    }
                } else if !req.holder_id.is_empty() {
                    self.issued_cards
                        .insert(req.holder_id.clone(), card_number.clone());
                }
                "issued"
            }
            CardResult::Failed { .. } => {
                if let Some(id) = req.application_id
                    && let Some(rec) = self.applications.get_mut(&id)
                {
                    rec.card_failed = true;
                }
                "failed"
            }
        };
        let reply = Reply::json(
            201,
            &CardResultAck {
                request_id: request_id.to_owned(),
                outcome: outcome.to_owned(),
            },
        );
        self.card_results.insert(
            key.to_owned(),
            Stored {
                body: (request_id.to_owned(), result.clone()),
                reply: reply.clone(),
            },
        );
        (reply, true)
    }

    // ----- lockers ------------------------------------------------------------------------

    /// `POST /v1/lockers/ready`.
    pub fn lockers_ready(&self, kiosk_id: &str) -> Vec<ReadyForLocker> {
        let now = self.clock.peek();
        let mut ready: Vec<(u64, ReadyForLocker)> = self
            .applications
            .values()
            .filter(|rec| {
                matches!(&rec.submission.delivery, Delivery::Locker { kiosk_id: k } if k == kiosk_id)
                    && rec.locker.is_empty()
            })
            .filter_map(|rec| {
                let views = Self::item_views(rec, now);
                if !views.iter().all(|v| v.state.is_final()) {
                    return None;
                }
                let items = Self::to_collect(rec, &views);
                if items.is_empty() {
                    return None;
                }
                let finish = views.iter().map(|v| v.since_ms).max().unwrap_or(rec.accepted_ms);
                let sub = &rec.submission;
                Some((
                    finish,
                    ReadyForLocker {
                        application_id: sub.application_id,
                        case_number: rec.receipt.case_number.clone(),
                        applicant_masked: sub
                            .applicants
                            .first()
                            .map(|a| mask::mask_name(&a.name))
                            .unwrap_or_default(),
                        applicant_id_sha256: sub
                            .applicants
                            .iter()
                            .map(|a| mask::id_number_hash(&a.id_number))
                            .collect(),
                        size_hint: SizeHint::for_count(items.len()),
                        items,
                        ready_since: self.clock.timestamp(finish),
                    },
                ))
            })
            .collect();
        ready.sort_by(|a, b| (a.0, &a.1.case_number).cmp(&(b.0, &b.1.case_number)));
        ready.into_iter().map(|(_, r)| r).collect()
    }

    #[allow(clippy::too_many_lines)] // the checks of a locker event, in order
    fn locker_event(
        &mut self,
        key: &str,
        kiosk: &str,
        event: &LockerEvent,
        at: At,
    ) -> (Reply, bool) {
        if Uuid::parse_str(key.trim()).ok() != Some(event.event_id) {
            return (
                Reply::error(
                    400,
                    ErrorCode::MissingIdempotencyKey,
                    "Idempotency-Key must be the event_id",
                ),
                false,
            );
        }
        if kiosk != event.kiosk_id {
            return (
                Reply::error(
                    400,
                    ErrorCode::MissingKioskId,
                    "X-Kiosk-Id does not match kiosk_id",
                ),
                false,
            );
        }
        if let Some(existing) = self.locker_events.get(&event.event_id) {
            if existing.body == *event {
                return (existing.reply.repeated(), false);
            }
            return (
                Reply::error(409, ErrorCode::Conflict, "this event id was already used"),
                false,
            );
        }
        let now = at.ms;
        let Some(rec) = self.applications.get(&event.application_id) else {
            return (
                Reply::error(404, ErrorCode::NotFound, NOT_FOUND_APPLICATION),
                false,
            );
        };
        let collection = {
            let views = Self::item_views(rec, now);
            if views.iter().all(|v| v.state.is_final()) {
                let finish = views
                    .iter()
                    .map(|v| v.since_ms)
                    .max()
                    .unwrap_or(rec.accepted_ms);
                self.collection(rec, &views, finish)
            } else {
                Collection::NotReady
            }
        };
        let allowed = match event.kind {
            LockerEventKind::Deposit => matches!(collection, Collection::ReadyForLocker { .. }),
            LockerEventKind::Pickup | LockerEventKind::Recall => {
                matches!(collection, Collection::InLocker { .. })
            }
        };
        if !allowed {
            return (
                Reply::error(
                    409,
                    ErrorCode::Conflict,
                    "the application's results are not in a state for this event",
                ),
                false,
            );
        }
        if event.compartment_label.trim().is_empty() {
            return (
                Reply::error(422, ErrorCode::Invalid, "compartment_label is empty"),
                false,
            );
        }
        let code_ok = event
            .pickup_code
            .as_deref()
            .is_some_and(|c| (4..=8).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()));
        if event.kind == LockerEventKind::Deposit && !code_ok {
            return (
                Reply::error(
                    422,
                    ErrorCode::Invalid,
                    "a deposit needs a pickup code of 4 to 8 digits",
                ),
                false,
            );
        }
        let sub = &rec.submission;
        let sms = (event.kind == LockerEventKind::Deposit).then(|| SmsRecord {
            application_id: sub.application_id,
            to_masked: mask::mask_phone(&sub.contact_phone),
            text: format!(
                "【政务服务】{}您好，您办理的{}结果已放入自助取件柜{}号格口（终端{}），取件码{}，请凭取件码或身份证取件。",
                sub.applicants
                    .first()
                    .map(|a| mask::mask_name(&a.name))
                    .unwrap_or_default(),
                sub.one_thing_name,
                event.compartment_label,
                event.kiosk_id,
                event.pickup_code.as_deref().unwrap_or_default(),
            ),
            at: at.real,
        });
        if let Some(rec) = self.applications.get_mut(&event.application_id) {
            rec.locker.push(LockerRecord {
                kind: event.kind,
                kiosk_id: event.kiosk_id.clone(),
                compartment_label: event.compartment_label.clone(),
                at: event.at,
            });
            rec.locker_event_ids.push(event.event_id);
        }
        if let Some(sms) = sms {
            self.sms.push(sms);
            self.stats.sms_sent += 1;
        }
        let reply = Reply::json(
            201,
            &EventAck {
                id: event.event_id,
                recorded_at: at.real,
            },
        );
        self.locker_events.insert(
            event.event_id,
            Stored {
                body: event.clone(),
                reply: reply.clone(),
            },
        );
        (reply, true)
    }

    // ----- evaluations, heartbeats, catalogue ------------------------------------------

    fn evaluation(
        &mut self,
        key: &str,
        kiosk: &str,
        evaluation: &Evaluation,
        at: At,
    ) -> (Reply, bool) {
        if Uuid::parse_str(key.trim()).ok() != Some(evaluation.evaluation_id) {
            return (
                Reply::error(
                    400,
                    ErrorCode::MissingIdempotencyKey,
                    "Idempotency-Key must be the evaluation_id",
                ),
                false,
            );
        }
        if kiosk != evaluation.kiosk_id {
            return (
                Reply::error(
                    400,
                    ErrorCode::MissingKioskId,
                    "X-Kiosk-Id does not match kiosk_id",
                ),
                false,
            );
        }
        if let Some(existing) = self.evaluations.get(&evaluation.evaluation_id) {
            if existing.body == *evaluation {
                return (existing.reply.repeated(), false);
            }
            return (
                Reply::error(
                    409,
                    ErrorCode::Conflict,
                    "this evaluation id was already used",
                ),
                false,
            );
        }
        if !evaluation.reasons.is_empty() && !evaluation.level.is_poor() {
            return (
                Reply::error(
                    422,
                    ErrorCode::Invalid,
                    "reasons are only for levels 4 and 5",
                ),
                false,
            );
        }
        if evaluation
            .comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > 500)
        {
            return (
                Reply::error(
                    422,
                    ErrorCode::Invalid,
                    "the comment is longer than 500 characters",
                ),
                false,
            );
        }
        let reply = Reply::json(
            201,
            &EventAck {
                id: evaluation.evaluation_id,
                recorded_at: at.real,
            },
        );
        self.evaluations.insert(
            evaluation.evaluation_id,
            Stored {
                body: evaluation.clone(),
                reply: reply.clone(),
            },
        );
        (reply, true)
    }

    fn heartbeat(&mut self, key: &str, kiosk: &str, hb: &Heartbeat, at: At) -> (Reply, bool) {
        if kiosk != hb.kiosk_id {
            return (
                Reply::error(
                    400,
                    ErrorCode::MissingKioskId,
                    "X-Kiosk-Id does not match kiosk_id",
                ),
                false,
            );
        }
        if let Some(reply) = self.heartbeat_keys.get(key) {
            return (reply.clone(), false);
        }
        let reply = Reply::json(
            200,
            &HeartbeatAck {
                received_at: at.real,
                catalogue_version: self.catalogue.as_ref().map(|c| c.version.clone()),
            },
        );
        self.heartbeat_keys.insert(key.to_owned(), reply.clone());
        self.last_heartbeats.insert(hb.kiosk_id.clone(), hb.clone());
        (reply, true)
    }

    /// `GET /v1/catalogue?since=`: `None` when there is nothing newer.
    pub fn catalogue_since(&self, since: Option<&str>) -> Option<&CatalogueUpdate> {
        self.catalogue
            .as_ref()
            .filter(|c| since != Some(c.version.as_str()))
    }

    // ----- admin views ---------------------------------------------------------------------

    pub fn stats(&self) -> SimStats {
        let mut stats = self.stats.clone();
        let now = self.clock.peek();
        stats.outage = self.outage;
        #[allow(clippy::cast_precision_loss)]
        let days = now as f64 / DAY_MS as f64;
        stats.clock = SimClock {
            working_days_elapsed: days,
            now: Some(self.clock.timestamp(now)),
            day_length_s: self.clock.day_length().map_or(0.0, |d| d.as_secs_f64()),
        };
        stats
    }

    pub fn count_outage_refusal(&mut self) {
        self.stats.refused_during_outage += 1;
    }

    pub fn sim_application(&self, id: Uuid) -> Option<SimApplication> {
        let rec = self.applications.get(&id)?;
        Some(SimApplication {
            submission: rec.submission.clone(),
            case_number: rec.receipt.case_number.clone(),
            received_at: rec.receipt.received_at,
            progress: self.progress_of(rec, self.clock.peek()),
            pages: rec.pages.clone(),
            card_requests: rec.card_requests.clone(),
            locker_events: rec.locker_event_ids.clone(),
        })
    }

    pub fn sms(&self) -> Vec<SmsRecord> {
        self.sms.clone()
    }

    pub fn last_heartbeats(&self) -> BTreeMap<String, Heartbeat> {
        self.last_heartbeats.clone()
    }

    pub fn people(&self) -> &People {
        &self.people
    }
}

struct OwnedHolder {
    name: String,
    id_number: String,
    gender: Gender,
    nation_code: String,
    birth_date: Date,
}

impl OwnedHolder {
    fn as_holder(&self) -> Holder<'_> {
        Holder {
            name: &self.name,
            id_number: &self.id_number,
            gender: self.gender,
            nation_code: &self.nation_code,
            birth_date: self.birth_date,
        }
    }
}

/// The calendar date in China (UTC+8) of an instant.
pub fn local_date(ts: Timestamp) -> Date {
    ts.to_zoned(TimeZone::fixed(tz::offset(8))).date()
}

/// A newborn's citizen ID number as household registration would assign it: the parent's
/// region code, the birth date, a sequence (odd for boys, even for girls) derived from the
/// application id, and the GB 11643 check character. Deterministic, so repeats agree.
fn newborn_id_number(parent_id: &str, birth: Date, gender: Gender, app: Uuid) -> String {
    let region: String = parent_id
        .chars()
        .take(6)
        .filter(char::is_ascii_digit)
        .collect();
    let region = if region.len() == 6 {
        region
    } else {
        "110000".to_owned()
    };
    let seed = app.as_u128();
    let base = u32::try_from((seed % 50) * 2).unwrap_or(0) + 10;
    let seq = match gender {
        Gender::Male => base + 1,
        Gender::Female => base,
    };
    let first17 = format!("{region}{}{seq:03}", birth.strftime("%Y%m%d"));
    let check = data::id_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// A simulated EMS tracking number for a mailed application.
fn tracking_number(app: Uuid) -> String {
    let n = app.as_u128() % 10_000_000_000;
    format!("SIM{n:010}CN")
}

/// True for an application number of the form `YYMMDD-<digits of kiosk_id>-NNNN`: a real
/// date, the kiosk id's digits in order (at least one), and a sequence of at least four
/// digits.
fn is_application_number(number: &str, kiosk_id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts = number.split('-');
    let (Some(date), Some(kiosk), Some(seq), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let kiosk_digits: String = kiosk_id.chars().filter(char::is_ascii_digit).collect();
    date.len() == 6
        && digits(date)
        && is_yymmdd(date)
        && digits(kiosk)
        && kiosk == kiosk_digits
        && seq.len() >= 4
        && digits(seq)
}

/// True when six ASCII digits are a real date `YYMMDD` (20YY).
fn is_yymmdd(s: &str) -> bool {
    let part = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<i8>().ok());
    match (part(0..2), part(2..4), part(4..6)) {
        (Some(y), Some(m), Some(d)) => Date::new(2000 + i16::from(y), m, d).is_ok(),
        _ => false,
    }
}

/// Checks what a real platform would refuse in a submission. Messages name fields, never
/// values.
fn validate_submission(sub: &ApplicationSubmission) -> Result<(), String> {
    if sub.application_id.get_version_num() != 7 {
        return Err("application_id must be a UUID v7".into());
    }
    if sub.kiosk_id.trim().is_empty() || sub.one_thing_id.trim().is_empty() {
        return Err("kiosk_id and one_thing_id are required".into());
    }
    if !is_application_number(&sub.application_number, &sub.kiosk_id) {
        return Err(
            "application_number must be YYMMDD-<digits of kiosk_id>-NNNN, e.g. 261120-33010601-0007"
                .into(),
        );
    }
    if sub.items.is_empty() {
        return Err("at least one item is required".into());
    }
    let mut seen: Vec<&str> = Vec::with_capacity(sub.items.len());
    for (i, item) in sub.items.iter().enumerate() {
        if item.item_id.trim().is_empty() {
            return Err(format!("items[{i}].item_id is empty"));
        }
        if seen.contains(&item.item_id.as_str()) {
            return Err(format!("items[{i}].item_id appears twice"));
        }
        for dep in &item.depends_on {
            if !seen.contains(&dep.as_str()) {
                return Err(format!(
                    "items[{i}].depends_on names an item that does not come before it"
                ));
            }
        }
        seen.push(&item.item_id);
    }
    if sub.applicants.is_empty() {
        return Err("at least one applicant is required".into());
    }
    for (i, a) in sub.applicants.iter().enumerate() {
        if a.name.trim().is_empty() || a.id_number.trim().is_empty() {
            return Err(format!("applicants[{i}] needs a name and an id_number"));
        }
    }
    if !mask::is_sha256_hex(&sub.query_code_sha256) {
        return Err("query_code_sha256 must be 64 hex digits".into());
    }
    let phone_digits = sub.contact_phone.bytes().filter(u8::is_ascii_digit).count();
    if !(5..=20).contains(&phone_digits) {
        return Err("contact_phone must have 5 to 20 digits".into());
    }
    let mut materials: Vec<&str> = Vec::with_capacity(sub.materials.len());
    for (i, m) in sub.materials.iter().enumerate() {
        if materials.contains(&m.material_id.as_str()) {
            return Err(format!("materials[{i}].material_id appears twice"));
        }
        materials.push(&m.material_id);
        match &m.state {
            MaterialState::CommittedLater { .. } if m.primary => {
                return Err(format!(
                    "materials[{i}] is primary and cannot be committed later"
                ));
            }
            MaterialState::Scanned { pages } => {
                if pages.is_empty() {
                    return Err(format!("materials[{i}] is scanned but has no pages"));
                }
                if pages.iter().any(|p| !mask::is_sha256_hex(&p.sha256)) {
                    return Err(format!(
                        "materials[{i}] has a page hash that is not SHA-256 hex"
                    ));
                }
            }
            _ => {}
        }
    }
    match &sub.delivery {
        Delivery::Locker { kiosk_id } if kiosk_id.trim().is_empty() => {
            Err("delivery.kiosk_id is empty".into())
        }
        Delivery::Mail { address } if address.detail.trim().is_empty() => {
            Err("delivery.address is incomplete".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newborn_numbers_are_valid_and_follow_gender() {
        let app = Uuid::now_v7();
        let d = jiff::civil::date(2026, 11, 8);
        let boy = newborn_id_number("45010220000229008X", d, Gender::Male, app);
        let girl = newborn_id_number("45010220000229008X", d, Gender::Female, app);
        assert!(boy.starts_with("45010220261108"));
        assert_eq!(boy.len(), 18);
        let odd = |s: &str| s.as_bytes()[16] % 2 == 1;
        assert!(odd(&boy));
        assert!(!odd(&girl));
        let (first, last) = boy.split_at(17);
        assert_eq!(data::id_check_char(first).unwrap().to_string(), last);
    }

    #[test]
    fn application_numbers_follow_the_notice_format() {
        let kiosk = "ZJ-330106-XH-01";
        assert!(is_application_number("261120-33010601-0007", kiosk));
        assert!(is_application_number("240229-33010601-12345", kiosk));
        for bad in [
            "",
            "261120-33010601",
            "261120-33010601-007",
            "261120-33010602-0007",
            "261320-33010601-0007",
            "250229-33010601-0007",
            "2611200-33010601-0007",
            "261120-33010601-0007-1",
            "261120-33010601-00a7",
            " 261120-33010601-0007",
            "２61120-33010601-0007",
        ] {
            assert!(!is_application_number(bad, kiosk), "{bad}");
        }
        assert!(!is_application_number("261120--0007", "KIOSK"));
    }

    #[test]
    fn tracking_numbers_look_like_ems() {
        let t = tracking_number(Uuid::nil());
        assert_eq!(t, "SIM0000000000CN");
    }
}
