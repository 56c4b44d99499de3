//! Fixed, fictional sample data for every slip: used by the golden-byte tests, the
//! benchmark, the sample renderings and the developer panel. No real person's data.

use crate::slips::{
    AcceptanceNotice, AcceptedBy, CardIssuanceReceipt, CommittedMaterial, Document, GuideSlip,
    ItemLine, LockerPickupReceipt, MaskedNumber, MissingMaterial, MissingMaterialsNotice,
    PersonName, TestSlip,
};

const CENTRE: &str = "城南街道便民服务中心";
const PHONE: &str = "0571-12345678";

fn kiosk() -> AcceptedBy {
    AcceptedBy {
        kiosk_id: "ZZ-KIOSK-01".into(),
        window_no: "3".into(),
    }
}

fn birth_items() -> Vec<ItemLine> {
    [
        ("出生医学证明", "县卫生健康局"),
        ("预防接种证", "县卫生健康局"),
        ("户口登记", "县公安局"),
        ("城乡居民医保参保登记", "县医疗保障局"),
        ("社会保障卡申领", "县人力社保局"),
    ]
    .into_iter()
    .map(|(name, department)| ItemLine {
        name: name.into(),
        department: department.into(),
    })
    .collect()
}

/// 受理通知 for the birth one-thing, with one material committed for later. The
/// applicant's name has a character outside GB18030's two-byte area (𫖯, U+2B5AF, as in
/// 赵孟𫖯), so one line is
/// printed as a raster image.
pub fn acceptance_notice() -> AcceptanceNotice {
    AcceptanceNotice {
        centre_name: CENTRE.into(),
        application_no: "ZJ2024050600123".into(),
        one_thing: "出生“一件事”联办".into(),
        items: birth_items(),
        applicant_name: PersonName::from("王𫖯"),
        masked_id_number: MaskedNumber::from("3301**********1234"),
        materials_received: vec![
            "出生“一件事”联办登记表".into(),
            "父母双方居民身份证（电子证照）".into(),
            "拟落户方居民户口簿（数据共享）".into(),
        ],
        materials_committed: vec![CommittedMaterial {
            name: "父母结婚证".into(),
            deadline: "2024年5月20日前".into(),
        }],
        accepted_by: kiosk(),
        accepted_at: "2024-05-06 10:30".into(),
        time_limit: "4个工作日（不含制卡、寄送时间）".into(),
        due_date: "2024年5月10日".into(),
        pickup_method: "到本中心智能柜凭身份证自取".into(),
        consultation_phone: PHONE.into(),
        progress_url: "https://zwfw.example.gov.cn/p?no=ZJ2024050600123".into(),
        next_step: "5月10日后，带身份证到本中心智能柜取件".into(),
    }
}

/// 一次告知 of two missing materials.
pub fn missing_materials_notice() -> MissingMaterialsNotice {
    MissingMaterialsNotice {
        centre_name: CENTRE.into(),
        one_thing: "出生“一件事”联办".into(),
        application_no: Some("ZJ2024050600123".into()),
        applicant_name: PersonName::from("王小明"),
        masked_id_number: MaskedNumber::from("3301**********1234"),
        missing: vec![
            MissingMaterial {
                name: "父母结婚证".into(),
                reason: "未能通过数据共享取得".into(),
                how_to_supply: "带原件到3号窗口扫描，或在自助终端扫描上传".into(),
            },
            MissingMaterial {
                name: "出生医学证明（首联）".into(),
                reason: "上传的照片不清晰".into(),
                how_to_supply: "带原件到3号窗口".into(),
            },
        ],
        deadline: "2024年5月20日前".into(),
        where_to_supply:
            "城南街道便民服务中心一楼3号窗口（工作日 9:00-17:00），或24小时自助区智能柜".into(),
        issued_by: kiosk(),
        issued_at: "2024-05-06 10:30".into(),
        consultation_phone: PHONE.into(),
        guide_url: Some("https://zwfw.example.gov.cn/g/birth".into()),
        next_step: "5月20日前补交下面2项材料".into(),
    }
}

