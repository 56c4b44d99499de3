//! A client for the simulator's `/sim/` admin routes, for tests and tools that run the
//! simulator in another process (e.g. `kiosk platform-sim` beside a kiosk under crash test).

use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::client::{ClientBuildError, install_crypto_provider};
use crate::wire::{
    ApiError, ApplicationProgress, CatalogueUpdate, ClockAdvance, ErrorCode, Outage, RefuseItem,
    SimApplication, SimHeartbeats, SimStats, SmsList,
};

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the simulator could not be reached: {0}")]
    Http(String),
    #[error("the simulator answered {status}: {error:?}")]
    Refused { status: u16, error: ApiError },
}

/// Talks to `/sim/` on a running simulator.
#[derive(Debug, Clone)]
pub struct SimAdminClient {
    http: reqwest::Client,
    base: Url,
}

impl SimAdminClient {
    /// `base_url` is the simulator's URL, e.g. `http://127.0.0.1:8088`.
    pub fn new(base_url: &str) -> Result<SimAdminClient, ClientBuildError> {
        install_crypto_provider();
        let mut text = base_url.trim().to_owned();
        if !text.ends_with('/') {
            text.push('/');
        }
        let base = Url::parse(&text).map_err(|_| ClientBuildError::BadBaseUrl)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ClientBuildError::Http(e.to_string()))?;
        Ok(SimAdminClient { http, base })
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, AdminError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| AdminError::Http(e.to_string()))?;
        let mut request = self.http.request(method, url);
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request
            .send()
            .await
            .map_err(|e| AdminError::Http(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AdminError::Http(e.to_string()))?;
        if (200..300).contains(&status) {
            serde_json::from_slice(&bytes).map_err(|e| AdminError::Http(e.to_string()))
        } else {
            let error = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| ApiError::new(ErrorCode::Unknown, ""));
            Err(AdminError::Refused { status, error })
        }
    }

    pub async fn stats(&self) -> Result<SimStats, AdminError> {
        self.call::<(), _>(Method::GET, "sim/stats", None).await
    }

    pub async fn advance(&self, by: &ClockAdvance) -> Result<(), AdminError> {
        self.call::<_, serde_json::Value>(Method::POST, "sim/clock/advance", Some(by))
            .await
            .map(|_| ())
    }

    pub async fn set_outage(&self, down: bool) -> Result<(), AdminError> {
        self.call::<_, Outage>(Method::POST, "sim/outage", Some(&Outage { down }))
            .await
            .map(|_| ())
    }

    pub async fn refuse(&self, refuse: &RefuseItem) -> Result<ApplicationProgress, AdminError> {
        self.call(Method::POST, "sim/refuse", Some(refuse)).await
    }

    pub async fn application(&self, id: Uuid) -> Result<SimApplication, AdminError> {
        self.call::<(), _>(Method::GET, &format!("sim/applications/{id}"), None)
            .await
    }

    pub async fn sms(&self) -> Result<SmsList, AdminError> {
        self.call::<(), _>(Method::GET, "sim/sms", None).await
    }

    pub async fn set_catalogue(&self, catalogue: &CatalogueUpdate) -> Result<(), AdminError> {
        self.call::<_, CatalogueUpdate>(Method::POST, "sim/catalogue", Some(catalogue))
            .await
            .map(|_| ())
    }

    pub async fn heartbeats(&self) -> Result<SimHeartbeats, AdminError> {
        self.call::<(), _>(Method::GET, "sim/heartbeats", None)
            .await
    }
}
