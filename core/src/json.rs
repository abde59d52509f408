//! Compact JSON text of the requests and sealed payloads the widget sends, written by hand.
//!
//! The output is byte for byte what `serde_json::to_string` makes of the same [`crate::protocol`] value (the
//! tests compare the two, escapes and non-ASCII text included), so the wire format stays the one the serde
//! derives define and the server reads. Why by hand: serde_json's serializer with the derived `Serialize`
//! impls (generic writer, `io::Write` error plumbing, integer formatting) cost the widget 1 KB gzip more than
//! this, and the widget only ever writes these few flat objects.

use crate::protocol::{
    CodePayload, Consent, DocumentsPayload, Envelope, IdentityPayload, Method, SealedRequest, WidgetSessionRequest,
};

/// A value the widget sends as JSON.
pub trait ToJson {
    /// Appends the compact JSON text of `self` to `out`.
    fn write_json(&self, out: &mut String);
}

/// The compact JSON text of `value` (a free function, not a provided trait method: that would be one copy per
/// type in the wasm).
pub fn to_string(value: &dyn ToJson) -> String {
    let mut out = String::new();
    value.write_json(&mut out);
    out
}

/// Appends `s` as a JSON string, escaped exactly as serde_json does: `"` and `\`, the short escapes `\b \f \n \r
/// \t`, every other control character below U+0020 as `\u00xx` (lowercase hex); everything else as is (UTF-8).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    // Copy runs of characters that need no escape in one go; only ASCII bytes are ever escaped, so splitting at
    // their positions keeps `rest` on character boundaries.
    while let Some(i) = rest.bytes().position(|b| b < 0x20 || b == b'"' || b == b'\\') {
        let (run, tail) = rest.split_at(i);
        out.push_str(run);
        let Some(&b) = tail.as_bytes().first() else { break };
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0C => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
        }
        rest = tail.get(1..).unwrap_or_default();
    }
    out.push_str(rest);
    out.push('"');
}

