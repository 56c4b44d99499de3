//! The `/sim/` admin routes over HTTP (for a simulator in another process).

// Helpers of an integration test are test code: they may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::too_many_lines)]

mod common;

use common::*;
use kiosk_platform::sim::admin::{AdminError, SimAdminClient};
use kiosk_platform::wire::*;
use uuid::Uuid;

#[tokio::test]
async fn admin_routes_drive_the_simulator() {
    let sim = sim().await;
    let admin = SimAdminClient::new(&sim.url()).unwrap();
    let c = client(&sim);
    let s = birth_submission();
    c.submit_application(&s).await.unwrap();

    let stats = admin.stats().await.unwrap();
    assert_eq!(stats.applications.distinct, 1);
    assert!(!stats.outage);

    admin.set_outage(true).await.unwrap();
    assert!(c.submit_application(&s).await.unwrap_err().is_unavailable());
    assert!(
        admin.stats().await.unwrap().outage,
        "/sim/ stays up during an outage"
    );
    admin.set_outage(false).await.unwrap();

    let p = admin
        .refuse(&RefuseItem {
            application_id: s.application_id,
            item_id: "vaccination-certificate".into(),
            reason: "接种记录缺失，请到助产机构补录后重新申请。".into(),
        })
        .await
        .unwrap();
    assert!(matches!(p.items[1].state, ItemState::Refused { .. }));
    admin
        .advance(&ClockAdvance {
            hours: 0.0,
            working_days: 4.0,
        })
        .await
        .unwrap();
    let record = admin.application(s.application_id).await.unwrap();
    assert!(record.progress.finished);
    assert_eq!(record.submission, s);
    let missing = admin.application(Uuid::now_v7()).await.unwrap_err();
    assert!(matches!(missing, AdminError::Refused { status: 404, .. }));

    assert!(admin.sms().await.unwrap().sms.is_empty());
    let update = CatalogueUpdate {
        version: "9".into(),
        files: std::collections::BTreeMap::default(),
    };
    admin.set_catalogue(&update).await.unwrap();
    assert_eq!(c.catalogue_since(Some("8")).await.unwrap(), Some(update));
    let bad = CatalogueUpdate {
        version: "10".into(),
        files: std::collections::BTreeMap::from([("../x.toml".into(), String::new())]),
    };
    assert!(matches!(
        admin.set_catalogue(&bad).await.unwrap_err(),
        AdminError::Refused { status: 422, .. }
    ));
    assert!(admin.heartbeats().await.unwrap().kiosks.is_empty());
}
