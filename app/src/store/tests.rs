use super::*;
use crate::catalogue::Delivery;
use crate::domain::application::{
    Application, FormValue, MaterialRecord, MaterialState, ValueSource,
};
use crate::domain::person::Person;

fn person(name: &str, id: &str) -> Person {
    Person {
        name: name.into(),
        id_number: id.into(),
        gender: "male".into(),
        nation: Some("汉".into()),
        birth_date: jiff::civil::date(1991, 1, 1),
        address: Some("江西省示例市示例县测试镇样例路1号".into()),
        issuing_authority: None,
        verified_by: "card".into(),
    }
}

pub fn application(n: u32, pages: Vec<String>) -> Application {
    let mut materials = vec![MaterialRecord {
        id: "father-id-card".into(),
        state: MaterialState::FromCard {
            person: "father".into(),
        },
    }];
    if !pages.is_empty() {
        materials.push(MaterialRecord {
            id: "marriage-certificate".into(),
            state: MaterialState::Scanned { pages },
        });
    }
    Application {
        id: uuid::Uuid::now_v7(),
        number: format!("261120-33010601-{n:04}"),
        kiosk_id: "ZJ-330106-XH-01".into(),
        window: "1".into(),
        one_thing_id: "newborn".into(),
        situations: vec![],
        answers: std::collections::BTreeMap::default(),
        items: vec!["birth-certificate".into()],
        applicants: vec![("father".into(), person("王测试", "360426199101010071"))],
        form: [(
            "child.name".to_owned(),
            FormValue {
                value: "王小样".into(),
                source: ValueSource::Typed,
            },
        )]
        .into(),
        materials,
        delivery: Delivery::Locker,
        mailing_address: None,
        contact_phone: Some("13800138000".into()),
        accepted_at: jiff::Timestamp::from_second(1_795_000_000).unwrap(),
        due_date: Some(jiff::civil::date(2026, 11, 26)),
        time_limit_days: 4,
        query_code_hash: "00".repeat(32),
    }
}

/// Writes a fake scanned page and returns its hash.
fn scanned(dir: &std::path::Path, content: &[u8]) -> String {
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content));
    std::fs::write(dir.join(format!("{sha}.jpg")), content).unwrap();
    sha
}

#[test]
fn an_accepted_application_reads_back_and_is_queued_submission_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scans = tempfile::tempdir().unwrap();
    let sha = scanned(scans.path(), b"\xff\xd8 page one");
    let app = application(1, vec![sha.clone()]);
    store.accept(&app, scans.path(), 180).unwrap();
    assert_eq!(store.application(&app.id).unwrap().unwrap(), app);
    assert_eq!(store.page(&sha).unwrap(), b"\xff\xd8 page one");

    let now = app.accepted_at.as_millisecond();
    let due = store.due(now, 10).unwrap();
    assert_eq!(due.len(), 1, "the page waits for its submission");
    assert_eq!(due[0].kind, OutboxKind::SubmitApplication);
    store
        .mark_failed(due[0].id, "platform unreachable", now + 1000)
        .unwrap();
    assert!(
        store.due(now, 10).unwrap().is_empty(),
        "retry waits for its time"
    );
    let due = store.due(now + 1000, 10).unwrap();
    assert_eq!(due[0].attempts, 1);
    assert_eq!(due[0].idempotency_key, app.id.to_string());
    let sent: Application = serde_json::from_slice(&due[0].payload).unwrap();
    assert_eq!(sent, app);
    store.mark_delivered(due[0].id, now + 1000).unwrap();
    let due = store.due(now + 1000, 10).unwrap();
    assert_eq!(due[0].kind, OutboxKind::UploadPage, "then its page");
    store.mark_delivered(due[0].id, now + 2000).unwrap();
    assert_eq!(
        store.outbox_stats().unwrap(),
        OutboxStats {
            pending: 0,
            delivered: 2,
            oldest_pending_ms: None,
            retrying: 0
        }
    );
}

#[test]
fn personal_data_is_not_readable_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scans = tempfile::tempdir().unwrap();
    let sha = scanned(scans.path(), "结婚证 王测试 360426199101010071".as_bytes());
    store
        .accept(&application(1, vec![sha]), scans.path(), 180)
        .unwrap();
    drop(store);
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        for secret in [
            "360426199101010071",
            "王测试",
            "样例路",
            "13800138000",
            "王小样",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} readable in {}",
                entry.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_page_that_does_not_match_its_hash_refuses_the_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scans = tempfile::tempdir().unwrap();
    let sha = scanned(scans.path(), b"original");
    std::fs::write(scans.path().join(format!("{sha}.jpg")), b"swapped").unwrap();
    let app = application(1, vec![sha]);
    assert!(matches!(
        store.accept(&app, scans.path(), 180),
        Err(StoreError::Data(_))
    ));
    assert_eq!(store.application_count().unwrap(), 0);
}

