//! Email templates, compiled into the binary: `templates/email/<name>/<locale>/`
//! holds `subject.txt`, `body.txt` and `body.html`; HTML extends a shared
//! layout that is right-to-left for Arabic. Missing locales fall back to `en`.

use minijinja::{context, Environment, Value};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/email/"]
struct Files;

/// `{{ starts_on | date }}`: a `YYYY-MM-DD` date written as a reader of the
/// email's locale expects it, with the month names of the locale data
/// (`1 de marzo de 2027`, `2027年3月1日`). Cohort dates are the cohort's
/// own, in its time zone; anything else is left as it is.
fn local_date(state: &minijinja::State, value: String) -> String {
    use chrono::{Locale, NaiveDate};
    let Ok(date) = NaiveDate::parse_from_str(&value, "%Y-%m-%d") else {
        return value;
    };
    let locale = state.lookup("locale");
    let (pattern, locale) = match locale.as_ref().and_then(|l| l.as_str()) {
        Some("fr") => ("%-d %B %Y", Locale::fr_FR),
        Some("ar") => ("%-d %B %Y", Locale::ar_EG),
        Some("es") => ("%-d de %B de %Y", Locale::es_ES),
        Some("pt") => ("%-d de %B de %Y", Locale::pt_BR),
        Some("zh") => ("%Y年%-m月%-d日", Locale::zh_CN),
        _ => ("%-d %B %Y", Locale::en_GB),
    };
    date.format_localized(pattern, locale).to_string()
}

/// A rendered email, ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a template could not be rendered; never worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("no template named {0:?}")]
    Unknown(String),
    #[error("the subject may not contain line breaks")]
    HeaderInjection,
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
}

