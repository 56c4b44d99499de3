use super::*;
use std::path::PathBuf;

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/catalogue")
}

fn shipped() -> Catalogue {
    match Catalogue::load(&shipped_dir()) {
        Ok(c) => c,
        Err(e) => panic!("shipped catalogue does not load:\n{e}"),
    }
}

/// The 2022 national basic list (国办发〔2022〕32号, annexes 1 and 2) as the seed prints it:
/// one-thing, then each item with its responsible department (blank cells in the seed's
/// merged-cell tables carry the department from the row above).
const NATIONAL_LIST: &[(&str, &[(&str, &str)])] = &[
    (
        "企业开办“一件事”",
        &[
            ("企业设立登记", "市场监管部门"),
            ("公章刻制备案", "公安部门"),
            ("发票领用", "税务部门"),
            ("企业社会保险登记", "人力资源社会保障部门"),
            ("住房公积金单位登记开户", "住房城乡建设部门"),
        ],
    ),
    (
        "企业准营“一件事”（以餐饮店为例）",
        &[
            ("食品经营许可", "市场监管部门"),
            (
                "设置大型户外广告及在城市建筑物、设施上悬挂、张贴宣传品审批",
                "住房城乡建设(城市管理)部门",
            ),
            ("公众聚集场所投入使用、营业前消防安全检查", "消防救援机构"),
        ],
    ),
    (
        "员工录用“一件事”",
        &[
            ("就业登记", "人力资源社会保障部门"),
            ("职工参保登记(社会保险)", "人力资源社会保障部门"),
            ("社会保障卡申领", "人力资源社会保障部门"),
            ("档案的接收和转递(流动人员)", "人力资源社会保障部门"),
            ("职工参保登记(基本医疗保险)", "医保部门"),
            ("个人住房公积金账户设立", "住房城乡建设部门"),
        ],
    ),
    (
        "涉企不动产登记“一件事”",
        &[
            ("不动产统一登记", "自然资源部门"),
            ("房地产交易税费申报", "税务部门"),
        ],
    ),
    (
        "企业简易注销“一件事”",
        &[("税务注销", "税务部门"), ("企业注销登记", "市场监管部门")],
    ),
    (
        "新生儿出生“一件事”",
        &[
            ("出生医学证明签发", "卫生健康部门"),
            ("预防接种证办理", "疾控部门、卫生健康部门按职责分工落实"),
            ("户口登记", "公安部门"),
            ("城乡居民参保登记(基本医疗保险)", "医保部门"),
            ("社会保障卡申领", "人力资源社会保障部门"),
        ],
    ),
    (
        "灵活就业“一件事”",
        &[
            ("就业登记", "人力资源社会保障部门"),
            ("档案的接收和转递(流动人员)", "人力资源社会保障部门"),
            ("社会保险登记", "人力资源社会保障部门"),
            ("基本医疗保险参保和变更登记", "医保部门"),
            ("灵活就业人员社会保险费申报", "税务部门"),
        ],
    ),
    (
        "公民婚育“一件事”",
        &[
            ("内地居民婚姻登记", "民政部门"),
            ("户口登记项目变更", "公安部门"),
            ("户口迁移", "公安部门"),
            ("生育登记", "卫生健康部门"),
        ],
    ),
    (
        "扶残助困“一件事”",
        &[
            ("残疾人证办理", "残联"),
            ("困难残疾人生活补贴和重度残疾人护理补贴资格认定", "民政部门"),
            ("低保、特困等困难群众医疗救助", "医保部门"),
            ("城乡居民基本养老保险补助", "人力资源社会保障部门"),
        ],
    ),
    (
        "军人退役“一件事”",
        &[
            ("退役报到", "退役军人事务部门"),
            ("户口登记(退役军人恢复户口)", "公安部门"),
            ("核发居民身份证", "公安部门"),
            ("预备役登记", "人民武装部门"),
            ("社会保险登记", "人力资源社会保障部门"),
            ("军地养老保险关系转移接续", "人力资源社会保障部门"),
            ("基本医疗保险参保和变更登记", "医保部门"),
            ("基本医疗保险关系转移接续", "医保部门"),
            ("退役士兵自主就业一次性经济补助金的给付", "退役军人事务部门"),
        ],
    ),
    (
        "二手房转移登记及水电气联动过户“一件事”",
        &[
            ("房屋交易合同网签备案", "住房城乡建设部门"),
            ("房地产交易税费申报", "税务部门"),
            ("不动产统一登记", "自然资源部门"),
            ("电表过户", "能源主管部门"),
            ("水表过户", "住房城乡建设部门"),
            ("天然气表过户", "住房城乡建设部门"),
        ],
    ),
    (
        "企业职工退休“一件事”",
        &[
            ("职工正常退休(职)申请", "人力资源社会保障部门"),
            ("职工提前退休(退职)申请", "人力资源社会保障部门"),
            ("职工参保登记(基本医疗保险)", "医保部门"),
            ("住房公积金提取(离休、退休)", "住房城乡建设部门"),
        ],
    ),
    (
        "公民身后“一件事”",
        &[
            ("出具死亡证明(正常死亡)", "卫生健康部门"),
            ("出具死亡证明(非正常死亡)", "公安部门"),
            ("出具火化证明", "民政部门"),
            ("参保人员个人账户一次性支取(基本医疗保险)", "医保部门"),
            ("个人账户一次性待遇申领(养老保险)", "人力资源社会保障部门"),
            ("遗属待遇申领", "人力资源社会保障部门"),
            ("死亡、宣告死亡办理户口注销", "公安部门"),
            ("注销驾驶证", "公安部门"),
            ("住房公积金提取(死亡)", "住房城乡建设部门"),
        ],
    ),
];

