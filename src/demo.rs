//! `meridian seed-demo`: a believable programme (institutions, cohorts,
//! trainees, incubators, ventures, agreements, exchanges) to explore a fresh
//! installation with. Idempotent: a second run finds it and does nothing.
//! Written straight to the tables, so it sends no email.

use chrono::{Duration, NaiveDate, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{
    auth::{secret, Role},
    schema::{
        certificates, cohorts, enrollments, exchange_agreements, exchanges, incubators,
        institutions, programs, resources, trainees, users, ventures,
    },
};

const MARKER: &str = "DEMO-AGRI";

/// (name, short name, kind, country, city)
const INSTITUTIONS: &[(&str, &str, &str, &str, &str)] = &[
    ("Zhejiang University", "ZJU", "university", "CN", "Hangzhou"),
    ("Tsinghua University", "THU", "university", "CN", "Beijing"),
    (
        "Shenzhen AI Venture Hub",
        "SZAVH",
        "incubator_operator",
        "CN",
        "Shenzhen",
    ),
    (
        "University of Nairobi",
        "UoN",
        "university",
        "KE",
        "Nairobi",
    ),
    ("University of Lagos", "UNILAG", "university", "NG", "Lagos"),
    ("University of Ghana", "UG", "university", "GH", "Accra"),
    (
        "Addis Ababa University",
        "AAU",
        "university",
        "ET",
        "Addis Ababa",
    ),
    ("University of Rwanda", "UR", "university", "RW", "Kigali"),
    (
        "Universite Cheikh Anta Diop",
        "UCAD",
        "university",
        "SN",
        "Dakar",
    ),
    ("Cairo University", "CU", "university", "EG", "Giza"),
    (
        "National University of Sciences and Technology",
        "NUST",
        "university",
        "PK",
        "Islamabad",
    ),
    ("Universitas Indonesia", "UI", "university", "ID", "Depok"),
    (
        "Bangladesh University of Engineering and Technology",
        "BUET",
        "university",
        "BD",
        "Dhaka",
    ),
    (
        "Universidade de Sao Paulo",
        "USP",
        "university",
        "BR",
        "Sao Paulo",
    ),
    (
        "Universidad Nacional de Colombia",
        "UNAL",
        "university",
        "CO",
        "Bogota",
    ),
    (
        "Pontificia Universidad Catolica del Peru",
        "PUCP",
        "university",
        "PE",
        "Lima",
    ),
    (
        "Kenya Agricultural and Livestock Research Organization",
        "KALRO",
        "research_institute",
        "KE",
        "Nairobi",
    ),
    (
        "Rwanda Information Society Authority",
        "RISA",
        "government",
        "RW",
        "Kigali",
    ),
];

/// (code, title, theme, lead index)
const PROGRAMMES: &[(&str, &str, &str, usize)] = &[
    (MARKER, "AI for Agriculture", "agriculture", 0),
    ("DEMO-ENERGY", "AI for Energy Systems", "energy", 1),
    ("DEMO-HEALTH", "AI for Public Health", "health", 1),
    (
        "DEMO-DISASTER",
        "AI for Disaster Response",
        "disaster_response",
        0,
    ),
];

const GIVEN: &[&str] = &[
    "Amina", "Kwame", "Fatou", "Tesfaye", "Aline", "Chinedu", "Nadia", "Joao", "Valeria", "Rahim",
    "Siti", "Diego", "Grace", "Moussa", "Layla", "Kofi", "Thandiwe", "Arif", "Mariana", "Yohannes",
];
const FAMILY: &[&str] = &[
    "Diallo",
    "Mensah",
    "Ndiaye",
    "Bekele",
    "Uwase",
    "Okafor",
    "Hassan",
    "Silva",
    "Mora",
    "Karim",
    "Rahmawati",
    "Solano",
    "Achieng",
    "Traore",
    "Farouk",
    "Boateng",
    "Mokoena",
    "Hussain",
    "Quispe",
    "Girma",
];

/// A small deterministic generator, so every run makes the same data.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Creates the demo data set unless it is there; returns whether it did.
pub async fn seed(url: &str) -> anyhow::Result<bool> {
    let mut conn = crate::db::connect(url).await?;
    let present: Option<Uuid> = programs::table
        .filter(programs::code.eq(MARKER))
        .select(programs::id)
        .first(&mut conn)
        .await
        .optional()?;
    if present.is_some() {
        return Ok(false);
    }
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        let mut dice = Dice(2027);
        let mut inst_ids = Vec::new();
        for (name, short, kind, country, city) in INSTITUTIONS {
            let id = Uuid::now_v7();
            diesel::insert_into(institutions::table)
                .values((
                    institutions::id.eq(id),
                    institutions::name.eq(name),
                    institutions::short_name.eq(short),
                    institutions::kind.eq(kind),
                    institutions::country_code.eq(country),
                    institutions::city.eq(city),
                ))
                .execute(conn)
                .await?;
            inst_ids.push((id, *country));
        }
        let coordinator = Uuid::now_v7();
        diesel::insert_into(users::table)
            .values((
                users::id.eq(coordinator),
                users::email.eq("coordinator@demo.meridian.example"),
                users::full_name.eq("Demo Programme Coordinator"),
                users::role.eq(<&str>::from(Role::Coordinator)),
            ))
            .execute(conn)
            .await?;

        // Trainees of the partner institutions (not the Chinese hosts).
        let partners: Vec<(Uuid, &str)> = inst_ids.iter().skip(3).copied().collect();
        let mut people: Vec<(Uuid, Uuid)> = Vec::new();
        for n in 0..320 {
            let (inst, country) = partners[n % partners.len()];
            let id = Uuid::now_v7();
            let given = GIVEN[dice.roll(GIVEN.len())];
            let family = FAMILY[dice.roll(FAMILY.len())];
            let gender = [
                "female",
                "male",
                "female",
                "male",
                "non_binary",
                "undisclosed",
            ][dice.roll(6)];
            diesel::insert_into(trainees::table)
                .values((
                    trainees::id.eq(id),
                    trainees::institution_id.eq(inst),
                    trainees::given_name.eq(given),
                    trainees::family_name.eq(family),
                    trainees::email.eq(format!(
                        "{}.{}.{n}@demo.meridian.example",
                        given.to_lowercase(),
                        family.to_lowercase()
                    )),
                    trainees::nationality.eq(country),
                    trainees::gender.eq(gender),
                    trainees::birth_year.eq(1985 + dice.roll(17) as i32),
                    trainees::locale.eq(["en", "fr", "ar", "es", "pt", "en"][dice.roll(6)]),
                ))
                .execute(conn)
                .await?;
            people.push((id, inst));
        }

        let today = Utc::now().date_naive();
        let states = [
            "completed",
            "running",
            "closed",
            "open",
            "draft",
            "cancelled",
        ];
        let mut next_person = 0;
        for (p, (code, title, theme, lead)) in PROGRAMMES.iter().enumerate() {
            let program_id = Uuid::now_v7();
            diesel::insert_into(programs::table)
                .values((
                    programs::id.eq(program_id),
                    programs::code.eq(code),
                    programs::title.eq(title),
                    programs::theme.eq(theme),
                    programs::lead_institution_id.eq(inst_ids[*lead].0),
                    programs::starts_on.eq(today - Duration::days(200)),
                    programs::ends_on.eq(today + Duration::days(400)),
                    programs::status.eq("active"),
                ))
                .execute(conn)
                .await?;
            for (c, state) in states.iter().enumerate() {
                // Completed cohorts lie in the past, open and draft ones ahead.
                let offset = (c as i64 - 1) * 45;
                let starts: NaiveDate = today + Duration::days(offset);
                let cohort_id = Uuid::now_v7();
                let host = inst_ids[(p + c) % 3].0;
                let capacity = 20 + 5 * (c as i32 % 3);
                diesel::insert_into(cohorts::table)
                    .values((
                        cohorts::id.eq(cohort_id),
                        cohorts::program_id.eq(program_id),
                        cohorts::code.eq(format!("{code}-C{}", c + 1)),
                        cohorts::title.eq(format!("{title}: cohort {}", c + 1)),
                        cohorts::host_institution_id.eq(host),
                        cohorts::delivery.eq(["hybrid", "onsite", "online"][c % 3]),
                        cohorts::country_code.eq(Some("CN")),
                        cohorts::city.eq(Some(["Hangzhou", "Beijing", "Shenzhen"][(p + c) % 3])),
                        cohorts::languages.eq(vec!["en".to_string(), "zh".to_string()]),
                        cohorts::starts_on.eq(starts),
                        cohorts::ends_on.eq(starts + Duration::days(42)),
                        cohorts::nominations_open_at.eq(Utc::now() + Duration::days(offset - 60)),
                        cohorts::nominations_close_at.eq(Utc::now() + Duration::days(offset - 10)),
                        cohorts::capacity.eq(capacity),
                        cohorts::max_per_institution.eq(Some(4)),
                        cohorts::status.eq(state),
                        cohorts::coordinator_id.eq(Some(coordinator)),
                    ))
                    .execute(conn)
                    .await?;
                if matches!(*state, "draft" | "cancelled") {
                    continue;
                }
                for k in 0..18 {
                    let (trainee, inst) = people[next_person % people.len()];
                    next_person += 1;
                    let status = match (*state, k) {
                        ("completed", k) if k % 6 == 5 => "not_completed",
                        ("completed", _) => "completed",
                        ("running", _) => "accepted",
                        (_, k) if k < 10 => "accepted",
                        (_, k) if k < 13 => "waitlisted",
                        ("open", _) => "nominated",
                        _ => "rejected",
                    };
                    let enrollment = Uuid::now_v7();
                    diesel::insert_into(enrollments::table)
                        .values((
                            enrollments::id.eq(enrollment),
                            enrollments::cohort_id.eq(cohort_id),
                            enrollments::trainee_id.eq(trainee),
                            enrollments::institution_id.eq(inst),
                            enrollments::status.eq(status),
                            enrollments::nominated_by.eq(coordinator),
                            enrollments::motivation
                                .eq("Wants to bring machine learning to local problems."),
                        ))
                        .execute(conn)
                        .await?;
                    if status == "completed" {
                        diesel::insert_into(certificates::table)
                            .values((
                                certificates::id.eq(Uuid::now_v7()),
                                certificates::enrollment_id.eq(enrollment),
                                certificates::code.eq(&secret::generate().0[..22]),
                            ))
                            .execute(conn)
                            .await?;
                    }
                }
            }
        }
        seed_ventures_and_exchanges(conn, &inst_ids, &people, coordinator, &mut dice).await?;
        seed_catalogue(conn, &inst_ids).await?;
        Ok(())
    })
    .await?;
    Ok(true)
}

