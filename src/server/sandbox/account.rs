//! The sandbox's account system (帐户体系), `/uat-sandbox/account/...`: a customer from
//! creation to an active, archived account with a fund account and shareholder cards, in
//! the calls a counter makes. Each call checks what the real one would and refuses with a
//! business code and a Chinese message otherwise.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::answer::{Body, Done, Failure, one_of, optional_text, text};
use super::model::{
    Contact, Customer, Declaration, Face, MARKETS, OPENING_AGREEMENTS, Profile, ReturnVisit,
    Review, Risk, Screening, TaxResidency, Upload, Witness,
};
use super::rules::{self, QUESTIONS, RiskLevel};
use super::{Find, MAX_CUSTOMERS, Now, change, look};
use crate::domain::mask::{IdNumber, Phone};
use crate::server::AppState;
use crate::store::sandbox as store;

pub const OCCUPATIONS: &[&str] = &[
    "staff",
    "manager",
    "professional",
    "civil_servant",
    "self_employed",
    "freelancer",
    "retired",
    "student",
    "other",
];
pub const EDUCATIONS: &[&str] = &[
    "doctor",
    "master",
    "bachelor",
    "college",
    "high_school",
    "below",
];
pub const TAX_KINDS: &[&str] = &["cn_only", "non_cn_only", "both"];
pub const COMMISSION_TEMPLATES: &[&str] = &["standard", "online", "vip"];
pub const VISIT_CHANNELS: &[&str] = &["phone", "sms", "app", "video"];
/// The largest ID image or photo the sandbox records (it keeps only its name and size).
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", post(create))
        .route("/customers/{no}", get(read))
        .route("/customers/{no}/identity/verify", post(verify_identity))
        .route("/customers/{no}/id-images", post(id_image))
        .route("/customers/{no}/face-compare", post(face_compare))
        .route("/customers/{no}/contact", put(contact))
        .route("/customers/{no}/profile", put(profile))
        .route("/customers/{no}/tax-residency", put(tax_residency))
        .route("/customers/{no}/beneficial-owner", put(beneficial_owner))
        .route("/customers/{no}/actual-controller", put(actual_controller))
        .route("/customers/{no}/credit-check", post(credit_check))
        .route("/customers/{no}/aml-screening", post(aml_screening))
        .route("/risk-questionnaire", get(questionnaire))
        .route("/customers/{no}/risk-assessment", post(risk_assessment))
        .route(
            "/customers/{no}/risk-assessment/confirm",
            post(risk_confirm),
        )
        .route("/customers/{no}/investment-experience", put(experience))
        .route("/customers/{no}/suitability/confirm", post(suitability))
        .route("/customers/{no}/agreements", post(sign_agreement))
        .route(
            "/customers/{no}/fund-account",
            post(open_fund_account).get(fund_account),
        )
        .route("/customers/{no}/trade-password", put(trade_password))
        .route("/customers/{no}/fund-password", put(fund_password))
        .route(
            "/customers/{no}/shareholder-cards",
            post(open_card).get(cards),
        )
        .route("/customers/{no}/designated-trading", post(designate))
        .route("/customers/{no}/video-witness", post(video_witness))
        .route("/customers/{no}/review", post(review))
        .route("/customers/{no}/return-visit", post(return_visit))
        .route("/customers/{no}/commission-template", put(commission))
        .route("/customers/{no}/customer-manager", put(manager))
        .route("/customers/{no}/activate", post(activate))
        .route("/customers/{no}/archive", post(archive))
}

/// Numbers the sandbox hands out follow the customer's row id, so they are unique and short.
pub fn customer_no(id: i64) -> String {
    (8_000_000_000 + id).to_string()
}

fn fund_account_no(id_part: &str) -> String {
    format!("3188{id_part}")
}

/// The row-id part of a customer number (its last eight digits).
fn serial(no: &str) -> &str {
    &no[no.len().saturating_sub(8)..]
}

fn state_error(message: impl Into<String>) -> Failure {
    Failure::business("E_STATE", message)
}