#[test]
fn all_13_national_one_things_carry_the_seed_items_and_departments() {
    let cat = shipped();
    assert_eq!(NATIONAL_LIST.len(), 13);
    for (name, items) in NATIONAL_LIST {
        let one = cat
            .one_things
            .iter()
            .find(|o| o.name == *name)
            .unwrap_or_else(|| panic!("missing {name}"));
        for (item, department) in *items {
            let found = one
                .body
                .items
                .iter()
                .find(|i| i.name == *item)
                .unwrap_or_else(|| panic!("{name}: missing item {item}"));
            assert_eq!(
                cat.department_name(&found.department),
                *department,
                "{name} / {item}"
            );
        }
        assert!(
            cat.departments.contains_key(&one.lead_department),
            "{name} has a lead department"
        );
        assert!(
            cat.life_stages.contains_key(&one.life_stage),
            "{name} has a life stage"
        );
    }
    let enterprise = cat
        .one_things
        .iter()
        .filter(|o| o.audience == Audience::Enterprise)
        .count();
    assert_eq!(enterprise, 5);
}

#[test]
fn the_birth_one_thing_is_complete() {
    let cat = shipped();
    let birth = cat.one_thing("newborn").unwrap();
    assert_eq!(birth.life_stage, "birth");
    assert_eq!(cat.department_name(&birth.lead_department), "卫生健康部门");
    let roles: Vec<_> = birth
        .body
        .applicants
        .iter()
        .map(|a| a.role.as_str())
        .collect();
    assert_eq!(roles, ["father", "mother"], "both parents identify");
    assert_eq!(birth.body.time_limit.working_days, 4);
    assert_eq!(
        birth.body.time_limit.excludes.as_deref(),
        Some("不包括信息确认时间、制卡时间、寄送时间")
    );
    assert_eq!(birth.body.fee, "不收费（不包括医保缴纳费用、邮寄费用）");
    assert_eq!(birth.body.delivery, [Delivery::Locker, Delivery::Mail]);
    assert_eq!(
        birth.body.guide.scope,
        "在助产机构内出生且符合省内落户政策的新生儿。"
    );

    // Six items; maternity benefit review is optional and chosen by a situation.
    assert_eq!(birth.body.items.len(), 6);
    let maternity = birth.item("maternity-benefit").unwrap();
    assert_eq!(maternity.name, "生育保险待遇审核");
    assert!(!maternity.default_selected);
    let q = birth.question("maternity-insurance").unwrap();
    let yes = q.options.iter().find(|o| o.value == "yes").unwrap();
    assert_eq!(yes.situation.as_deref(), Some("mother-insured"));
    assert_eq!(yes.select, ["maternity-benefit"]);

    // The social security card comes after household registration and insurance enrolment.
    let order: Vec<_> = birth
        .items_in_order()
        .iter()
        .map(|i| i.id.clone())
        .collect();
    let pos = |id: &str| order.iter().position(|x| x == id).unwrap();
    assert!(pos("social-security-card") > pos("household-registration"));
    assert!(pos("social-security-card") > pos("medical-insurance-enrolment"));
    assert!(pos("household-registration") > pos("birth-certificate"));

    // Materials: the form is the merged form; ID cards from the reader; household register
    // and marriage certificate shared, scanned only when sharing fails; only the marriage
    // certificate may be committed for later.
    let m = |id: &str| birth.body.materials.iter().find(|m| m.id == id).unwrap();
    assert_eq!(m("registration-form").source, MaterialSource::MergedForm);
    assert_eq!(m("father-id-card").source, MaterialSource::IdCard);
    assert_eq!(m("mother-id-card").person.as_deref(), Some("mother"));
    for shared in ["household-register", "marriage-certificate"] {
        assert_eq!(m(shared).source, MaterialSource::Shared);
        assert_eq!(m(shared).fallback, Some(MaterialSource::Scan));
    }
    let secondary: Vec<_> = birth
        .body
        .materials
        .iter()
        .filter(|m| m.importance == Importance::Secondary)
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(secondary, ["marriage-certificate"]);
    assert_eq!(m("household-register").importance, Importance::Primary);

    // The merged form asks each parent's card data once, prefilled from the cards.
    let chosen: Vec<String> = birth.body.items.iter().map(|i| i.id.clone()).collect();
    let card_fields = birth
        .fields_for(&chosen)
        .filter(|f| f.prefill.from == PrefillFrom::Card)
        .count();
    assert_eq!(card_fields, 8);
    // Dropping household registration drops its fields and the marriage certificate.
    let without: Vec<String> = chosen
        .iter()
        .filter(|i| *i != "household-registration")
        .cloned()
        .collect();
    assert!(
        !birth
            .fields_for(&without)
            .any(|f| f.id == "household.number")
    );
    assert!(
        !birth
            .materials_for(&without)
            .any(|m| m.id == "marriage-certificate")
    );
}

