//! Timestamps as the API writes them, `2026-11-30T16:11:42.123456Z`,
//! written digit by digit: every row of a list carries two or more, and
//! chrono's own form goes through the `fmt` machinery for each.
//!
//! A field opts in with `#[serde(serialize_with = "crate::api::stamp::utc")]`
//! (a `DateTime<Utc>` or an `Option` of one). The text is the one chrono's
//! serde form writes: the fraction in 0, 3, 6 or 9 digits, as few as the
//! value needs, and `Z`. The rare instants outside years 0 to 9999, or on a
//! leap second, are left to chrono.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// Serializes a timestamp, or an optional one.
pub fn utc<T: Stamp, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    value.write(serializer)
}

/// What [`utc`] takes.
pub trait Stamp {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

impl Stamp for DateTime<Utc> {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 30];
        match text(self, &mut buf) {
            Some(text) => serializer.serialize_str(text),
            None => self.serialize(serializer),
        }
    }
}

impl Stamp for Option<DateTime<Utc>> {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Some<'a>(&'a DateTime<Utc>);
        impl Serialize for Some<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.write(serializer)
            }
        }
        match self {
            Option::Some(at) => serializer.serialize_some(&Some(at)),
            None => serializer.serialize_none(),
        }
    }
}

/// The text of `at` in `buf`, or `None` when chrono must write it.
fn text<'b>(at: &DateTime<Utc>, buf: &'b mut [u8; 30]) -> Option<&'b str> {
    let year = at.year();
    let nanos = at.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut w = Writer { buf, n: 0 };
    w.digits(year as u32, 4);
    w.byte(b'-');
    w.digits(at.month(), 2);
    w.byte(b'-');
    w.digits(at.day(), 2);
    w.byte(b'T');
    w.digits(at.hour(), 2);
    w.byte(b':');
    w.digits(at.minute(), 2);
    w.byte(b':');
    w.digits(at.second(), 2);
    let (fraction, digits) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    if digits > 0 {
        w.byte(b'.');
        w.digits(fraction, digits);
    }
    w.byte(b'Z');
    let Writer { buf, n } = w;
    let buf: &'b [u8; 30] = buf;
    std::str::from_utf8(&buf[..n]).ok()
}

struct Writer<'b> {
    buf: &'b mut [u8; 30],
    n: usize,
}

impl Writer<'_> {
    fn byte(&mut self, b: u8) {
        self.buf[self.n] = b;
        self.n += 1;
    }

    fn digits(&mut self, value: u32, count: u32) {
        for i in (0..count).rev() {
            self.byte(b'0' + (value / 10u32.pow(i) % 10) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    #[derive(Serialize)]
    struct Row {
        #[serde(serialize_with = "utc")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "utc")]
        maybe: Option<DateTime<Utc>>,
    }

    /// Every kind of instant is written as chrono writes it.
    #[test]
    fn writes_what_chrono_writes() {
        let base = NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(6, 5, 4)
            .unwrap();
        let mut instants = vec![];
        for nanos in [
            0,
            7_000_000,
            123_000_000,
            120_000,
            123_456_000,
            1,
            999_999_999,
        ] {
            instants.push(Utc.from_utc_datetime(&base) + chrono::Duration::nanoseconds(nanos));
        }
        for (y, mo, d, h, mi, s) in [
            (1, 1, 1, 0, 0, 0),
            (999, 12, 31, 23, 59, 59),
            (9999, 6, 7, 8, 9, 10),
        ] {
            let naive = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, s)
                .unwrap();
            instants.push(Utc.from_utc_datetime(&naive));
        }
        instants.push(
            Utc.from_utc_datetime(
                &NaiveDate::from_ymd_opt(10_000, 1, 1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
            ),
        );
        instants.push(
            Utc.from_utc_datetime(
                &NaiveDate::from_ymd_opt(-5, 1, 1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap(),
            ),
        );
        instants.push(
            Utc.from_utc_datetime(
                &NaiveDate::from_ymd_opt(2016, 12, 31)
                    .unwrap()
                    .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                    .unwrap(),
            ),
        );
        for at in instants {
            for maybe in [None, Some(at)] {
                let ours = serde_json::to_string(&Row { at, maybe }).unwrap();
                let chrono = serde_json::json!({ "at": at, "maybe": maybe }).to_string();
                assert_eq!(ours, chrono);
            }
        }
    }
}
