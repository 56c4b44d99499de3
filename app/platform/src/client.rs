//! The kiosk's HTTP client for the platform API (reqwest + rustls with the ring provider).
//!
//! Errors are typed for what the caller should do ([`PlatformError`]):
//! - [`PlatformError::Unavailable`]: unreachable, timed out, 5xx, 408/429: retry later, and
//!   tell the resident the service is unavailable for now;
//! - [`PlatformError::Rejected`]: another 4xx: do not retry blindly, it will fail again;
//! - [`PlatformError::Conflict`]: 409: the idempotency key was used with a different body, or
//!   the platform's state forbids it;
//! - [`PlatformError::BadAnswer`]: a success whose body could not be read.
//!
//! Every write carries an `Idempotency-Key`. Nothing personal is logged: log lines carry the
//! route name, ids, status and time only.

use std::sync::Once;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::wire::{
    ApiError, ApplicationSubmission, CardRequest, CardRequestResponse, CardResult, CardResultAck,
    CatalogueUpdate, CryptogramRequest, CryptogramResponse, ErrorCode, Evaluation, EventAck,
    Heartbeat, HeartbeatAck, IDEMPOTENCY_KEY_HEADER, KIOSK_ID_HEADER, LockerEvent,
    LockerReadyRequest, LockerReadyResponse, PageReceipt, ProgressByCodeRequest,
    ProgressByIdNumberRequest, ProgressResponse, SharedDataRecord, SharedDataRequest,
    SubmissionReceipt,
};

/// Installs rustls' ring crypto provider as the process default, once. Called by
/// [`PlatformClient::new`]; the app may call it earlier. Harmless when a provider is already
/// installed.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Where the platform is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://platform.example/` or the simulator's `http://127.0.0.1:PORT`.
    /// The API's `/v1/…` paths are appended to it.
    pub base_url: String,
    /// This kiosk's id, sent as `X-Kiosk-Id` on every request.
    pub kiosk_id: String,
    /// Time allowed to open a connection (config `platform.connect_timeout`, default 3 s).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request (config `platform.request_timeout`, default 10 s).
    pub request_timeout: Duration,
}

impl ClientConfig {
    /// A configuration with the default timeouts (3 s connect, 10 s request).
    pub fn new(base_url: impl Into<String>, kiosk_id: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            kiosk_id: kiosk_id.into(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("the platform base URL is not a valid http(s) URL")]
    BadBaseUrl,
    #[error("the kiosk id cannot be sent as an HTTP header")]
    BadKioskId,
    #[error("the HTTP client could not be set up: {0}")]
    Http(String),
}

/// Why the platform is unavailable for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// No connection could be made (DNS, refused, network down, TLS).
    Unreachable,
    /// Connecting or the whole request took longer than allowed.
    TimedOut,
    /// The platform answered 5xx, 408 or 429.
    Server { status: u16 },
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Unreachable => f.write_str("unreachable"),
            Unavailable::TimedOut => f.write_str("timed out"),
            Unavailable::Server { status } => write!(f, "answered {status}"),
        }
    }
}

/// What went wrong with a platform call. Messages never contain personal data.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PlatformError {
    /// Retry later; tell the resident the service is unavailable for now.
    #[error("the platform is unavailable for now ({0})")]
    Unavailable(Unavailable),
    /// A 4xx other than 409: the request is wrong; retrying it unchanged will fail again.
    #[error("the platform rejected the request ({status}, {code:?}): {message}")]
    Rejected {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// 409: the idempotency key was already used with a different body, or the state on the
    /// platform forbids the request.
    #[error("the platform refused the request as a conflict: {message}")]
    Conflict { code: ErrorCode, message: String },
    /// A success whose body could not be read (a platform bug). Writes are idempotent, so
    /// retrying later is safe.
    #[error("the platform's answer ({status}) could not be read")]
    BadAnswer { status: u16 },
}