#[test]
fn the_three_levels_have_real_examples() {
    let cat = shipped();
    let main = cat.one_thing("schooling").unwrap();
    assert_eq!(main.level, Level::Main);
    let sub = cat.one_thing("gaokao-preference").unwrap();
    assert_eq!(sub.level, Level::Sub);
    assert_eq!(sub.parent.as_deref(), Some("schooling"));
    let situation = &sub.body.situations[0];
    assert_eq!(situation.name, "少数民族考生高考优待“一件事”");
    assert!(
        cat.one_thing("newborn")
            .unwrap()
            .body
            .situations
            .iter()
            .any(|s| s.id == "mother-insured")
    );
}

// ---- every validation error, each from a broken copy of the shipped catalogue ----------------

/// Copies the shipped catalogue, applies `edit` to one file, and returns the error text.
fn broken(file: &str, edit: impl FnOnce(String) -> String) -> String {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shipped_dir(), dir.path());
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit must change {file}");
    std::fs::write(&path, edited).unwrap();
    match Catalogue::load(dir.path()) {
        Ok(_) => panic!("broken {file} was accepted"),
        Err(e) => e.to_string(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The 1-based line of the first line of a shipped catalogue file containing `needle`.
fn line_in(file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(shipped_dir().join(file)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn assert_reports(errors: &str, expected: &str) {
    assert!(
        errors.contains(expected),
        "expected {expected:?} in:\n{errors}"
    );
}

const NEWBORN: &str = "one-things/newborn.toml";

#[test]
fn duplicate_ids_are_reported_with_the_first_line() {
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "id = \"vaccination-certificate\"",
            "id = \"birth-certificate\"",
            1,
        )
    });
    let (first, second) = (
        line_in(NEWBORN, "id = \"birth-certificate\""),
        line_in(NEWBORN, "id = \"vaccination-certificate\""),
    );
    assert_reports(
        &e,
        &format!(
            "newborn.toml:{}: items[1]: item id \"birth-certificate\" is already used at line {}",
            second - 1,
            first - 1
        ),
    );
    let e = broken("one-things/retirement.toml", |t| {
        t.replacen("id = \"retirement\"", "id = \"newborn\"", 1)
    });
    assert_reports(&e, "one-thing id \"newborn\" is already used");
}

#[test]
fn unknown_references_are_reported() {
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "department = \"public-security\"",
            "department = \"police\"",
            1,
        )
    });
    assert_reports(&e, "items[2].department: unknown department \"police\"");
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "depends_on = [\"birth-certificate\"]",
            "depends_on = [\"birth-cert\"]",
            1,
        )
    });
    assert_reports(&e, "items[2].depends_on: unknown item \"birth-cert\"");
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "dataset = \"marriage-certificate\"",
            "dataset = \"marriages\"",
            1,
        )
    });
    assert_reports(&e, "materials[4].dataset: unknown dataset \"marriages\"");
    let e = broken(NEWBORN, |t| {
        t.replacen("life_stage = \"birth\"", "life_stage = \"babies\"", 1)
    });
    assert_reports(
        &e,
        &format!(
            "newborn.toml:{}: life_stage: unknown life stage \"babies\"",
            line_in(NEWBORN, "life_stage =")
        ),
    );
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "situation = \"mother-insured\"",
            "situation = \"insured\"",
            1,
        )
    });
    assert_reports(&e, "situation: unknown situation \"insured\"");
    let e = broken("one-things/schooling.gaokao-preference.toml", |t| {
        t.replacen("parent = \"schooling\"", "parent = \"school\"", 1)
    });
    assert_reports(&e, "parent: unknown one-thing \"school\"");
    let e = broken(NEWBORN, |t| {
        t.replacen("field = \"nation\" }", "field = \"ethnicity\" }", 1)
    });
    assert_reports(&e, "an ID card has no field \"ethnicity\"");
}