/// Shared resources: title, kind, licence, owner (an index of
/// `INSTITUTIONS`), visibility, status.
const RESOURCES: &[(&str, &str, &str, usize, &str, &str)] = &[
    (
        "Machine learning for crop disease",
        "course",
        "CC-BY-4.0",
        0,
        "public",
        "published",
    ),
    (
        "AI curriculum for polytechnics",
        "curriculum",
        "CC-BY-SA-4.0",
        1,
        "public",
        "published",
    ),
    (
        "East African maize leaf images",
        "dataset",
        "CC-BY-4.0",
        3,
        "public",
        "published",
    ),
    (
        "Swahili speech recognition model",
        "model",
        "Apache-2.0",
        3,
        "partners",
        "published",
    ),
    (
        "Flood forecasting toolkit",
        "toolkit",
        "MIT",
        1,
        "public",
        "published",
    ),
    (
        "Solar micro-grid load data",
        "dataset",
        "CC-BY-NC-4.0",
        4,
        "partners",
        "published",
    ),
    (
        "Clinical triage with small models",
        "paper",
        "CC-BY-4.0",
        0,
        "public",
        "withdrawn",
    ),
    (
        "Responsible AI in public services",
        "course",
        "CC-BY-4.0",
        2,
        "partners",
        "draft",
    ),
];