/// Appends `n` in decimal (no `core::fmt`: its integer formatting is more code than this loop).
pub fn write_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut v = n.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Writes one object's members in order, with the commas between them.
struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object { out, empty: true }
    }

    /// Starts a member: the separator and the quoted key.
    fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(':');
        self.out
    }

    fn str(&mut self, key: &str, value: &str) -> &mut Self {
        write_str(self.key(key), value);
        self
    }

    fn value(&mut self, key: &str, value: &dyn ToJson) -> &mut Self {
        value.write_json(self.key(key));
        self
    }

    /// A member that serde skips when it is `None` (`skip_serializing_if = "Option::is_none"`).
    fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.str(key, v);
        }
        self
    }

    fn end(&mut self) {
        self.out.push('}');
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl ToJson for Method {
    fn write_json(&self, out: &mut String) {
        write_str(out, self.as_str());
    }
}

impl ToJson for Consent {
    fn write_json(&self, out: &mut String) {
        let mut o = Object::new(out);
        o.str("version", &self.version);
        write_i64(o.key("accepted_at"), self.accepted_at);
        o.end();
    }
}

impl ToJson for IdentityPayload {
    fn write_json(&self, out: &mut String) {
        let mut o = Object::new(out);
        o.value("method", &self.method)
            .str("document_kind", self.document_kind.as_str())
            .str("name", &self.name)
            .str("number", &self.number)
            .opt_str("phone", self.phone.as_deref())
            .opt_str("email", self.email.as_deref());
        if let Some(c) = &self.consent {
            o.value("consent", c);
        }
        if let Some(c) = &self.guardian_consent {
            o.value("guardian_consent", c);
        }
        o.end();
    }
}

impl ToJson for DocumentsPayload {
    fn write_json(&self, out: &mut String) {
        Object::new(out)
            .value("identity", &self.identity)
            .str("selfie_jpeg", &self.selfie_jpeg)
            .str("document_jpeg", &self.document_jpeg)
            .value("face_consent", &self.face_consent)
            .end();
    }
}

impl ToJson for CodePayload {
    fn write_json(&self, out: &mut String) {
        Object::new(out).str("code", &self.code).end();
    }
}

impl ToJson for crate::protocol::handoff::RedeemRequest {
    fn write_json(&self, out: &mut String) {
        Object::new(out).str("code", &self.code).end();
    }
}

impl ToJson for Envelope {
    fn write_json(&self, out: &mut String) {
        Object::new(out).str("kid", &self.kid).str("enc", &self.enc).str("ct", &self.ct).end();
    }
}

impl ToJson for SealedRequest {
    fn write_json(&self, out: &mut String) {
        Object::new(out).value("envelope", &self.envelope).end();
    }
}

impl ToJson for WidgetSessionRequest {
    fn write_json(&self, out: &mut String) {
        let mut o = Object::new(out);
        o.str("publishable_key", &self.publishable_key);
        if let Some(methods) = &self.methods {
            let out = o.key("methods");
            out.push('[');
            for (i, m) in methods.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                m.write_json(out);
            }
            out.push(']');
        }
        o.end();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::validate::DocumentKind;

    /// Awkward text: every escape serde_json knows, other control characters, DEL, non-ASCII in 2-, 3- and 4-byte
    /// UTF-8, a lone `/`, and escapes next to each other and at both ends.
    const TEXTS: &[&str] = &[
        "",
        "张三",
        "O'Brien-Smith",
        "\"quoted\" \\ back\\slash",
        "\u{8}\u{c}\n\r\t",
        "\u{0}\u{1}\u{1f}\u{7f} end",
        "é ß 😀 𠀀 \u{2028}\u{2029}",
        "a/b</script>",
        "\"\"\\\\\n",
        "\u{1b}[31m",
        "x\u{0}",
    ];

    fn consent(version: &str, at: i64) -> Consent {
        Consent { version: version.into(), accepted_at: at }
    }

    fn identity(text: &str, full: bool) -> IdentityPayload {
        IdentityPayload {
            method: if full { Method::Sms } else { Method::Documents },
            document_kind: if full { DocumentKind::ResidentId } else { DocumentKind::ForeignPermanentResidentId },
            name: text.into(),
            number: format!("11010519491231002X{text}"),
            phone: full.then(|| format!("+86 {text}")),
            email: full.then(|| format!("{text}@example.com")),
            consent: full.then(|| consent(text, 1_700_000_000)),
            guardian_consent: full.then(|| consent("v2", -1)),
        }
    }

    fn same<T: ToJson + serde::Serialize>(v: &T) {
        let text = to_string(v);
        assert_eq!(text, serde_json::to_string(v).unwrap());
        // The text must also parse back as JSON: guards against a test that compares two wrong writers.
        let _: serde_json::Value = serde_json::from_str(&text).unwrap();
    }

    #[test]
    fn strings_escape_like_serde_json() {
        for t in TEXTS {
            let mut out = String::new();
            write_str(&mut out, t);
            assert_eq!(out, serde_json::to_string(t).unwrap(), "{t:?}");
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), *t);
        }
        // Every control character and a few around them, one at a time.
        for c in (0u32..0x22).chain([0x5C, 0x7F, 0x80, 0xFFFF]).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            let mut out = String::new();
            write_str(&mut out, &s);
            assert_eq!(out, serde_json::to_string(&s).unwrap(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn integers() {
        for n in [0, 1, -1, 9, 10, 1_700_000_000, -1_700_000_000, i64::MAX, i64::MIN, i64::MIN + 1] {
            let mut out = String::new();
            write_i64(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn identity_payloads_match_serde() {
        for t in TEXTS {
            same(&identity(t, true));
            same(&identity(t, false));
        }
        for kind in DocumentKind::ALL {
            same(&IdentityPayload { document_kind: kind, ..identity("李", false) });
        }
        for method in [Method::Sms, Method::Email, Method::Documents] {
            same(&IdentityPayload { method, ..identity("李", true) });
        }
        // Only one of the optional members present.
        same(&IdentityPayload { guardian_consent: None, ..identity("王", true) });
        same(&IdentityPayload { phone: None, email: None, ..identity("王", true) });
    }

    #[test]
    fn other_requests_match_serde() {
        for t in TEXTS {
            same(&consent(t, 42));
            same(&CodePayload { code: (*t).into() });
            same(&crate::protocol::handoff::RedeemRequest { code: (*t).into() });
            same(&DocumentsPayload {
                identity: identity(t, true),
                selfie_jpeg: "_-AB".into(),
                document_jpeg: (*t).into(),
                face_consent: consent(t, 0),
            });
            let envelope = Envelope { kid: (*t).into(), enc: "enc".into(), ct: "ct-_".into() };
            same(&envelope);
            same(&SealedRequest { envelope });
            same(&WidgetSessionRequest { publishable_key: (*t).into(), methods: None });
        }
        for methods in [vec![], vec![Method::Email], vec![Method::Sms, Method::Email, Method::Documents]] {
            same(&WidgetSessionRequest { publishable_key: "pk_test".into(), methods: Some(methods) });
        }
    }
}
