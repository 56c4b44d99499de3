//! The simulator's HTTP routes. [`ROUTES`] is the list the router is built from, and the test
//! `openapi_matches_routes` checks it against `openapi.yaml` both ways.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::Shared;
use super::card::{card_bureau_cryptogram, key_id_for};
use super::clock;
use super::state::{Endpoint, Op, Reply};
use crate::mask;
use crate::wire::{
    CardRequest, CardResult, ClockAdvance, CryptogramRequest, CryptogramResponse, ElementaryFile,
    ErrorCode, Evaluation, Heartbeat, IDEMPOTENCY_KEY_HEADER, KIOSK_ID_HEADER, LockerEvent,
    LockerReadyRequest, LockerReadyResponse, Outage, ProgressByCodeRequest,
    ProgressByIdNumberRequest, RefuseItem, SetCatalogue, SharedDataRecord, SharedDataRequest,
    SimHeartbeats, SmsList,
};

/// Every route the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteId {
    SubmitApplication,
    UploadPage,
    SharedDataLookup,
    ProgressByCode,
    ProgressByIdNumber,
    CardRequest,
    CardCryptogram,
    CardResult,
    LockersReady,
    LockerEvents,
    Evaluations,
    Catalogue,
    Heartbeat,
    SimStats,
    SimClockAdvance,
    SimOutage,
    SimRefuse,
    SimApplication,
    SimSms,
    SimCatalogue,
    SimHeartbeats,
}

/// A route: method, path (OpenAPI/axum `{param}` syntax) and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub id: RouteId,
    pub method: &'static str,
    pub path: &'static str,
}

const fn r(id: RouteId, method: &'static str, path: &'static str) -> Route {
    Route { id, method, path }
}

/// The routes: `/v1/…` is the real API, `/sim/…` exists only in the simulator.
pub const ROUTES: &[Route] = &[
    r(RouteId::SubmitApplication, "POST", "/v1/applications"),
    r(
        RouteId::UploadPage,
        "PUT",
        "/v1/applications/{application_id}/materials/{material_id}/pages/{sha256}",
    ),
    r(RouteId::SharedDataLookup, "POST", "/v1/shared-data/lookup"),
    r(RouteId::ProgressByCode, "POST", "/v1/progress/by-code"),
    r(
        RouteId::ProgressByIdNumber,
        "POST",
        "/v1/progress/by-id-number",
    ),
    r(RouteId::CardRequest, "POST", "/v1/cards/requests"),
    r(
        RouteId::CardCryptogram,
        "POST",
        "/v1/cards/{request_id}/cryptogram",
    ),
    r(RouteId::CardResult, "POST", "/v1/cards/{request_id}/result"),
    r(RouteId::LockersReady, "POST", "/v1/lockers/ready"),
    r(RouteId::LockerEvents, "POST", "/v1/lockers/events"),
    r(RouteId::Evaluations, "POST", "/v1/evaluations"),
    r(RouteId::Catalogue, "GET", "/v1/catalogue"),
    r(RouteId::Heartbeat, "POST", "/v1/heartbeat"),
    r(RouteId::SimStats, "GET", "/sim/stats"),
    r(RouteId::SimClockAdvance, "POST", "/sim/clock/advance"),
    r(RouteId::SimOutage, "POST", "/sim/outage"),
    r(RouteId::SimRefuse, "POST", "/sim/refuse"),
    r(
        RouteId::SimApplication,
        "GET",
        "/sim/applications/{application_id}",
    ),
    r(RouteId::SimSms, "GET", "/sim/sms"),
    r(RouteId::SimCatalogue, "POST", "/sim/catalogue"),
    r(RouteId::SimHeartbeats, "GET", "/sim/heartbeats"),
];

/// Largest page upload accepted (a 300 dpi A4 colour JPEG is a few MiB).
const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;

type S = State<Arc<Shared>>;