#[test]
fn the_audit_chain_detects_an_edited_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for i in 0..5 {
        store
            .audit(
                &AuditEvent::new(
                    "locker.denied",
                    "resident:3604**********0071",
                    &format!("A0{i}"),
                    serde_json::json!({"why": "wrong code"}),
                ),
                1000 + i,
            )
            .unwrap();
    }
    assert_eq!(store.verify_audit().unwrap(), Ok(5));
    let err = store
        .conn()
        .execute("UPDATE audit_log SET subject = 'B01' WHERE seq = 3", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"));
    // Someone with the database file bypasses the trigger:
    store
        .conn()
        .execute_batch(
            "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET subject = 'B01' WHERE seq = 3;",
        )
        .unwrap();
    assert_eq!(
        store.verify_audit().unwrap(),
        Err(AuditBreak {
            seq: 3,
            reason: "its content was changed".into()
        })
    );
}

#[test]
fn audit_entries_hold_no_id_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .audit(
            &AuditEvent::new(
                "test",
                "resident:360426199101010071",
                "x",
                serde_json::json!({"id": "360426199101010071"}),
            ),
            1,
        )
        .unwrap();
    let tail = store.audit_tail(1).unwrap();
    assert!(!format!("{tail:?}").contains("360426199101010071"));
}

#[test]
fn the_retention_purge_leaves_no_personal_data_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scans = tempfile::tempdir().unwrap();
    let sha = scanned(scans.path(), b"page");
    let delivered = application(1, vec![sha.clone()]);
    let waiting = application(2, vec![]);
    store.accept(&delivered, scans.path(), 30).unwrap();
    store.accept(&waiting, scans.path(), 30).unwrap();
    let now = delivered.accepted_at.as_millisecond();
    loop {
        let due = store.due(now, 10).unwrap();
        let Some(row) = due
            .iter()
            .find(|r| r.application_id.as_deref() == Some(&delivered.id.to_string()))
        else {
            break;
        };
        store.mark_delivered(row.id, now).unwrap();
    }
    assert_eq!(
        store.purge_expired(now + 29 * 86_400_000).unwrap(),
        PurgeReport::default(),
        "not yet due"
    );
    let report = store.purge_expired(now + 31 * 86_400_000).unwrap();
    assert_eq!(
        report,
        PurgeReport {
            applications: 1,
            pages: 1,
            held_undelivered: 1
        }
    );
    assert!(store.application(&delivered.id).unwrap().is_none());
    assert!(
        store.application(&waiting.id).unwrap().is_some(),
        "undelivered data is kept"
    );
    assert!(!store.pages_dir().join(format!("{sha}.sealed")).exists());
    let sealed_left: i64 = store
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE application_id = ?1 AND length(sealed) > 0",
            [delivered.id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sealed_left, 0);
}

#[test]
fn schema_sql_is_the_migrated_schema() {
    let dir = tempfile::tempdir().unwrap();
    let migrated = Store::open(dir.path()).unwrap();
    let reference = rusqlite::Connection::open_in_memory().unwrap();
    reference.execute_batch(include_str!("schema.sql")).unwrap();
    let dump = |c: &rusqlite::Connection| -> Vec<(String, String)> {
        let mut stmt = c
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(dump(&migrated.conn()), dump(&reference));
}

#[test]
fn counters_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.next_counter("seq:2026-11-20").unwrap(), 1);
        assert_eq!(store.next_counter("seq:2026-11-20").unwrap(), 2);
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.counter("seq:2026-11-20").unwrap(), 2);
    assert_eq!(store.counter("seq:2026-11-21").unwrap(), 0);
}

#[test]
fn evaluations_are_stored_and_queued() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let e = crate::domain::evaluation::Evaluation {
        id: uuid::Uuid::now_v7(),
        application_number: Some("261120-33010601-0001".into()),
        level: 4,
        reasons: vec!["too-slow".into()],
        at: jiff::Timestamp::from_second(1_795_000_000).unwrap(),
    };
    store.save_evaluation(&e).unwrap();
    assert_eq!(store.evaluation_counts().unwrap(), [0, 0, 0, 1, 0]);
    let due = store.due(e.at.as_millisecond(), 10).unwrap();
    assert_eq!(due[0].kind, OutboxKind::Evaluation);
}