/// All templates, parsed once at start.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("date", local_date);
        for name in Files::iter() {
            let file = Files::get(&name).expect("listed file exists");
            let source = String::from_utf8_lossy(&file.data).into_owned();
            env.add_template_owned(name.into_owned(), source)
                .expect("email templates parse");
        }
        Templates { env }
    }

    /// Names of the templates there are.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Files::iter()
            .filter_map(|f| f.split_once('/').map(|(n, _)| n.to_string()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn locale_of(&self, template: &str, locale: &str) -> Option<&'static str> {
        ["en", "fr", "ar", "es", "pt", "zh"]
            .into_iter()
            .find(|l| *l == locale)
            .filter(|l| {
                self.env
                    .get_template(&format!("{template}/{l}/subject.txt"))
                    .is_ok()
            })
            .or_else(|| {
                self.env
                    .get_template(&format!("{template}/en/subject.txt"))
                    .ok()
                    .map(|_| "en")
            })
    }

    /// Renders a template in a locale (or English) with its payload and the
    /// base URL of links.
    pub fn render(
        &self,
        template: &str,
        locale: &str,
        payload: &serde_json::Value,
        base_url: &str,
    ) -> Result<Rendered, RenderError> {
        let locale = self
            .locale_of(template, locale)
            .ok_or_else(|| RenderError::Unknown(template.to_string()))?;
        let dir = if locale == "ar" { "rtl" } else { "ltr" };
        let ctx = context! {
            base_url => base_url.trim_end_matches('/'),
            locale => locale,
            dir => dir,
            ..Value::from_serialize(payload)
        };
        let part = |file: &str| -> Result<String, RenderError> {
            Ok(self
                .env
                .get_template(&format!("{template}/{locale}/{file}"))?
                .render(&ctx)?)
        };
        let subject = part("subject.txt")?.trim().to_string();
        if subject.contains(['\r', '\n']) {
            return Err(RenderError::HeaderInjection);
        }
        Ok(Rendered {
            subject,
            text: part("body.txt")?,
            html: part("body.html")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn invitation(inviter: &str) -> serde_json::Value {
        json!({"inviter": inviter, "role": "partner", "token": "abc", "expires_in_days": 7})
    }

    /// The sentences of a text, for comparing translations: no sentence of
    /// four words or more of the English email may be left in another.
    fn sentences(text: &str) -> Vec<String> {
        text.split(['.', ':', '\n', ';', '!'])
            .map(str::trim)
            .filter(|s| s.split_whitespace().count() >= 4)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_template_renders_in_every_locale_without_english_left() {
        let t = Templates::new();
        assert_eq!(t.names().len(), 15);
        let payload = json!({
            "inviter": "Amina", "role": "partner", "token": "abc", "expires_in_days": 7,
            "full_name": "Kwame Mensah", "given_name": "Kwame", "cohort_title": "Crop vision",
            "program_title": "AI for agriculture", "starts_on": "2027-03-01", "ends_on": "2027-04-01",
            "institution_name": "University of Ghana", "certificate_code": "c0de",
            "venture_name": "AgriSense", "incubator_name": "Shenzhen AI Venture Hub",
            "trainee_name": "Kwame Mensah", "kind": "fellowship", "sending_name": "University of Ghana",
            "receiving_name": "Tsinghua University", "resource_title": "Crop disease images",
            "url": "https://sis.ug.edu.gh/meridian", "failing_since": "2027-03-01",
        });
        for name in t.names() {
            let english = t
                .render(&name, "en", &payload, "https://meridian.example.org/")
                .unwrap();
            for locale in ["en", "fr", "ar", "es", "pt", "zh"] {
                for file in ["subject.txt", "body.txt", "body.html"] {
                    let own = format!("{name}/{locale}/{file}");
                    assert!(t.env.get_template(&own).is_ok(), "{own} is missing");
                }
                let r = t
                    .render(&name, locale, &payload, "https://meridian.example.org/")
                    .unwrap();
                if locale != "en" {
                    let left: Vec<String> = sentences(&english.text)
                        .into_iter()
                        .filter(|s| r.text.contains(s.as_str()))
                        .collect();
                    assert!(left.is_empty(), "{name} {locale} keeps English: {left:?}");
                    assert!(
                        !r.text.contains("2027-03-01"),
                        "{name} {locale}: a raw date"
                    );
                }
                assert!(!r.subject.is_empty());
                assert!(
                    r.text.len() > 40 && !r.text.contains("{{"),
                    "{name} {locale}"
                );
                assert!(r.html.contains(&format!("lang=\"{locale}\"")));
                assert_eq!(r.html.contains("dir=\"rtl\""), locale == "ar");
            }
        }
    }

    #[test]
    fn dates_are_written_in_the_readers_language() {
        let t = Templates::new();
        let payload = json!({
            "given_name": "Kwame", "cohort_title": "Crop vision", "program_title": "AI for agriculture",
            "starts_on": "2027-03-01", "ends_on": "2027-04-01",
        });
        for (locale, expected) in [
            ("en", "1 March 2027"),
            ("fr", "1 mars 2027"),
            ("es", "1 de marzo de 2027"),
            ("pt", "1 de março de 2027"),
            ("zh", "2027年3月1日"),
        ] {
            let r = t
                .render("enrollment_accepted", locale, &payload, "http://x")
                .unwrap();
            assert!(r.text.contains(expected), "{locale}: {}", r.text);
        }
    }

    #[test]
    fn unknown_locales_fall_back_to_english() {
        let t = Templates::new();
        let sw = t
            .render("invitation", "sw", &invitation("Li Wei"), "http://x")
            .unwrap();
        let en = t
            .render("invitation", "en", &invitation("Li Wei"), "http://x")
            .unwrap();
        assert_eq!(sw, en);
    }

    #[test]
    fn values_are_escaped_in_html_and_line_breaks_never_reach_the_subject() {
        let t = Templates::new();
        let r = t
            .render(
                "invitation",
                "en",
                &invitation("<script>alert(1)</script>"),
                "http://x",
            )
            .unwrap();
        assert!(!r.html.contains("<script>"));
        assert!(r.html.contains("&lt;script&gt;"));
        assert!(r.text.contains("<script>"), "plain text is not HTML");
        assert!(matches!(
            t.render(
                "invitation",
                "fr",
                &invitation("Eve\r\nBcc: all@example.org"),
                "http://x"
            ),
            Err(RenderError::HeaderInjection)
        ));
        assert!(matches!(
            t.render("nope", "en", &invitation("A"), "http://x"),
            Err(RenderError::Unknown(_))
        ));
    }

    #[test]
    fn a_missing_value_is_an_error_not_a_blank() {
        let t = Templates::new();
        assert!(t
            .render("invitation", "en", &json!({}), "http://x")
            .is_err());
    }
}