#[test]
fn every_item_needs_a_department_and_a_time_limit() {
    let e = broken(NEWBORN, |t| {
        t.replacen("department = \"cdc-and-health\"\n", "", 1)
    });
    let table = line_in(NEWBORN, "id = \"vaccination-certificate\"") - 1;
    assert_reports(
        &e,
        &format!("newborn.toml:{table}: items[1].department: missing key (expected a string)"),
    );
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "time_limit_days = 1\nresult = \"预防接种证\"",
            "result = \"预防接种证\"",
            1,
        )
    });
    assert_reports(
        &e,
        "items[1].time_limit_days: missing key (expected a whole number)",
    );
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "time_limit_days = 1\nresult = \"预防接种证\"",
            "time_limit_days = 0\nresult = \"预防接种证\"",
            1,
        )
    });
    assert_reports(
        &e,
        "items[1].time_limit_days: every item needs a time limit of at least 1 working day",
    );
}

#[test]
fn every_field_needs_a_type() {
    let e = broken(NEWBORN, |t| t.replacen("kind = \"phone\"\n", "", 1));
    assert_reports(
        &e,
        "fields[16].kind: missing key (expected one of: text, chinese-name, id-number, phone, date, choice, address, number)",
    );
    let e = broken(NEWBORN, |t| {
        t.replacen("kind = \"phone\"", "kind = \"telephone\"", 1)
    });
    assert_reports(&e, "fields[16].kind: expected one of:");
    let e = broken(NEWBORN, |t| {
        t.replacen("options = [\"男\", \"女\"]\n", "", 1)
    });
    assert_reports(&e, "fields[1].options: a choice field needs options");
}

