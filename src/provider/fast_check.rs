//! The checks every codec's fast request decoding ([`super::Codec::decode_request_fast`])
//! must pass against its checked decoding: `Some(d)` from the fast path only where the
//! checked path gives `Ok(d)` for the same body. Test-only.

use serde_json::{Value, json};

use super::{DecodedRequest, Malformed};

/// A codec's two decoders, as plain functions of the body.
pub(crate) struct Decoders {
    pub(crate) fast: fn(&[u8]) -> Option<DecodedRequest>,
    pub(crate) checked: fn(&Value) -> Result<DecodedRequest, Malformed>,
}

impl Decoders {
    /// Whether the fast path decoded `body`; where it did, the checked path must agree.
    pub(crate) fn agrees(&self, body: &[u8]) -> bool {
        let fast = (self.fast)(body);
        if let Some(fast) = &fast {
            let value: Value = serde_json::from_slice(body).expect("decoded, so it is JSON");
            assert_eq!(
                (self.checked)(&value).as_ref(),
                Ok(fast),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        fast.is_some()
    }

    /// Every recorded request of `provider` in the bundled `folders` (compact and pretty)
    /// agrees, and the fast path decodes each one the checked path accepts. The number of
    /// requests.
    pub(crate) fn agree_on_recordings(&self, provider: &str, folders: &[&str]) -> usize {
        let mut bodies = Vec::new();
        for folder in folders {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(folder);
            for entry in std::fs::read_dir(dir).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                let Ok(cassette) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if cassette["provider"] != provider {
                    continue;
                }
                for interaction in cassette["interactions"].as_array().unwrap() {
                    bodies.push(interaction["request"]["body"].clone());
                }
            }
        }
        let mut fast = 0;
        for body in &bodies {
            let compact = serde_json::to_vec(body).unwrap();
            let pretty = serde_json::to_vec_pretty(body).unwrap();
            fast += usize::from(self.agrees(&compact));
            assert_eq!(self.agrees(&pretty), (self.fast)(&compact).is_some());
        }
        let accepted = bodies.iter().filter(|b| (self.checked)(b).is_ok()).count();
        assert_eq!(
            fast, accepted,
            "a recorded request the fast path left alone"
        );
        bodies.len()
    }

    /// Every node of `base` replaced by each of `replacements` in turn, and every key
    /// removed: each body agrees. Asserts that both outcomes occur (the fast path decodes
    /// some bodies and leaves others), so the check is not vacuous either way.
    pub(crate) fn agree_on_every_change(&self, base: &Value, replacements: &[Value]) {
        let mut all = Vec::new();
        paths(base, &mut Vec::new(), &mut all);
        let (mut tried, mut decoded) = (0, 0);
        for path in &all {
            for replacement in replacements {
                let mut body = base.clone();
                *at_mut(&mut body, path) = replacement.clone();
                tried += 1;
                decoded += usize::from(self.agrees(&serde_json::to_vec(&body).unwrap()));
            }
            if let Some((Value::String(key), parent)) = path.split_last() {
                let mut body = base.clone();
                at_mut(&mut body, parent)
                    .as_object_mut()
                    .unwrap()
                    .shift_remove(key);
                tried += 1;
                decoded += usize::from(self.agrees(&serde_json::to_vec(&body).unwrap()));
            }
        }
        assert!(
            decoded > tried / 4 && decoded < tried,
            "{decoded} of {tried}"
        );
    }
}

/// Every place in `v`, as a path of keys and indices.
fn paths(v: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                at.push(json!(k));
                paths(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(json!(i));
                paths(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'v>(v: &'v mut Value, path: &[Value]) -> &'v mut Value {
    path.iter().fold(v, |v, step| match step {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[usize::try_from(i.as_u64().unwrap()).unwrap()],
        _ => unreachable!("paths are keys and indices"),
    })
}
