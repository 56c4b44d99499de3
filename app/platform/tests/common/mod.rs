//! Helpers shared by the integration tests: a simulator on loopback, a client, and sample
//! submissions built from the fictitious people in resources/sim/.

#![allow(dead_code, clippy::unwrap_used, clippy::too_many_lines)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::date;
use kiosk_platform::mask::{query_code_hash, sha256_hex};
use kiosk_platform::sim::{SimConfig, SimHandle, Simulator};
use kiosk_platform::wire::{
    Applicant, ApplicationSubmission, Dataset, Delivery, FormValue, Gender, IdKind, IdentifiedBy,
    ItemResult, Material, MaterialState, PageRef, ResultKind, Role, SubmittedItem, ValueSource,
};
use kiosk_platform::{ClientConfig, PlatformClient};
use uuid::Uuid;

pub const KIOSK: &str = "ZJ-330106-XH-01";
pub const FATHER_ID: &str = "360426199101010071";
pub const MOTHER_ID: &str = "45010220000229008X";
pub const LI_ID: &str = "11010519491231002X";
pub const BATER_ID: &str = "150102198503170050";
pub const QUERY_CODE: &str = "246810";

/// A fresh application number of `KIOSK` as printed on the notice: `261120-33010601-NNNN`,
/// NNNN counting up in this test process.
pub fn next_application_number() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let kiosk_digits: String = KIOSK.chars().filter(char::is_ascii_digit).collect();
    format!(
        "261120-{kiosk_digits}-{:04}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A simulator with a frozen clock on an ephemeral loopback port.
pub async fn sim() -> SimHandle {
    Simulator::start_with("127.0.0.1:0", SimConfig::frozen())
        .await
        .unwrap()
}

pub fn client(sim: &SimHandle) -> PlatformClient {
    client_for(&sim.url())
}

pub fn client_for(url: &str) -> PlatformClient {
    let mut config = ClientConfig::new(url, KIOSK);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    PlatformClient::new(&config).unwrap()
}

fn item(
    id: &str,
    name: &str,
    department: &str,
    deps: &[&str],
    result: Option<(&str, ResultKind)>,
) -> SubmittedItem {
    SubmittedItem {
        item_id: id.into(),
        name: name.into(),
        department: department.into(),
        time_limit_working_days: 1,
        depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
        result: result.map(|(n, kind)| ItemResult {
            name: n.into(),
            kind,
        }),
    }
}

fn typed(value: &str) -> FormValue {
    FormValue {
        value: value.into(),
        source: ValueSource::Typed,
    }
}

fn shared(value: &str, dataset: Dataset) -> FormValue {
    FormValue {
        value: value.into(),
        source: ValueSource::Shared {
            dataset,
            role: Some(Role::Mother),
        },
    }
}

/// The birth one-thing (DB33 出生一件事 5): birth certificate and vaccination certificate
/// (1 day each), household registration after the birth certificate, insurance enrolment
/// after household registration, and the social security card last, after both.
pub fn birth_submission() -> ApplicationSubmission {
    let page = sha256_hex(&sample_jpeg(1));
    ApplicationSubmission {
        application_id: Uuid::now_v7(),
        application_number: next_application_number(),
        kiosk_id: KIOSK.into(),
        one_thing_id: "birth".into(),
        one_thing_name: "出生一件事".into(),
        catalogue_version: Some("2026.1".into()),
        items: vec![
            item(
                "birth-medical-certificate",
                "出生医学证明出具",
                "助产机构",
                &[],
                Some(("出生医学证明", ResultKind::Document)),
            ),
            item(
                "vaccination-certificate",
                "预防接种证办理",
                "助产机构",
                &[],
                Some(("预防接种证", ResultKind::Document)),
            ),
            item(
                "household-registration",
                "出生户口登记",
                "落户地公安派出所",
                &["birth-medical-certificate"],
                Some(("居民户口簿", ResultKind::Document)),
            ),
            item(
                "medical-insurance",
                "城乡居民参保登记（医保）",
                "参保地医保经办机构",
                &["household-registration"],
                Some(("医保电子凭证", ResultKind::Electronic)),
            ),
            item(
                "social-security-card",
                "社会保障卡申领",
                "社会保障卡管理服务机构",
                &["household-registration", "medical-insurance"],
                Some(("社会保障卡", ResultKind::SocialSecurityCard)),
            ),
        ],
        applicants: vec![
            Applicant {
                role: Role::Mother,
                name: "韦龘𠮷".into(),
                id_number: MOTHER_ID.into(),
                id_kind: IdKind::Resident,
                gender: Some(Gender::Female),
                birth_date: Some(date(2000, 2, 29)),
                nation: Some("壮".into()),
                address: Some("广西壮族自治区示例市测试区样例路8号".into()),
                identified_by: IdentifiedBy::IdCard,
            },
            Applicant {
                role: Role::Father,
                name: "王测试".into(),
                id_number: FATHER_ID.into(),
                id_kind: IdKind::Resident,
                gender: Some(Gender::Male),
                birth_date: Some(date(1991, 1, 1)),
                nation: Some("汉".into()),
                address: None,
                identified_by: IdentifiedBy::Typed,
            },
        ],
        form: BTreeMap::from([
            (
                "child_name".into(),
                shared("王小测", Dataset::BirthMedicalCertificate),
            ),
            (
                "child_gender".into(),
                shared("男", Dataset::BirthMedicalCertificate),
            ),
            (
                "birth_date".into(),
                shared("2026-11-08", Dataset::BirthMedicalCertificate),
            ),
            (
                "registration_place".into(),
                typed("江西省示例市示例县测试镇"),
            ),
        ]),
        materials: vec![
            Material {
                material_id: "application-form".into(),
                name: "出生“一件事”联办登记表".into(),
                primary: true,
                state: MaterialState::Form,
            },
            Material {
                material_id: "parents-id-cards".into(),
                name: "新生儿父母双方居民身份证".into(),
                primary: true,
                state: MaterialState::FromCard {
                    role: Some(Role::Mother),
                },
            },
            Material {
                material_id: "household-register".into(),
                name: "居民户口簿".into(),
                primary: true,
                state: MaterialState::Shared {
                    dataset: Dataset::HouseholdRegister,
                    role: Some(Role::Father),
                },
            },
            Material {
                material_id: "marriage-certificate".into(),
                name: "结婚证".into(),
                primary: false,
                state: MaterialState::Scanned {
                    pages: vec![PageRef {
                        sha256: page,
                        bytes: sample_jpeg(1).len() as u64,
                    }],
                },
            },
            Material {
                material_id: "other-proof".into(),
                name: "其他证明材料".into(),
                primary: false,
                state: MaterialState::CommittedLater {
                    deadline: date(2026, 12, 15),
                },
            },
        ],
        delivery: Delivery::Locker {
            kiosk_id: KIOSK.into(),
        },
        contact_phone: "13800000000".into(),
        accepted_at: Timestamp::now(),
        due_date: Some(date(2026, 11, 26)),
        query_code_sha256: query_code_hash(QUERY_CODE),
    }
}

/// A small one-item application for bulk tests.
pub fn simple_submission(n: usize) -> ApplicationSubmission {
    let mut s = birth_submission();
    s.items.truncate(1);
    s.materials.truncate(1);
    s.form.clear();
    s.one_thing_id = format!("bulk-{}", n % 13);
    s
}

/// Bytes that look like a JPEG (SOI + APP0 marker) and differ by `n`.
pub fn sample_jpeg(n: u8) -> Vec<u8> {
    let mut v = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    v.extend(std::iter::repeat_n(n, 1024));
    v.extend([0xFF, 0xD9]);
    v
}

/// A plain reqwest client for raw requests (installs the crypto provider first).
pub fn http() -> reqwest::Client {
    kiosk_platform::install_crypto_provider();
    reqwest::Client::new()
}
