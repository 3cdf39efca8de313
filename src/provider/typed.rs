//! Parts the typed decoders share: [`KeyName`], a string borrowed from the body, and
//! [`CompactJson`], a JSON value read straight into its compact text: the text that parsing the
//! value into a `serde_json::Value` and printing it gives, without building the `Value` (a map,
//! a string per key and per leaf, then a second walk to print them).
//!
//! The two texts agree because both see the same parser events and print them with the same
//! serializer: numbers as the parser read them (an integer as an integer, a float through the
//! same float printer), strings escaped the same way, keys in the order they came. One case
//! differs and is refused instead: a key repeated in one object, which a `Value` keeps once
//! (at its first place, with its last value). An object with more keys than
//! [`KEYS_CHECKED`] is refused too, so the repeat check stays cheap. A refusal is an error of
//! the deserializer, so a typed decoder gives up and the checked path decides.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A key or a short string, borrowed where it has no escapes.
pub(crate) struct KeyName<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for KeyName<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyName(v.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyName(v.to_owned().into()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(KeyName(v.into()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The most keys of one object this reads; a larger object is refused.
pub(crate) const KEYS_CHECKED: usize = 32;

/// Reads one JSON value and appends its compact text to the buffer.
pub(crate) struct CompactJson<'o>(pub(crate) &'o mut Vec<u8>);

impl CompactJson<'_> {
    fn print<T: Serialize + ?Sized, E: de::Error>(&mut self, value: &T) -> Result<(), E> {
        value
            .serialize(&mut serde_json::Serializer::new(&mut *self.0))
            .map_err(E::custom)
    }

    /// Prints a string as the serializer does: as it is between quotes unless it holds a
    /// byte the serializer escapes (a control character, a quote, a backslash).
    fn print_str<E: de::Error>(&mut self, v: &str) -> Result<(), E> {
        if v.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            return self.print(v);
        }
        self.0.reserve(v.len() + 2);
        self.0.push(b'"');
        self.0.extend_from_slice(v.as_bytes());
        self.0.push(b'"');
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for CompactJson<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CompactJson<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        self.print(&v)
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        self.print(&v)
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        self.print(&v)
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<(), E> {
        // A `Value` holds no infinite number: it would print `null`, and so would this.
        self.print(&v)
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        self.print_str(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.push(b'[');
        let mut first = true;
        loop {
            let mark = self.0.len();
            if !first {
                self.0.push(b',');
            }
            if seq.next_element_seed(CompactJson(self.0))?.is_none() {
                self.0.truncate(mark);
                break;
            }
            first = false;
        }
        self.0.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.0.push(b'{');
        // Where each key's printed text starts and ends in the buffer. Two keys are the same
        // exactly when their printed texts are (printing is one-to-one), so a repeat is found
        // without keeping the keys, and nothing is allocated for them.
        let mut keys = [(0usize, 0usize); KEYS_CHECKED];
        let mut count = 0;
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            if count > 0 {
                self.0.push(b',');
            }
            let start = self.0.len();
            self.print_str(key.0.as_ref())?;
            let end = self.0.len();
            let printed = &self.0[start..end];
            if keys[..count].iter().any(|&(s, e)| self.0[s..e] == *printed) {
                return Err(de::Error::custom("a key repeated in one object"));
            }
            if count == KEYS_CHECKED {
                return Err(de::Error::custom("an object with too many keys to check"));
            }
            keys[count] = (start, end);
            count += 1;
            self.0.push(b':');
            map.next_value_seed(CompactJson(self.0))?;
        }
        self.0.push(b'}');
        Ok(())
    }
}

/// The compact text of the JSON `text`, or `None` where [`CompactJson`] refuses it (or it is
/// not JSON).
#[cfg(test)]
pub(crate) fn compact(text: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    CompactJson(&mut out).deserialize(&mut de).ok()?;
    de.end().ok()?;
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::{KEYS_CHECKED, compact};

    /// What a `Value` prints for `text`, the text [`compact`] must give.
    fn printed(text: &str) -> Option<String> {
        serde_json::from_str::<Value>(text)
            .ok()
            .map(|v| v.to_string())
    }

    #[test]
    fn every_kind_of_value_prints_as_a_parsed_value_prints() {
        for text in [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "-7",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "1.0",
            "2.5e0",
            "1E400",
            "-1e-400",
            "0.1",
            "3.141592653589793238462643383279",
            "\"\"",
            r#""\u00e9\n\t\"\\\/\u0001\ud83d\ude00""#,
            "[]",
            "{}",
            "[1, [2, [3, {}]], {\"a\": []}]",
            r#"{ "b" : 3 , "a" : 2 , "\u0063": {"d": [true, null]} }"#,
        ] {
            assert_eq!(compact(text), printed(text), "{text}");
        }
    }

    #[test]
    fn strings_with_every_ascii_character_print_as_a_parsed_value_prints_as_values_and_keys() {
        for c in (0u8..0x80)
            .map(char::from)
            .chain(['\u{e9}', '\u{2028}', '\u{1f600}'])
        {
            let text = serde_json::to_string(&format!("a{c}b")).unwrap();
            for json in [text.clone(), format!("{{{text}: {text}, \"k\": [{text}]}}")] {
                assert_eq!(compact(&json), printed(&json), "{json}");
            }
        }
    }

    #[test]
    fn a_repeated_key_is_refused_where_a_value_would_keep_it_once() {
        assert_eq!(compact(r#"{"a": 1, "b": 2, "a": 3}"#), None);
        assert_eq!(compact(r#"{"x": {"a": 1, "\u0061": 3}}"#), None);
        assert!(compact(r#"{"a": {"a": 1}, "b": {"a": 2}}"#).is_some());
        assert_eq!(compact(r#"{"\n": 1, "\u000a": 2}"#), None);
        assert_eq!(compact(r#"{"\"": 1, "\u0022": 2}"#), None);
        assert!(compact(r#"{"ab": 1, "a": 2, "b": 3, "\\a": 4}"#).is_some());
    }

    #[test]
    fn an_object_of_more_keys_than_are_checked_is_refused() {
        let object = |n: usize| {
            let fields: Vec<String> = (0..n).map(|i| format!("\"k{i}\": {i}")).collect();
            format!("{{{}}}", fields.join(", "))
        };
        let largest = object(KEYS_CHECKED);
        assert_eq!(compact(&largest), printed(&largest));
        assert_eq!(compact(&object(KEYS_CHECKED + 1)), None);
    }

    #[test]
    fn text_that_is_not_one_json_value_is_refused() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "nul", "1 2", "\"\\x\""] {
            assert_eq!(compact(text), None, "{text}");
        }
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-c]{1,2}", inner), 0..6)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any JSON, pretty or compact: the same text as a parsed value, except where a key
        /// repeats, which is refused.
        #[test]
        fn any_json_prints_as_a_parsed_value_prints(value in json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            prop_assert_eq!(compact(&text), printed(&text));
        }

        /// Objects written with repeated keys (text a `Value` cannot produce).
        #[test]
        fn objects_with_repeated_keys_are_refused_or_print_as_a_parsed_value(
            fields in prop::collection::vec(("[a-c]", any::<i32>()), 0..6)
        ) {
            let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            let text = format!("{{{}}}", body.join(", "));
            let mut keys: Vec<&String> = fields.iter().map(|(k, _)| k).collect();
            keys.sort();
            keys.dedup();
            let repeated = keys.len() < fields.len();
            match compact(&text) {
                None => prop_assert!(repeated, "{}", text),
                Some(out) => {
                    prop_assert!(!repeated, "{}", text);
                    prop_assert_eq!(Some(out), printed(&text));
                }
            }
        }
    }
}