#[test]
fn dependency_cycles_are_reported() {
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "time_limit_days = 1\nresult = \"出生医学证明\"",
            "time_limit_days = 1\ndepends_on = [\"social-security-card\"]\nresult = \"出生医学证明\"",
            1,
        )
    });
    assert_reports(
        &e,
        "item \"birth-certificate\" depends on itself through other items",
    );
}

#[test]
fn material_rules_follow_the_standards() {
    let e = broken(NEWBORN, |t| {
        t.replacen("name = \"新生儿父母结婚证\"", "name = \"结婚证等材料\"", 1)
    });
    assert_reports(
        &e,
        "vague material name (\"等材料\") is not allowed (DB33/T 2304 5.2.3)",
    );
    let e = broken(NEWBORN, |t| t.replacen("commit_days = 5\n", "", 1));
    assert_reports(
        &e,
        "materials[4].commit_days: a secondary material needs the working days allowed to supply it later",
    );
    let e = broken(NEWBORN, |t| {
        t.replacen("importance = \"secondary\"", "importance = \"primary\"", 1)
    });
    assert_reports(
        &e,
        "materials[4].commit_days: only secondary materials may be committed for later (容缺, DB33/T 2036.2 3.3)",
    );
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "dataset = \"household-register\"\nfallback = \"scan\"\n",
            "dataset = \"household-register\"\n",
            1,
        )
    });
    assert_reports(
        &e,
        "materials[3].fallback: a shared material needs fallback = \"scan\" for when sharing fails",
    );
}

#[test]
fn questions_and_situations_are_checked() {
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "    { value = \"mother\", label = \"随母亲\", label_en = \"With the mother\" },\n",
            "",
            1,
        )
    });
    assert_reports(
        &e,
        "questions[1].options: a question needs at least two answers",
    );
    let e = broken(NEWBORN, |t| {
        t.replacen(" situation = \"mother-insured\",", "", 1)
    });
    assert_reports(&e, "no answer leads to situation \"mother-insured\"");
}

#[test]
fn the_merged_form_asks_each_thing_once() {
    let e = broken(NEWBORN, |t| {
        t.replacen(
            "prefill = { from = \"card\", person = \"mother\", field = \"address\" }",
            "prefill = { from = \"card\", person = \"father\", field = \"address\" }",
            1,
        )
    });
    assert_reports(&e, "asks for the same data as the field at line");
}

#[test]
fn levels_and_audiences_must_agree() {
    let e = broken("one-things/hiring.toml", |t| {
        t.replacen("audience = \"enterprise\"", "audience = \"resident\"", 1)
    });
    assert_reports(
        &e,
        "audience: is resident but life stage \"hiring\" is for enterprise",
    );
    let e = broken("catalogue.toml", |t| {
        t.replacen("[life_stages]\n", "[life_stages]\nempty = { name = \"空\", name_en = \"Empty\", audience = \"resident\", order = 99 }\n", 1)
    });
    assert_reports(
        &e,
        "life_stages.empty: life stage \"empty\" has no one-thing",
    );
}

#[test]
fn schema_errors_in_several_files_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shipped_dir(), dir.path());
    let edit = |file: &str, from: &str, to: &str| {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replacen(from, to, 1);
        std::fs::write(path, text).unwrap();
    };
    edit(NEWBORN, "fee = ", "fees = ");
    edit(
        "one-things/hiring.toml",
        "time_limit = { working_days = 5",
        "time_limit = { working_days = \"five\"",
    );
    let e = Catalogue::load(dir.path()).unwrap_err().to_string();
    assert_reports(
        &e,
        &format!(
            "newborn.toml:{}: fees: unknown key",
            line_in(NEWBORN, "fee = ")
        ),
    );
    assert_reports(&e, "newborn.toml:1: fee: missing key");
    let hiring = line_in("one-things/hiring.toml", "time_limit = {");
    assert_reports(
        &e,
        &format!(
            "hiring.toml:{hiring}: time_limit.working_days: expected a whole number, found a string"
        ),
    );
}