fn method_router(id: RouteId) -> MethodRouter<Arc<Shared>> {
    match id {
        RouteId::SubmitApplication => post(submit),
        RouteId::UploadPage => put(upload_page).layer(DefaultBodyLimit::max(MAX_PAGE_BYTES)),
        RouteId::SharedDataLookup => post(lookup),
        RouteId::ProgressByCode => post(progress_by_code),
        RouteId::ProgressByIdNumber => post(progress_by_id_number),
        RouteId::CardRequest => post(card_request),
        RouteId::CardCryptogram => post(card_cryptogram),
        RouteId::CardResult => post(card_result),
        RouteId::LockersReady => post(lockers_ready),
        RouteId::LockerEvents => post(locker_events),
        RouteId::Evaluations => post(evaluations),
        RouteId::Catalogue => get(catalogue),
        RouteId::Heartbeat => post(heartbeat),
        RouteId::SimStats => get(sim_stats),
        RouteId::SimClockAdvance => post(sim_advance),
        RouteId::SimOutage => post(sim_outage),
        RouteId::SimRefuse => post(sim_refuse),
        RouteId::SimApplication => get(sim_application),
        RouteId::SimSms => get(sim_sms),
        RouteId::SimCatalogue => post(sim_catalogue),
        RouteId::SimHeartbeats => get(sim_heartbeats),
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut router: Router<Arc<Shared>> = Router::new();
    for route in ROUTES {
        router = router.route(route.path, method_router(route.id));
    }
    router
        .fallback(|| async { reply(&Reply::error(404, ErrorCode::NotFound, "no such route")) })
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Outage (503 for everything but `/sim/`) and the `X-Kiosk-Id` header on `/v1/`.
async fn guard(State(shared): S, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.starts_with("/sim/") {
        return next.run(request).await;
    }
    let down = shared.write(|s| {
        if s.outage {
            s.count_outage_refusal();
        }
        s.outage
    });
    if down {
        return reply(&Reply::error(
            503,
            ErrorCode::Unavailable,
            "the platform is unavailable for now (simulated outage)",
        ));
    }
    if path.starts_with("/v1/") && kiosk_id(request.headers()).is_none() {
        return reply(&Reply::error(
            400,
            ErrorCode::MissingKioskId,
            "the X-Kiosk-Id header is required",
        ));
    }
    next.run(request).await
}

fn reply(r: &Reply) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::NOT_MODIFIED {
        return status.into_response();
    }
    let mut response = (status, Body::from(r.body.clone())).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn kiosk_id(headers: &HeaderMap) -> Option<String> {
    header_text(headers, KIOSK_ID_HEADER)
}

/// Parses a JSON body; the error names the position, never the content.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|e| {
        Reply::error(
            400,
            ErrorCode::BadRequest,
            &format!(
                "the body is not valid for this route ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })
}

/// The kiosk id and idempotency key of a write, or the 400 for a missing one (counted).
fn write_headers(
    shared: &Shared,
    headers: &HeaderMap,
    endpoint: Endpoint,
) -> Result<(String, String), Reply> {
    let kiosk = kiosk_id(headers).unwrap_or_default();
    let Some(key) = header_text(headers, IDEMPOTENCY_KEY_HEADER) else {
        shared.execute(|_| Op::Rejected { endpoint });
        return Err(Reply::error(
            400,
            ErrorCode::MissingIdempotencyKey,
            "the Idempotency-Key header is required on writes",
        ));
    };
    Ok((kiosk, key))
}

/// Parses the body of a write, counting a failure as rejected.
fn parse_write<T: DeserializeOwned>(
    shared: &Shared,
    body: &[u8],
    endpoint: Endpoint,
) -> Result<T, Reply> {
    parse(body).inspect_err(|_| {
        shared.execute(|_| Op::Rejected { endpoint });
    })
}

fn log(route: &'static str, r: &Reply) {
    tracing::debug!(route, status = r.status, "platform simulator");
}

// ----- the real API --------------------------------------------------------------------

async fn submit(State(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let e = Endpoint::Applications;
    let (kiosk, key) = match write_headers(&shared, &headers, e) {
        Ok(h) => h,
        Err(r) => return reply(&r),
    };
    let submission = match parse_write(&shared, &body, e) {
        Ok(s) => s,
        Err(r) => return reply(&r),
    };
    let r = shared.execute(|at| Op::Submit {
        key,
        kiosk,
        submission,
        at,
    });
    log("submit", &r);
    reply(&r)
}

async fn upload_page(
    State(shared): S,
    Path((application_id, material_id, sha256)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(application_id) = Uuid::parse_str(&application_id) else {
        shared.execute(|_| Op::Rejected {
            endpoint: Endpoint::Pages,
        });
        return reply(&Reply::error(
            400,
            ErrorCode::BadRequest,
            "the application id is not a UUID",
        ));
    };
    if !mask::is_sha256_hex(&sha256) {
        shared.execute(|_| Op::Rejected {
            endpoint: Endpoint::Pages,
        });
        return reply(&Reply::error(
            400,
            ErrorCode::BadRequest,
            "the page name must be its SHA-256 in hex",
        ));
    }
    let content_type_jpeg = header_text(&headers, header::CONTENT_TYPE.as_str())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("image/jpeg"));
    let jpeg = content_type_jpeg && body.starts_with(&[0xFF, 0xD8, 0xFF]);
    let body_sha256 = mask::sha256_hex(&body);
    let bytes = u64::try_from(body.len()).unwrap_or(u64::MAX);
    let r = shared.execute(|at| Op::Page {
        application_id,
        material_id,
        sha256,
        body_sha256,
        bytes,
        jpeg,
        at,
    });
    log("upload_page", &r);
    reply(&r)
}

async fn lookup(State(shared): S, body: Bytes) -> Response {
    let request: SharedDataRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let found = shared.read(|s| s.lookup(request.dataset, &request.id_number));
    shared.execute(|_| Op::Lookup {
        found: found.is_some(),
    });
    let r = match found {
        Some(fields) => Reply::json(
            200,
            &SharedDataRecord {
                dataset: request.dataset,
                fields,
            },
        ),
        None => Reply::error(
            404,
            ErrorCode::NotFound,
            "no record for this person in this dataset",
        ),
    };
    tracing::debug!(route = "lookup", dataset = %request.dataset, status = r.status, "platform simulator");
    reply(&r)
}

async fn progress_by_code(State(shared): S, body: Bytes) -> Response {
    let request: ProgressByCodeRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let r = shared.read(|s| s.progress_by_code(&request.application_number, &request.query_code));
    shared.execute(|_| Op::Progress);
    log("progress_by_code", &r);
    reply(&r)
}

async fn progress_by_id_number(State(shared): S, body: Bytes) -> Response {
    let request: ProgressByIdNumberRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let r = shared.read(|s| s.progress_by_id_number(&request.id_number));
    shared.execute(|_| Op::Progress);
    log("progress_by_id_number", &r);
    reply(&r)
}

async fn card_request(State(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let e = Endpoint::CardRequests;
    let (_, key) = match write_headers(&shared, &headers, e) {
        Ok(h) => h,
        Err(r) => return reply(&r),
    };
    let request: CardRequest = match parse_write(&shared, &body, e) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let r = shared.execute(|at| Op::CardRequest { key, request, at });
    log("card_request", &r);
    reply(&r)
}

fn hex_bytes(text: &str, min: usize, max: usize) -> Option<Vec<u8>> {
    hex::decode(text.trim())
        .ok()
        .filter(|b| (min..=max).contains(&b.len()))
}

async fn card_cryptogram(
    State(shared): S,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    let request: CryptogramRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    if let Err(r) = shared.read(|s| s.card_request_eligible(&request_id)) {
        return reply(&r);
    }
    let (Some(card_id), Some(challenge)) = (
        hex_bytes(&request.card_id_hex, 1, 32),
        hex_bytes(&request.challenge_hex, 4, 16),
    ) else {
        return reply(&Reply::error(
            422,
            ErrorCode::Invalid,
            "card_id_hex must be 1-32 bytes and challenge_hex 4-16 bytes of hex",
        ));
    };
    let ef = request.ef.unwrap_or(ElementaryFile::Ef05);
    let cryptogram = card_bureau_cryptogram(&card_id, &challenge);
    shared.execute(|_| Op::Cryptogram);
    let r = Reply::json(
        200,
        &CryptogramResponse {
            cryptogram_hex: hex::encode(cryptogram),
            key_id: key_id_for(ef),
        },
    );
    log("card_cryptogram", &r);
    reply(&r)
}

async fn card_result(
    State(shared): S,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let e = Endpoint::CardResults;
    let (_, key) = match write_headers(&shared, &headers, e) {
        Ok(h) => h,
        Err(r) => return reply(&r),
    };
    let result: CardResult = match parse_write(&shared, &body, e) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let r = shared.execute(|at| Op::CardResult {
        key,
        request_id,
        result,
        at,
    });
    log("card_result", &r);
    reply(&r)
}

async fn lockers_ready(State(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let request: LockerReadyRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    if kiosk_id(&headers).as_deref() != Some(request.kiosk_id.as_str()) {
        return reply(&Reply::error(
            400,
            ErrorCode::MissingKioskId,
            "X-Kiosk-Id does not match kiosk_id",
        ));
    }
    let applications = shared.read(|s| s.lockers_ready(&request.kiosk_id));
    let r = Reply::json(200, &LockerReadyResponse { applications });
    log("lockers_ready", &r);
    reply(&r)
}

async fn locker_events(State(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let e = Endpoint::LockerEvents;
    let (kiosk, key) = match write_headers(&shared, &headers, e) {
        Ok(h) => h,
        Err(r) => return reply(&r),
    };
    let event: LockerEvent = match parse_write(&shared, &body, e) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let r = shared.execute(|at| Op::LockerEvent {
        key,
        kiosk,
        event,
        at,
    });
    log("locker_events", &r);
    reply(&r)
}

async fn evaluations(State(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let e = Endpoint::Evaluations;
    let (kiosk, key) = match write_headers(&shared, &headers, e) {
        Ok(h) => h,
        Err(r) => return reply(&r),
    };
    let evaluation: Evaluation = match parse_write(&shared, &body, e) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let r = shared.execute(|at| Op::Evaluation {
        key,
        kiosk,
        evaluation,
        at,
    });
    log("evaluations", &r);
    reply(&r)
}

async fn catalogue(State(shared): S, Query(query): Query<HashMap<String, String>>) -> Response {
    let since = query.get("since").map(String::as_str);
    let r = shared.read(|s| match s.catalogue_since(since) {
        Some(update) => Reply::json(200, update),
        None => Reply {
            status: 304,
            body: Vec::new(),
        },
    });
    log("catalogue", &r);
    reply(&r)
}

async fn heartbeat(State(shared): S, headers: HeaderMap, body: Bytes) -> Response {
    let e = Endpoint::Heartbeats;
    let (kiosk, key) = match write_headers(&shared, &headers, e) {
        Ok(h) => h,
        Err(r) => return reply(&r),
    };
    let heartbeat: Heartbeat = match parse_write(&shared, &body, e) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    let r = shared.execute(|at| Op::Heartbeat {
        key,
        kiosk,
        heartbeat,
        at,
    });
    log("heartbeat", &r);
    reply(&r)
}

// ----- simulator-only admin routes -----------------------------------------------------

async fn sim_stats(State(shared): S) -> Response {
    reply(&Reply::json(
        200,
        &shared.read(super::state::SimState::stats),
    ))
}

async fn sim_advance(State(shared): S, body: Bytes) -> Response {
    let advance: ClockAdvance = match parse(&body) {
        Ok(a) => a,
        Err(r) => return reply(&r),
    };
    let ms = clock::advance_ms(advance.working_days, advance.hours);
    reply(&shared.execute(|_| Op::Advance { ms }))
}

async fn sim_outage(State(shared): S, body: Bytes) -> Response {
    let outage: Outage = match parse(&body) {
        Ok(o) => o,
        Err(r) => return reply(&r),
    };
    shared.write(|s| s.outage = outage.down);
    reply(&Reply::json(200, &outage))
}

async fn sim_refuse(State(shared): S, body: Bytes) -> Response {
    let refuse: RefuseItem = match parse(&body) {
        Ok(r) => r,
        Err(r) => return reply(&r),
    };
    reply(&shared.execute(|at| Op::Refuse { refuse, at }))
}

async fn sim_application(State(shared): S, Path(id): Path<String>) -> Response {
    let r = match Uuid::parse_str(&id) {
        Ok(id) => match shared.read(|s| s.sim_application(id)) {
            Some(app) => Reply::json(200, &app),
            None => Reply::error(404, ErrorCode::NotFound, "no application with this id"),
        },
        Err(_) => Reply::error(
            400,
            ErrorCode::BadRequest,
            "the application id is not a UUID",
        ),
    };
    reply(&r)
}

async fn sim_sms(State(shared): S) -> Response {
    let sms = shared.read(super::state::SimState::sms);
    reply(&Reply::json(200, &SmsList { sms }))
}

async fn sim_catalogue(State(shared): S, body: Bytes) -> Response {
    let catalogue: SetCatalogue = match parse(&body) {
        Ok(c) => c,
        Err(r) => return reply(&r),
    };
    if catalogue.check_paths().is_err() {
        return reply(&Reply::error(
            422,
            ErrorCode::Invalid,
            "a catalogue path is not a plain relative .toml path",
        ));
    }
    reply(&shared.execute(|_| Op::SetCatalogue { catalogue }))
}

async fn sim_heartbeats(State(shared): S) -> Response {
    let kiosks = shared.read(super::state::SimState::last_heartbeats);
    reply(&Reply::json(200, &SimHeartbeats { kiosks }))
}