/// The catalogue, linked to the cohorts that have run or are running and
/// to some ventures.
async fn seed_catalogue(
    conn: &mut AsyncPgConnection,
    inst_ids: &[(Uuid, &str)],
) -> anyhow::Result<()> {
    for (n, (title, kind, licence, owner, visibility, status)) in RESOURCES.iter().enumerate() {
        diesel::insert_into(resources::table)
            .values((
                resources::id.eq(Uuid::now_v7()),
                resources::title.eq(title),
                resources::kind.eq(kind),
                resources::url.eq(format!("https://open.meridian.example/resources/{n}")),
                resources::languages.eq(vec!["en".to_string()]),
                resources::themes.eq(vec![
                    ["agriculture", "education", "energy"][n % 3].to_string()
                ]),
                resources::licence.eq(licence),
                resources::ip_terms.eq(["attribution", "open", "non_commercial"][n % 3]),
                resources::owner_institution_id.eq(inst_ids[*owner % inst_ids.len()].0),
                resources::visibility.eq(visibility),
                resources::status.eq(status),
            ))
            .execute(conn)
            .await?;
    }
    // Every other pair, by a hash of the two ids, so the links look chosen.
    diesel::sql_query(
        "INSERT INTO cohort_resources (cohort_id, resource_id) \
         SELECT c.id, r.id FROM cohorts c CROSS JOIN resources r \
         WHERE c.status IN ('running', 'completed') AND r.status <> 'draft' \
           AND abs(hashtext(c.id::text || r.id::text)) % 2 = 0",
    )
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO venture_resources (venture_id, resource_id) \
         SELECT v.id, r.id FROM ventures v CROSS JOIN resources r \
         WHERE r.status = 'published' AND r.kind IN ('dataset', 'model', 'toolkit') \
           AND abs(hashtext(v.id::text || r.id::text)) % 3 = 0",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Incubators with ventures in every state, agreements, exchanges.
async fn seed_ventures_and_exchanges(
    conn: &mut AsyncPgConnection,
    inst_ids: &[(Uuid, &str)],
    people: &[(Uuid, Uuid)],
    coordinator: Uuid,
    dice: &mut Dice,
) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let hubs = [
        ("Shenzhen AI Venture Hub", 2usize, "CN", "Shenzhen"),
        ("Hangzhou AgriTech Incubator", 0, "CN", "Hangzhou"),
        ("Nairobi AI Garage", 3, "KE", "Nairobi"),
    ];
    let states = [
        "applied",
        "admitted",
        "rejected",
        "incubating",
        "graduated",
        "exited",
        "closed",
    ];
    let mut n = 0usize;
    for (name, host, country, city) in hubs {
        let incubator = Uuid::now_v7();
        diesel::insert_into(incubators::table)
            .values((
                incubators::id.eq(incubator),
                incubators::name.eq(name),
                incubators::host_institution_id.eq(inst_ids[host].0),
                incubators::country_code.eq(country),
                incubators::city.eq(city),
                incubators::themes.eq(vec![
                    "agriculture".to_string(),
                    "energy".to_string(),
                    "health".to_string(),
                ]),
                incubators::capacity.eq(12),
                incubators::services.eq(vec![
                    "legal".to_string(),
                    "compute".to_string(),
                    "mentoring".to_string(),
                    "capital_matching".to_string(),
                ]),
            ))
            .execute(conn)
            .await?;
        for state in states {
            let founders = vec![
                people[n * 7 % people.len()].0,
                people[(n * 7 + 3) % people.len()].0,
            ];
            n += 1;
            let admitted = !matches!(state, "applied" | "rejected");
            diesel::insert_into(ventures::table)
                .values((
                    ventures::id.eq(Uuid::now_v7()),
                    ventures::incubator_id.eq(incubator),
                    ventures::name.eq(format!(
                        "{} {}",
                        [
                            "AgriSense",
                            "SolarGrid",
                            "MamaCare",
                            "FloodWatch",
                            "CropLens",
                            "GridSight",
                            "ClinicAI"
                        ][n % 7],
                        n
                    )),
                    ventures::theme.eq(["agriculture", "energy", "health"][n % 3]),
                    ventures::country_code.eq(["KE", "NG", "GH", "RW", "SN", "BR", "ID"][n % 7]),
                    ventures::founder_trainee_ids.eq(founders),
                    ventures::status.eq(state),
                    ventures::admitted_on.eq(admitted.then(|| today - Duration::days(300))),
                    ventures::graduated_on
                        .eq((state == "graduated").then(|| today - Duration::days(20))),
                    ventures::jobs_created.eq(if admitted {
                        3 + dice.roll(40) as i32
                    } else {
                        0
                    }),
                    ventures::funding_raised_usd.eq(bigdecimal::BigDecimal::from(if admitted {
                        5_000 * (1 + dice.roll(60) as i64)
                    } else {
                        0
                    })),
                ))
                .execute(conn)
                .await?;
        }
    }
    // Agreements between Chinese hosts and partners, and exchanges under them.
    let exchange_states = [
        "proposed",
        "approved",
        "rejected",
        "cancelled",
        "in_progress",
        "completed",
    ];
    for (k, (a, b)) in [(1usize, 3usize), (0, 5), (1, 8)].into_iter().enumerate() {
        let agreement = Uuid::now_v7();
        diesel::insert_into(exchange_agreements::table)
            .values((
                exchange_agreements::id.eq(agreement),
                exchange_agreements::institution_a_id.eq(inst_ids[a].0),
                exchange_agreements::institution_b_id.eq(inst_ids[b].0),
                exchange_agreements::title.eq(format!("AI talent exchange agreement {}", k + 1)),
                exchange_agreements::valid_from.eq(today - Duration::days(365)),
                exchange_agreements::valid_to.eq(today + Duration::days(3 * 365)),
                exchange_agreements::kinds.eq(vec![
                    "fellowship".to_string(),
                    "visiting_scholar".to_string(),
                    "internship".to_string(),
                ]),
                exchange_agreements::annual_quota.eq(10),
            ))
            .execute(conn)
            .await?;
        for (j, state) in exchange_states.iter().enumerate() {
            let trainee = people
                .iter()
                .find(|(_, inst)| *inst == inst_ids[b].0)
                .map(|(t, _)| *t)
                .unwrap_or(people[j].0);
            let starts = today + Duration::days(30 * j as i64 - 90);
            diesel::insert_into(exchanges::table)
                .values((
                    exchanges::id.eq(Uuid::now_v7()),
                    exchanges::kind.eq(["fellowship", "visiting_scholar", "internship"][j % 3]),
                    exchanges::trainee_id.eq(trainee),
                    exchanges::sending_institution_id.eq(inst_ids[b].0),
                    exchanges::receiving_institution_id.eq(inst_ids[a].0),
                    exchanges::agreement_id.eq(Some(agreement)),
                    exchanges::starts_on.eq(starts),
                    exchanges::ends_on.eq(starts + Duration::days(120)),
                    exchanges::funding_usd.eq(Some(bigdecimal::BigDecimal::from(
                        12_000 + 1_000 * j as i64,
                    ))),
                    exchanges::status.eq(state),
                    exchanges::proposed_by.eq(coordinator),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
