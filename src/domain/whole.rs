//! Whole numbers as JSON Schema reads them: `3.0` is an integer there (a number whose fraction
//! is zero), and clients generated from the description may send it so. Serde's `i64` refuses
//! it; these accept it and still refuse `3.5`, strings and anything outside `i64`.

use serde::de::{self, Deserializer, Visitor};

struct Whole;

impl Visitor<'_> for Whole {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is beyond 2^63-1")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // 2^63 is exactly representable; every f64 below it with no fraction fits an i64.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
            Ok(v as i64)
        } else {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        }
    }
}

/// An `i64` field that also takes an integral float (`3.0`).
pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(Whole)
}

/// An `Option<i64>` field (null or absent is `None`) that also takes an integral float.
pub fn whole_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Maybe;
    impl<'de> Visitor<'de> for Maybe {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
            whole(d).map(Some)
        }
    }
    d.deserialize_option(Maybe)
}

/// A `Vec<i64>` field whose numbers may be integral floats.
pub fn wholes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct One(#[serde(deserialize_with = "whole")] i64);
    let list: Vec<One> = serde::Deserialize::deserialize(d)?;
    Ok(list.into_iter().map(|One(n)| n).collect())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "super::whole")]
        n: i64,
        #[serde(default, deserialize_with = "super::whole_or_null")]
        m: Option<i64>,
    }

    fn read(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn integral_floats_are_whole_numbers_and_the_rest_is_refused() {
        assert_eq!(read(r#"{"n": 3}"#).unwrap(), Body { n: 3, m: None });
        assert_eq!(read(r#"{"n": 3.0, "m": -2.0}"#).unwrap().m, Some(-2));
        #[derive(Deserialize)]
        struct List {
            #[serde(deserialize_with = "super::wholes")]
            l: Vec<i64>,
        }
        let list = |json: &str| {
            serde_json::from_str::<List>(json)
                .map(|b| b.l)
                .map_err(|e| e.to_string())
        };
        assert_eq!(list(r#"{"l": [1, 2.0, 3]}"#).unwrap(), [1, 2, 3]);
        // Read exactly, not as a neighbouring float with a fraction.
        assert_eq!(
            list(r#"{"l": [2025263397965291.0]}"#).unwrap(),
            [2_025_263_397_965_291]
        );
        assert!(list(r#"{"l": [1.5]}"#).is_err());
        assert!(list(r#"{"l": ["1"]}"#).is_err());
        assert_eq!(read(r#"{"n": -9223372036854775808}"#).unwrap().n, i64::MIN);
        assert_eq!(read(r#"{"n": 1, "m": null}"#).unwrap().m, None);
        for bad in [
            r#"{"n": 3.5}"#,
            r#"{"n": "3"}"#,
            r#"{"n": 9223372036854775808}"#,
            r#"{"n": 1e30}"#,
            r#"{"n": 1, "m": 0.5}"#,
            r#"{"n": null}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