/// An integer that may come as a JSON number or as digits in a string (templates render
/// numbers either way).
fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    use serde::de::Error;
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| D::Error::custom("expected a whole number")),
        Value::String(s) if s.len() <= 10 => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom("expected a whole number")),
        _ => Err(D::Error::custom("expected a whole number")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCustomer {
    name: String,
    id_number: String,
    phone: String,
}

async fn create(State(s): State<AppState>, Body(req): Body<NewCustomer>) -> Result<Done, Failure> {
    text("name", &req.name, 40)?;
    text("id_number", &req.id_number, 32)?;
    text("phone", &req.phone, 20)?;
    let id_number = req.id_number.trim().to_ascii_uppercase();
    let name = req.name.trim().to_string();
    let phone = req.phone.trim().to_string();
    rules::check_name(&name)?;
    rules::check_phone(&phone)?;
    let tz = s.desk.settings.calendar.tz();
    s.desk
        .store
        .write(move |ctx| {
            let today = ctx.now.with_timezone(&tz).date_naive();
            let born = rules::check_id_number(&id_number, today)?;
            if store::customers_made(ctx.conn)? >= MAX_CUSTOMERS {
                return Err(Failure::business(
                    "E_LIMIT",
                    format!("沙箱客户数已达上限（{MAX_CUSTOMERS}），不能再新建客户"),
                ));
            }
            if store::id_number_taken(ctx.conn, &id_number)? {
                return Err(Failure::business(
                    "E_DUPLICATE",
                    "该证件号码已有客户记录，不能重复开户",
                ));
            }
            let created_at = crate::store::ts(ctx.now);
            let row = store::insert_customer(
                ctx.conn,
                &id_number,
                customer_no,
                |_, no| {
                    let c = Customer {
                        customer_no: no.to_string(),
                        name,
                        id_number: id_number.clone(),
                        born: Some(born),
                        phone,
                        created_at: created_at.clone(),
                        status: "opening".into(),
                        ..Customer::default()
                    };
                    serde_json::to_string(&c)
                        .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))
                },
                ctx.now,
            )?;
            Ok(Done(json!({
                "customer_no": row.customer_no,
                "status": "opening",
                "created_at": created_at,
            })))
        })
        .await
}