/// The simplified guide of the birth one-thing (birth spec annex C.1–C.8).
pub fn guide_slip() -> GuideSlip {
    GuideSlip {
        centre_name: CENTRE.into(),
        name: "出生“一件事”联办".into(),
        scope: "在助产机构内出生且符合省内落户政策的新生儿。".into(),
        items: birth_items(),
        materials: vec![
            "出生“一件事”联办登记表".into(),
            "新生儿父母双方居民身份证（上传原件正反面影像，或共享电子证照）".into(),
            "新生儿拟落户方居民户口簿（可通过数据共享获取）".into(),
            "新生儿父母结婚证（可通过数据共享获取）".into(),
        ],
        time_limit: "4个工作日（不包括信息确认、制卡、寄送时间）".into(),
        fees: "不收费（不包括医保缴费、邮寄费用）".into(),
        delivery: "申请人自取，或邮寄送达".into(),
        consultation: "电话 0571-12345678；网上咨询；现场咨询".into(),
        address_and_hours: "城南街道便民服务中心一楼，工作日 9:00-17:00；24小时自助区全天开放"
            .into(),
        full_guide_url: "https://zwfw.example.gov.cn/g/birth".into(),
    }
}

/// Pickup of finished certificates from a locker.
pub fn locker_pickup_receipt() -> LockerPickupReceipt {
    LockerPickupReceipt {
        centre_name: CENTRE.into(),
        application_no: "ZJ2024050600123".into(),
        one_thing: "出生“一件事”联办".into(),
        documents: vec![
            "出生医学证明".into(),
            "居民户口簿（新生儿页）".into(),
            "预防接种证".into(),
        ],
        locker: "A柜 12号格".into(),
        collected_by: PersonName::from("王小明"),
        masked_id_number: MaskedNumber::from("3301**********1234"),
        collected_at: "2024-05-11 15:02".into(),
        consultation_phone: PHONE.into(),
        evaluation_url: Some("https://zwfw.example.gov.cn/e?no=ZJ2024050600123".into()),
        next_step: "请取走全部材料，关好柜门".into(),
    }
}

/// A social security card made at the kiosk.
pub fn card_issuance_receipt() -> CardIssuanceReceipt {
    CardIssuanceReceipt {
        centre_name: CENTRE.into(),
        card_type: "社会保障卡（第三代）".into(),
        holder_name: PersonName::from("王小明"),
        masked_id_number: MaskedNumber::from("3301**********1234"),
        masked_card_number: MaskedNumber::from("A1234****"),
        bank: Some("某某银行城南支行".into()),
        issued_by: kiosk(),
        issued_at: "2024-05-06 10:45".into(),
        activation: vec![
            "社保功能：已启用".into(),
            "金融功能：请带本卡和身份证到开户银行网点激活".into(),
        ],
        consultation_phone: "12333".into(),
        info_url: Some("https://zwfw.example.gov.cn/card".into()),
        next_step: "请收好社保卡，到银行激活金融功能".into(),
    }
}

pub fn test_slip() -> TestSlip {
    TestSlip {
        kiosk_id: "ZZ-KIOSK-01".into(),
        printed_at: "2024-05-06 08:00".into(),
        qr_payload: "https://zwfw.example.gov.cn/test".into(),
    }
}

/// One document of each kind, with a file-name stem.
pub fn all() -> Vec<(&'static str, Document)> {
    vec![
        (
            "1-acceptance-notice",
            Document::Acceptance(acceptance_notice()),
        ),
        (
            "2-missing-materials",
            Document::MissingMaterials(missing_materials_notice()),
        ),
        ("3-guide", Document::Guide(guide_slip())),
        (
            "4-locker-pickup",
            Document::LockerPickup(locker_pickup_receipt()),
        ),
        (
            "5-card-issuance",
            Document::CardIssuance(card_issuance_receipt()),
        ),
        ("6-test-slip", Document::Test(test_slip())),
    ]
}