impl PlatformError {
    /// True when the same request may succeed later (outbox: back off and retry).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PlatformError::Unavailable(_) | PlatformError::BadAnswer { .. }
        )
    }

    /// True for "unavailable for now": the journeys that need the platform live say so.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, PlatformError::Unavailable(_))
    }
}

/// The answer to an idempotent write: `first_time` is false when the platform had already
/// received the same key and body (200 instead of 201).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written<T> {
    pub body: T,
    pub first_time: bool,
}

/// The platform API client. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct PlatformClient {
    http: reqwest::Client,
    base: Url,
    kiosk_id: String,
}

impl std::fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformClient")
            .field("base", &self.base.as_str())
            .field("kiosk_id", &self.kiosk_id)
            .finish_non_exhaustive()
    }
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl PlatformClient {
    /// Builds a client. Installs the ring crypto provider for rustls if none is installed.
    pub fn new(config: &ClientConfig) -> Result<PlatformClient, ClientBuildError> {
        install_crypto_provider();
        let mut base_text = config.base_url.trim().to_owned();
        if !base_text.ends_with('/') {
            base_text.push('/');
        }
        let base = Url::parse(&base_text).map_err(|_| ClientBuildError::BadBaseUrl)?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ClientBuildError::BadBaseUrl);
        }
        let kiosk = HeaderValue::from_str(config.kiosk_id.trim())
            .map_err(|_| ClientBuildError::BadKioskId)?;
        if config.kiosk_id.trim().is_empty() {
            return Err(ClientBuildError::BadKioskId);
        }
        let mut headers = HeaderMap::new();
        headers.insert(KIOSK_ID_HEADER, kiosk);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("town-service-kiosk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientBuildError::Http(e.to_string()))?;
        Ok(PlatformClient {
            http,
            base,
            kiosk_id: config.kiosk_id.trim().to_owned(),
        })
    }

    pub fn kiosk_id(&self) -> &str {
        &self.kiosk_id
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    async fn send(
        &self,
        route: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, PlatformError> {
        let started = Instant::now();
        let result = request.send().await;
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                let kind = if e.is_timeout() {
                    Unavailable::TimedOut
                } else {
                    Unavailable::Unreachable
                };
                tracing::debug!(route, error = %kind, "platform request failed");
                return Err(PlatformError::Unavailable(kind));
            }
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let kind = if e.is_timeout() {
                    Unavailable::TimedOut
                } else {
                    Unavailable::Unreachable
                };
                return Err(PlatformError::Unavailable(kind));
            }
        };
        tracing::debug!(
            route,
            status = status.as_u16(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "platform request"
        );
        Ok(Answer { status, body })
    }

    fn error_of(answer: &Answer) -> PlatformError {
        let status = answer.status.as_u16();
        let api: Option<ApiError> = serde_json::from_slice(&answer.body).ok();
        let (code, message) = match api {
            Some(a) => (a.error, truncate(&a.message, 300)),
            None => (ErrorCode::Unknown, String::new()),
        };
        match status {
            409 => PlatformError::Conflict { code, message },
            408 | 429 | 500..=599 => PlatformError::Unavailable(Unavailable::Server { status }),
            _ => PlatformError::Rejected {
                status,
                code,
                message,
            },
        }
    }

    fn decode<T: DeserializeOwned>(answer: &Answer) -> Result<T, PlatformError> {
        serde_json::from_slice(&answer.body).map_err(|_| PlatformError::BadAnswer {
            status: answer.status.as_u16(),
        })
    }

    fn post_json<B: Serialize>(&self, segments: &[&str], body: &B) -> reqwest::RequestBuilder {
        self.http
            .request(Method::POST, self.url(segments))
            .json(body)
    }

    /// A write: 201 first time, 200 repeat; anything else an error.
    async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        route: &'static str,
        segments: &[&str],
        key: &str,
        body: &B,
    ) -> Result<Written<T>, PlatformError> {
        let request = self
            .post_json(segments, body)
            .header(IDEMPOTENCY_KEY_HEADER, key);
        let answer = self.send(route, request).await?;
        match answer.status.as_u16() {
            201 => Ok(Written {
                body: Self::decode(&answer)?,
                first_time: true,
            }),
            200 => Ok(Written {
                body: Self::decode(&answer)?,
                first_time: false,
            }),
            _ => Err(Self::error_of(&answer)),
        }
    }

    /// A read sent as POST (so that personal data stays out of the URL): 200 or an error.
    async fn read<B: Serialize, T: DeserializeOwned>(
        &self,
        route: &'static str,
        segments: &[&str],
        body: &B,
    ) -> Result<T, PlatformError> {
        let answer = self.send(route, self.post_json(segments, body)).await?;
        if answer.status == StatusCode::OK {
            Self::decode(&answer)
        } else {
            Err(Self::error_of(&answer))
        }
    }

    /// Same, but 404 is `None`.
    async fn read_optional<B: Serialize, T: DeserializeOwned>(
        &self,
        route: &'static str,
        segments: &[&str],
        body: &B,
    ) -> Result<Option<T>, PlatformError> {
        let answer = self.send(route, self.post_json(segments, body)).await?;
        match answer.status {
            StatusCode::OK => Self::decode(&answer).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(Self::error_of(&answer)),
        }
    }

    /// `POST /v1/applications` with `Idempotency-Key: <application_id>`. Sending it again
    /// (after a timeout, a crash, a restart) is safe: the platform answers the same receipt
    /// with `first_time: false` and never makes a second application.
    pub async fn submit_application(
        &self,
        submission: &ApplicationSubmission,
    ) -> Result<Written<SubmissionReceipt>, PlatformError> {
        let key = submission.application_id.to_string();
        self.write(
            "submit_application",
            &["v1", "applications"],
            &key,
            submission,
        )
        .await
    }

    /// `PUT /v1/applications/{id}/materials/{material_id}/pages/{sha256}`: one scanned page,
    /// idempotent by its hash (the page's SHA-256 is its key). `sha256` must be the lower-case
    /// hex SHA-256 of `jpeg`; the platform checks it.
    pub async fn upload_page(
        &self,
        application_id: Uuid,
        material_id: &str,
        sha256: &str,
        jpeg: Vec<u8>,
    ) -> Result<Written<PageReceipt>, PlatformError> {
        let app = application_id.to_string();
        let url = self.url(&[
            "v1",
            "applications",
            &app,
            "materials",
            material_id,
            "pages",
            sha256,
        ]);
        let request = self
            .http
            .request(Method::PUT, url)
            .header(reqwest::header::CONTENT_TYPE, "image/jpeg")
            .header(IDEMPOTENCY_KEY_HEADER, sha256)
            .body(jpeg);
        let answer = self.send("upload_page", request).await?;
        match answer.status.as_u16() {
            201 => Ok(Written {
                body: Self::decode(&answer)?,
                first_time: true,
            }),
            200 => Ok(Written {
                body: Self::decode(&answer)?,
                first_time: false,
            }),
            _ => Err(Self::error_of(&answer)),
        }
    }

    /// `POST /v1/shared-data/lookup`: `None` when the dataset has no record for the person
    /// (the kiosk falls back to scanning); `Unavailable` when the data source is down.
    pub async fn lookup_shared_data(
        &self,
        request: &SharedDataRequest,
    ) -> Result<Option<SharedDataRecord>, PlatformError> {
        self.read_optional(
            "lookup_shared_data",
            &["v1", "shared-data", "lookup"],
            request,
        )
        .await
    }

    /// `POST /v1/progress/by-code`: `None` for a wrong number or code (no hint which).
    pub async fn progress_by_code(
        &self,
        request: &ProgressByCodeRequest,
    ) -> Result<Option<ProgressResponse>, PlatformError> {
        self.read_optional("progress_by_code", &["v1", "progress", "by-code"], request)
            .await
    }

    /// `POST /v1/progress/by-id-number`: every application of the person (maybe none).
    pub async fn progress_by_id_number(
        &self,
        request: &ProgressByIdNumberRequest,
    ) -> Result<ProgressResponse, PlatformError> {
        self.read(
            "progress_by_id_number",
            &["v1", "progress", "by-id-number"],
            request,
        )
        .await
    }

    /// `POST /v1/cards/requests` with an idempotency key for this attempt (make one UUID per
    /// card-making attempt and reuse it on retries).
    pub async fn request_card(
        &self,
        idempotency_key: Uuid,
        request: &CardRequest,
    ) -> Result<Written<CardRequestResponse>, PlatformError> {
        self.write(
            "request_card",
            &["v1", "cards", "requests"],
            &idempotency_key.to_string(),
            request,
        )
        .await
    }

    /// `POST /v1/cards/{request_id}/cryptogram`: relays the chip's challenge to the card
    /// bureau. A read (no state changes), so it needs no idempotency key.
    pub async fn card_cryptogram(
        &self,
        request_id: &str,
        request: &CryptogramRequest,
    ) -> Result<CryptogramResponse, PlatformError> {
        self.read(
            "card_cryptogram",
            &["v1", "cards", request_id, "cryptogram"],
            request,
        )
        .await
    }

    /// `POST /v1/cards/{request_id}/result` with an idempotency key (one per result report).
    pub async fn report_card_result(
        &self,
        request_id: &str,
        idempotency_key: Uuid,
        result: &CardResult,
    ) -> Result<Written<CardResultAck>, PlatformError> {
        self.write(
            "report_card_result",
            &["v1", "cards", request_id, "result"],
            &idempotency_key.to_string(),
            result,
        )
        .await
    }

    /// `POST /v1/lockers/ready`: finished applications to load into this kiosk's locker.
    pub async fn lockers_ready(&self) -> Result<LockerReadyResponse, PlatformError> {
        let request = LockerReadyRequest {
            kiosk_id: self.kiosk_id.clone(),
        };
        self.read("lockers_ready", &["v1", "lockers", "ready"], &request)
            .await
    }

    /// `POST /v1/lockers/events`, idempotent by `event_id`.
    pub async fn report_locker_event(
        &self,
        event: &LockerEvent,
    ) -> Result<Written<EventAck>, PlatformError> {
        let key = event.event_id.to_string();
        self.write(
            "report_locker_event",
            &["v1", "lockers", "events"],
            &key,
            event,
        )
        .await
    }

    /// `POST /v1/evaluations`, idempotent by `evaluation_id`.
    pub async fn submit_evaluation(
        &self,
        evaluation: &Evaluation,
    ) -> Result<Written<EventAck>, PlatformError> {
        let key = evaluation.evaluation_id.to_string();
        self.write(
            "submit_evaluation",
            &["v1", "evaluations"],
            &key,
            evaluation,
        )
        .await
    }

    /// `GET /v1/catalogue?since=VERSION`: `None` when the kiosk's version is the newest (304).
    pub async fn catalogue_since(
        &self,
        since: Option<&str>,
    ) -> Result<Option<CatalogueUpdate>, PlatformError> {
        let mut url = self.url(&["v1", "catalogue"]);
        if let Some(v) = since {
            url.query_pairs_mut().append_pair("since", v);
        }
        let answer = self
            .send("catalogue_since", self.http.request(Method::GET, url))
            .await?;
        match answer.status {
            StatusCode::OK => Self::decode(&answer).map(Some),
            StatusCode::NOT_MODIFIED => Ok(None),
            _ => Err(Self::error_of(&answer)),
        }
    }

    /// `POST /v1/heartbeat` (each heartbeat gets a fresh idempotency key).
    pub async fn heartbeat(&self, heartbeat: &Heartbeat) -> Result<HeartbeatAck, PlatformError> {
        let key = Uuid::now_v7().to_string();
        self.write("heartbeat", &["v1", "heartbeat"], &key, heartbeat)
            .await
            .map(|w: Written<HeartbeatAck>| w.body)
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