async fn read(State(s): State<AppState>, Path(no): Path<String>) -> Result<Done, Failure> {
    look(&s, Find::Customer(no), |c| {
        Ok(json!({
            "customer_no": c.customer_no,
            "name": c.name,
            "id_number": IdNumber::new(&c.id_number).masked(),
            "phone": Phone::new(&c.phone).masked(),
            "status": c.status,
            "identity_verified": c.identity_verified,
            "risk_level": c.confirmed_level(),
            "experience_years": c.experience_years,
            "fund_account": c.fund_account,
            "activated_at": c.activated_at,
            "archive_no": c.archive_no,
            "missing": c.missing_for_activation(),
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    name: String,
    id_number: String,
}

async fn verify_identity(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Identity>,
) -> Result<Done, Failure> {
    text("name", &req.name, 40)?;
    text("id_number", &req.id_number, 32)?;
    change(&s, Find::Customer(no), move |c, _| {
        let same =
            c.name == req.name.trim() && c.id_number.eq_ignore_ascii_case(req.id_number.trim());
        if !same {
            return Err(Failure::business(
                "E_IDENTITY",
                "身份核验未通过：姓名与证件号码不一致",
            ));
        }
        c.identity_verified = true;
        Ok(json!({ "verified": true }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    side: String,
    file_name: String,
    size: u64,
}

/// A photo's name and size as the sandbox records them (it keeps no file).
fn check_photo(file_name: &str, size: u64) -> Result<(), Failure> {
    text("file_name", file_name, 100)?;
    let lower = file_name.to_ascii_lowercase();
    if ![".jpg", ".jpeg", ".png"].iter().any(|e| lower.ends_with(e)) {
        return Err(Failure::business("E_IMAGE", "照片须为 JPG 或 PNG 格式"));
    }
    if size == 0 || size > MAX_IMAGE_BYTES {
        return Err(Failure::business(
            "E_IMAGE",
            "照片大小须在 1 字节到 10 MB 之间",
        ));
    }
    Ok(())
}

async fn id_image(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Image>,
) -> Result<Done, Failure> {
    one_of("side", &req.side, &["front", "back"])?;
    check_photo(&req.file_name, req.size)?;
    change(&s, Find::Customer(no), move |c, now| {
        let tag = if req.side == "front" { "F" } else { "B" };
        let image_id = format!("IMG{}{tag}", c.customer_no);
        c.id_images.insert(
            req.side.clone(),
            Upload {
                image_id: image_id.clone(),
                file_name: req.file_name,
                size: req.size,
                uploaded_at: now.stamp(),
            },
        );
        Ok(json!({ "image_id": image_id, "side": req.side }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LivePhoto {
    file_name: String,
    size: u64,
}

async fn face_compare(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<LivePhoto>,
) -> Result<Done, Failure> {
    check_photo(&req.file_name, req.size)?;
    change(&s, Find::Customer(no), move |c, _| {
        if !c.identity_verified || !c.id_images.contains_key("front") {
            return Err(state_error("人脸比对前须完成身份核验并上传身份证人像面"));
        }
        // The same customer always scores the same, between 0.90 and 0.98.
        let spread = c.id_number.bytes().map(u64::from).sum::<u64>() % 9;
        let similarity = 0.90 + spread as f64 / 100.0;
        c.face = Some(Face {
            similarity,
            passed: true,
        });
        Ok(json!({ "similarity": similarity, "threshold": 0.8, "passed": true }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactReq {
    phone: String,
    #[serde(default)]
    email: Option<String>,
    address: String,
    #[serde(default)]
    postcode: Option<String>,
}

async fn contact(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<ContactReq>,
) -> Result<Done, Failure> {
    text("phone", &req.phone, 20)?;
    text("address", &req.address, 100)?;
    optional_text("email", req.email.as_deref(), 100)?;
    optional_text("postcode", req.postcode.as_deref(), 6)?;
    rules::check_phone(&req.phone)?;
    if let Some(e) = &req.email
        && !(e.contains('@') && !e.starts_with('@') && !e.ends_with('@') && !e.contains(' '))
    {
        return Err(Failure::business("E_EMAIL", "电子邮箱格式不正确"));
    }
    if let Some(p) = &req.postcode
        && !(p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Failure::business("E_POSTCODE", "邮政编码须为 6 位数字"));
    }
    change(&s, Find::Customer(no), move |c, _| {
        c.contact = Some(Contact {
            phone: req.phone,
            email: req.email,
            address: req.address,
            postcode: req.postcode,
        });
        Ok(json!({ "saved": true }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileReq {
    occupation: String,
    education: String,
}

async fn profile(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<ProfileReq>,
) -> Result<Done, Failure> {
    one_of("occupation", &req.occupation, OCCUPATIONS)?;
    one_of("education", &req.education, EDUCATIONS)?;
    change(&s, Find::Customer(no), move |c, _| {
        c.profile = Some(Profile {
            occupation: req.occupation.clone(),
            education: req.education.clone(),
        });
        Ok(json!({ "occupation": req.occupation, "education": req.education }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxReq {
    kind: String,
    #[serde(default)]
    tin: Option<String>,
}

async fn tax_residency(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<TaxReq>,
) -> Result<Done, Failure> {
    one_of("kind", &req.kind, TAX_KINDS)?;
    optional_text("tin", req.tin.as_deref(), 40)?;
    if req.kind != "cn_only" && req.tin.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(Failure::business(
            "E_TAX",
            "非仅为中国税收居民的客户须提供纳税人识别号（tin）",
        ));
    }
    change(&s, Find::Customer(no), move |c, _| {
        c.tax_residency = Some(TaxResidency {
            kind: req.kind.clone(),
            tin: req.tin,
        });
        Ok(json!({ "kind": req.kind }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclarationReq {
    is_self: bool,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id_number: Option<String>,
}

/// A beneficial owner or actual controller: the customer, or another adult named in full.
async fn declare(
    s: AppState,
    no: String,
    req: DeclarationReq,
    what: &'static str,
    slot: fn(&mut Customer) -> &mut Option<Declaration>,
) -> Result<Done, Failure> {
    optional_text("name", req.name.as_deref(), 40)?;
    optional_text("id_number", req.id_number.as_deref(), 32)?;
    let other = if req.is_self {
        None
    } else {
        let (Some(name), Some(id)) = (req.name.as_deref(), req.id_number.as_deref()) else {
            return Err(Failure::business(
                "E_DECLARATION",
                format!("{what}不是本人时须提供其姓名和证件号码"),
            ));
        };
        rules::check_name(name)?;
        if !crate::domain::validate::is_id_number(id) {
            return Err(Failure::business(
                "E_DECLARATION",
                format!("{what}的证件号码校验失败"),
            ));
        }
        Some((name.to_string(), id.to_ascii_uppercase()))
    };
    change(&s, Find::Customer(no), move |c, _| {
        let (name, id_number) = other.unwrap_or_else(|| (c.name.clone(), c.id_number.clone()));
        *slot(c) = Some(Declaration {
            is_self: req.is_self,
            name,
            id_number,
        });
        Ok(json!({ "is_self": req.is_self }))
    })
    .await
}

async fn beneficial_owner(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<DeclarationReq>,
) -> Result<Done, Failure> {
    declare(s, no, req, "受益所有人", |c| &mut c.beneficial_owner).await
}

async fn actual_controller(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<DeclarationReq>,
) -> Result<Done, Failure> {
    declare(s, no, req, "实际控制人", |c| &mut c.actual_controller).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

async fn credit_check(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Done, Failure> {
    change(&s, Find::Customer(no), |c, now| {
        let record = c.credit_check.get_or_insert_with(|| Screening {
            result: "clean".into(),
            at: now.stamp(),
        });
        Ok(json!({ "result": record.result, "detail": "未发现不良诚信记录", "checked_at": record.at }))
    })
    .await
}

async fn aml_screening(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Done, Failure> {
    change(&s, Find::Customer(no), |c, now| {
        let record = c.aml_screening.get_or_insert_with(|| Screening {
            result: "low".into(),
            at: now.stamp(),
        });
        Ok(json!({ "hit": false, "rating": record.result, "screened_at": record.at }))
    })
    .await
}

async fn questionnaire() -> Done {
    let questions: Vec<Value> = QUESTIONS
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let options: Vec<Value> = q
                .options
                .iter()
                .zip(["A", "B", "C", "D", "E"])
                .zip(1..)
                .map(|((text, key), score)| json!({ "key": key, "text": text, "score": score }))
                .collect();
            json!({ "no": i + 1, "text": q.text, "options": options })
        })
        .collect();
    let bands: Vec<Value> = [(10, 17), (18, 25), (26, 33), (34, 41), (42, 50)]
        .into_iter()
        .zip(RiskLevel::ALL)
        .map(|((min, max), l)| json!({ "level": l, "name": l.name_zh(), "min": min, "max": max }))
        .collect();
    Done(json!({ "version": "2025-01", "questions": questions, "levels": bands }))
}

/// Answers as ten letters in one string (`"CCCCCCCCCC"`) or as a list of letters.
#[derive(Deserialize)]
#[serde(untagged)]
enum Answers {
    Text(String),
    List(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assessment {
    answers: Answers,
}

async fn risk_assessment(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Assessment>,
) -> Result<Done, Failure> {
    let answers: Vec<String> = match req.answers {
        Answers::Text(t) => {
            optional_text("answers", Some(&t), 20)?;
            t.chars().map(String::from).collect()
        }
        Answers::List(l) => {
            if l.len() > 20 || l.iter().any(|a| a.chars().count() > 2) {
                return Err(Failure::bad_request("字段 answers 过长"));
            }
            l.into_iter().map(|a| a.trim().to_string()).collect()
        }
    };
    let (score, level) = rules::score_answers(&answers)?;
    change(&s, Find::Customer(no), move |c, now| {
        // The same answers again keep a confirmation; different ones need it again.
        let confirmed = c
            .risk
            .as_ref()
            .is_some_and(|r| r.confirmed && r.answers == answers);
        if !confirmed {
            c.suitability_confirmed = false;
        }
        c.risk = Some(Risk {
            answers,
            score,
            level,
            confirmed,
        });
        Ok(json!({
            "score": score,
            "risk_level": level,
            "risk_level_name": level.name_zh(),
            "confirmed": confirmed,
            "assessed_at": now.stamp(),
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirm {
    level: String,
}

async fn risk_confirm(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Confirm>,
) -> Result<Done, Failure> {
    optional_text("level", Some(&req.level), 4)?;
    let Some(level) = RiskLevel::parse(req.level.trim()) else {
        return Err(Failure::bad_request("字段 level 取值无效（可选：C1–C5）"));
    };
    change(&s, Find::Customer(no), move |c, _| {
        let Some(risk) = c.risk.as_mut() else {
            return Err(state_error("请先提交风险测评问卷"));
        };
        if risk.level != level {
            return Err(Failure::business(
                "E_RISK_MISMATCH",
                format!(
                    "确认的风险等级 {level} 与测评结果不符（测评结果 {} {}）",
                    risk.level,
                    risk.level.name_zh()
                ),
            ));
        }
        risk.confirmed = true;
        Ok(json!({ "risk_level": level, "risk_level_name": level.name_zh(), "confirmed": true }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Experience {
    #[serde(deserialize_with = "lenient_u32")]
    years: u32,
}

async fn experience(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Experience>,
) -> Result<Done, Failure> {
    if req.years > 80 {
        return Err(Failure::bad_request("字段 years 须在 0–80 之间"));
    }
    change(&s, Find::Customer(no), move |c, now| {
        let age = c.born.map_or(0, |b| rules::age_on(b, now.today));
        if i64::from(req.years) > i64::from(age) - i64::from(rules::ADULT_AGE) + 2 {
            return Err(Failure::business(
                "E_EXPERIENCE",
                format!("投资经验 {} 年与客户年龄（{age} 岁）不符", req.years),
            ));
        }
        c.experience_years = Some(req.years);
        Ok(json!({ "years": req.years }))
    })
    .await
}

async fn suitability(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Done, Failure> {
    change(&s, Find::Customer(no), |c, _| {
        let Some(level) = c.confirmed_level() else {
            return Err(state_error("适当性匹配前须完成风险测评确认"));
        };
        if c.experience_years.is_none() {
            return Err(state_error("适当性匹配前须登记投资经验"));
        }
        c.suitability_confirmed = true;
        Ok(json!({
            "risk_level": level,
            "products": level.products(),
            "confirmed": true,
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Agreement {
    kind: String,
}

async fn sign_agreement(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Agreement>,
) -> Result<Done, Failure> {
    let kinds: Vec<&str> = OPENING_AGREEMENTS.iter().map(|(k, _)| *k).collect();
    one_of("kind", &req.kind, &kinds)?;
    change(&s, Find::Customer(no), move |c, now| {
        let name = OPENING_AGREEMENTS
            .iter()
            .find(|(k, _)| *k == req.kind)
            .map_or("", |(_, n)| *n);
        let signed_at = c
            .agreements
            .entry(req.kind.clone())
            .or_insert_with(|| now.stamp())
            .clone();
        Ok(json!({ "kind": req.kind, "name": name, "signed_at": signed_at }))
    })
    .await
}

async fn open_fund_account(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Done, Failure> {
    change(&s, Find::Customer(no), |c, _| {
        let missing = c.missing_for_fund_account();
        if !missing.is_empty() {
            return Err(Failure::Business {
                code: "E_STATE",
                message: format!("开立资金账户前须完成：{}", missing.join("、")),
                data: Some(json!({ "missing": missing })),
            });
        }
        let fund_account = c
            .fund_account
            .get_or_insert_with(|| fund_account_no(serial(&c.customer_no)))
            .clone();
        Ok(json!({ "fund_account": fund_account, "currency": "CNY" }))
    })
    .await
}

async fn fund_account(State(s): State<AppState>, Path(no): Path<String>) -> Result<Done, Failure> {
    look(&s, Find::Customer(no), |c| {
        let Some(fa) = &c.fund_account else {
            return Err(state_error("尚未开立资金账户"));
        };
        Ok(json!({
            "fund_account": fa,
            "currency": "CNY",
            "status": c.status,
            "available": rules::format_amount(c.available_cents),
            "withdrawable": rules::format_amount(c.withdrawable_cents),
            "trade_password_set": c.trade_password.is_some(),
            "fund_password_set": c.fund_password.is_some(),
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Password {
    password: String,
}

async fn set_password(
    s: AppState,
    no: String,
    req: Password,
    what: &'static str,
    slot: fn(&mut Customer) -> &mut Option<String>,
) -> Result<Done, Failure> {
    optional_text("password", Some(&req.password), 12)?;
    rules::check_password(what, &req.password)?;
    let hash = crate::store::secret_hash(&req.password);
    change(&s, Find::Customer(no), move |c, _| {
        if c.fund_account.is_none() {
            return Err(state_error(format!("设置{what}前须开立资金账户")));
        }
        *slot(c) = Some(hash);
        Ok(json!({ "set": true }))
    })
    .await
}

async fn trade_password(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Password>,
) -> Result<Done, Failure> {
    set_password(s, no, req, "交易密码", |c| &mut c.trade_password).await
}

async fn fund_password(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Password>,
) -> Result<Done, Failure> {
    set_password(s, no, req, "资金密码", |c| &mut c.fund_password).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Market {
    market: String,
}

fn card_for(market: &str, no: &str) -> String {
    let serial = serial(no);
    if market == "SH" {
        format!("A8{serial}")
    } else {
        format!("08{serial}")
    }
}

async fn open_card(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Market>,
) -> Result<Done, Failure> {
    let markets: Vec<&str> = MARKETS.iter().map(|(m, _)| *m).collect();
    one_of("market", &req.market, &markets)?;
    change(&s, Find::Customer(no), move |c, _| {
        if c.fund_account.is_none() {
            return Err(state_error("开立股东卡前须开立资金账户"));
        }
        let card = card_for(&req.market, &c.customer_no);
        let card = c.cards.entry(req.market.clone()).or_insert(card).clone();
        Ok(json!({ "market": req.market, "card_no": card }))
    })
    .await
}

async fn cards(State(s): State<AppState>, Path(no): Path<String>) -> Result<Done, Failure> {
    look(&s, Find::Customer(no), |c| {
        let cards: Vec<Value> = MARKETS
            .iter()
            .filter_map(|(m, name)| {
                c.cards.get(*m).map(|card| {
                    json!({
                        "market": m,
                        "name": name,
                        "card_no": card,
                        "designated": *m == "SH" && c.sh_designated,
                    })
                })
            })
            .collect();
        Ok(json!({ "cards": cards }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Designation {
    card_no: String,
}

async fn designate(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Designation>,
) -> Result<Done, Failure> {
    text("card_no", &req.card_no, 20)?;
    change(&s, Find::Customer(no), move |c, _| {
        let Some(sh) = c.cards.get("SH") else {
            return Err(state_error("指定交易前须开立上海 A 股股东卡"));
        };
        if *sh != req.card_no.trim() {
            return Err(Failure::business(
                "E_CARD_MISMATCH",
                "该股东卡不是客户的上海 A 股股东卡",
            ));
        }
        let card = sh.clone();
        c.sh_designated = true;
        Ok(json!({ "card_no": card, "designated": true, "seat": "38888" }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessReq {
    witness: String,
    #[serde(deserialize_with = "lenient_u32")]
    duration_secs: u32,
}

async fn video_witness(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<WitnessReq>,
) -> Result<Done, Failure> {
    text("witness", &req.witness, 20)?;
    if !(1..=7200).contains(&req.duration_secs) {
        return Err(Failure::bad_request("字段 duration_secs 须在 1–7200 之间"));
    }
    change(&s, Find::Customer(no), move |c, _| {
        if !c.face.as_ref().is_some_and(|f| f.passed) {
            return Err(state_error("视频见证前须通过人脸比对"));
        }
        let witness_id = format!("VW{}", c.customer_no);
        c.video_witness = Some(Witness {
            witness_id: witness_id.clone(),
            witness: req.witness,
            duration_secs: req.duration_secs,
        });
        Ok(json!({ "witness_id": witness_id }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewReq {
    reviewer: String,
    result: String,
    #[serde(default)]
    remark: Option<String>,
}

async fn review(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<ReviewReq>,
) -> Result<Done, Failure> {
    text("reviewer", &req.reviewer, 20)?;
    one_of("result", &req.result, &["approved", "rejected"])?;
    optional_text("remark", req.remark.as_deref(), 200)?;
    change(&s, Find::Customer(no), move |c, _| {
        if c.video_witness.is_none() {
            return Err(state_error("复核前须完成视频见证"));
        }
        let approved = req.result == "approved";
        c.review = Some(Review {
            reviewer: req.reviewer,
            approved,
            remark: req.remark,
        });
        Ok(json!({ "result": req.result }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Visit {
    channel: String,
    satisfied: bool,
}

async fn return_visit(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Visit>,
) -> Result<Done, Failure> {
    one_of("channel", &req.channel, VISIT_CHANNELS)?;
    change(&s, Find::Customer(no), move |c, _| {
        if !c.review.as_ref().is_some_and(|r| r.approved) {
            return Err(state_error("回访前须复核通过"));
        }
        c.return_visit = Some(ReturnVisit {
            channel: req.channel.clone(),
            satisfied: req.satisfied,
        });
        Ok(json!({ "channel": req.channel, "satisfied": req.satisfied }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    template: String,
}

async fn commission(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Template>,
) -> Result<Done, Failure> {
    one_of("template", &req.template, COMMISSION_TEMPLATES)?;
    change(&s, Find::Customer(no), move |c, _| {
        c.commission_template = Some(req.template.clone());
        Ok(json!({ "template": req.template }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manager {
    manager_no: String,
}

async fn manager(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(req): Body<Manager>,
) -> Result<Done, Failure> {
    text("manager_no", &req.manager_no, 16)?;
    let m = req.manager_no.trim();
    let known = m.starts_with('M')
        && (5..=9).contains(&m.len())
        && m[1..].bytes().all(|b| b.is_ascii_digit());
    if !known {
        return Err(Failure::business(
            "E_MANAGER",
            "客户经理编号不存在（沙箱中为 M 加 4–8 位数字）",
        ));
    }
    let m = m.to_string();
    change(&s, Find::Customer(no), move |c, _| {
        c.customer_manager = Some(m.clone());
        Ok(json!({ "manager_no": m }))
    })
    .await
}

async fn activate(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Done, Failure> {
    change(&s, Find::Customer(no), |c, now| {
        let missing = c.missing_for_activation();
        if !missing.is_empty() {
            return Err(Failure::Business {
                code: "E_PREREQUISITE",
                message: format!("客户尚不能激活，缺少：{}", missing.join("、")),
                data: Some(json!({ "missing": missing })),
            });
        }
        let at = c.activated_at.get_or_insert_with(|| now.stamp()).clone();
        c.status = "active".into();
        Ok(json!({ "status": "active", "activated_at": at }))
    })
    .await
}

async fn archive(
    State(s): State<AppState>,
    Path(no): Path<String>,
    Body(Nothing {}): Body<Nothing>,
) -> Result<Done, Failure> {
    change(&s, Find::Customer(no), |c, _: &Now<'_>| {
        if !c.is_active() {
            return Err(state_error("客户未激活，开户资料不能归档"));
        }
        let archive_no = c
            .archive_no
            .get_or_insert_with(|| format!("AR{}", c.customer_no))
            .clone();
        Ok(json!({ "archive_no": archive_no }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_row() {
        let no = customer_no(42);
        assert_eq!(no, "8000000042");
        assert_eq!(fund_account_no(serial(&no)), "318800000042");
        assert_eq!(card_for("SH", &no), "A800000042");
        assert_eq!(card_for("SZ", &no), "0800000042");
    }
}
