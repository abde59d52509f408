//! Unit tests of the vault: roundtrip, bound associated data, rotation, key file, redaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn vault() -> Vault {
    Vault::generate().unwrap()
}

#[test]
fn roundtrip_hides_the_plaintext() {
    let v = vault();
    let f = Field::session("name_ct", "s1");
    let sealed = v.seal(f, "张三").unwrap();
    assert_eq!(v.open(f, &sealed).unwrap().as_str(), "张三");
    assert_eq!(sealed.key_id(), Some(1));
    assert!(!sealed.as_bytes().windows("张三".len()).any(|w| w == "张三".as_bytes()));
    // A fresh nonce each time: equal plaintexts do not give equal ciphertexts.
    assert_ne!(v.seal(f, "张三").unwrap(), sealed);
}

#[test]
fn moved_ciphertext_does_not_open() {
    let v = vault();
    let sealed = v.seal(Field::session("name_ct", "s1"), "张三").unwrap();
    for wrong in [
        Field::session("name_ct", "s2"),
        Field::session("email_ct", "s1"),
        Field { table: "complaints", column: "name_ct", row: "s1" },
    ] {
        assert!(matches!(v.open(wrong, &sealed), Err(VaultError::Open)), "{wrong:?}");
    }
    let mut bytes = sealed.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert!(v.open(Field::session("name_ct", "s1"), &Sealed(bytes)).is_err());
    assert!(v.open(Field::session("name_ct", "s1"), &Sealed(vec![1, 0, 0])).is_err());
}

#[test]
fn identity_fields_are_bound_to_their_columns() {
    let v = vault();
    let id = PlainIdentity {
        name: "李四".into(),
        id_number: "11010519491231002X".into(),
        phone: Some("13800138000".into()),
        email: None,
    };
    let sealed = v.seal_identity("s1", &id).unwrap();
    assert_eq!(v.open_identity("s1", &sealed).unwrap(), id);
    assert!(v.open_identity("s2", &sealed).is_err());
    let swapped = SealedIdentity { name: sealed.id_number.clone(), id_number: sealed.name.clone(), ..sealed };
    assert!(v.open_identity("s1", &swapped).is_err());
}

#[test]
fn rotation_keeps_old_data_readable_and_seals_with_the_new_key() {
    let mut v = vault();
    let f = Field::session("phone_ct", "s1");
    let old = v.seal(f, "13800138000").unwrap();
    assert_eq!(v.rotate().unwrap(), 2);
    let new = v.seal(f, "13800138000").unwrap();
    assert_eq!((old.key_id(), new.key_id()), (Some(1), Some(2)));
    assert_eq!(v.open(f, &old).unwrap().as_str(), "13800138000");
    assert_eq!(v.open(f, &new).unwrap().as_str(), "13800138000");
    // The key text keeps every key; a vault missing key 2 says which key it lacks.
    let again = Vault::parse(&v.to_text()).unwrap();
    assert_eq!(again.open(f, &new).unwrap().as_str(), "13800138000");
    let only_old =
        Vault::parse(&v.to_text().lines().filter(|l| !l.starts_with("key 2")).collect::<Vec<_>>().join("\n")).unwrap();
    assert!(matches!(only_old.open(f, &new), Err(VaultError::UnknownKey(2))));
    // The blind index survives rotation.
    assert_eq!(again.blind_id_number("11010519491231002X"), v.blind_id_number("11010519491231002X"));
}

#[cfg(unix)]
#[test]
fn key_file_is_created_private_and_refused_when_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys").join("vault.keys");
    let created = Vault::load(&path).err();
    assert!(created.is_some(), "no file yet");
    let v = Vault::generate().unwrap();
    v.write_new(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777,
        0o700,
        "a directory created for the keys is private too"
    );
    let loaded = Vault::load(&path).unwrap();
    let f = Field::session("name_ct", "s");
    assert_eq!(loaded.open(f, &v.seal(f, "王五").unwrap()).unwrap().as_str(), "王五");
    assert!(v.write_new(&path).is_err(), "never overwrites keys");
    assert_eq!(Vault::rotate_file(&path).unwrap(), 2);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(Vault::load(&path).unwrap().current_key_id(), 2);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(Vault::load(&path), Err(VaultError::KeyFile { .. })));
}

#[test]
fn debug_never_prints_key_bytes_or_plaintext() {
    let v = vault();
    let text = v.to_text();
    let secrets: Vec<&str> =
        text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(' ').next_back()).collect();
    assert_eq!(secrets.len(), 2);
    let id = PlainIdentity { name: "赵六".into(), id_number: "110105194912310029".into(), phone: None, email: None };
    let shown = format!("{v:?} {:?} {id:?} {:?}", v.index, v.seal(Field::session("name_ct", "s"), "赵六").unwrap());
    for s in secrets {
        assert!(!shown.contains(s));
    }
    assert!(!shown.contains("赵六") && !shown.contains("1101051949"));
    assert!(shown.contains("redacted"));
}

#[test]
fn blind_index_is_keyed_normalized_and_domain_separated() {
    let (a, b) = (vault(), vault());
    assert_eq!(a.blind_id_number("11010519491231002x"), a.blind_id_number(" 110105-19491231002X "));
    assert_ne!(a.blind_id_number("11010519491231002X"), b.blind_id_number("11010519491231002X"));
    assert_ne!(a.blind_id_number("110105194912310029"), a.blind_id_number("11010519491231002X"));
    assert_ne!(a.blind("phone", "1"), a.blind("phon", "e1"));
    assert_eq!(a.blind("id_number", "X").len(), 32);
}

#[test]
fn malformed_key_text_is_refused() {
    for text in ["", "index AAAA", "key 1 abc", "index x\nkey 1 y", "bogus line"] {
        assert!(Vault::parse(text).is_err(), "{text:?}");
    }
    let v = vault();
    let one_line = v.to_text().lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join(";");
    assert!(Vault::parse(&one_line).is_ok());
}

#[test]
fn an_added_key_seals_only_once_active_and_opens_at_once() {
    use crate::keyprint::RecordedPrint;
    let mut v = Parse::two_keys();
    let records: Vec<RecordedPrint> = v
        .prints()
        .into_iter()
        .map(|print| RecordedPrint { recorded_at: if print.kid == "2" { 5_000 } else { 0 }, print })
        .collect();
    v.activate(&Activation::new(&records, 1_000), 5_000);
    let f = Field::session("name_ct", "s1");
    assert_eq!(v.current_key_id(), 1, "key 2 is published, not used yet");
    assert_eq!(v.seal(f, "x").unwrap().key_id(), Some(1));
    assert!(v.settled(5_999).is_none());
    let later = v.settled(6_000).expect("key 2 active at 6 000");
    let sealed = later.seal(f, "x").unwrap();
    assert_eq!(sealed.key_id(), Some(2));
    // An instance that has loaded key 2 opens it before using it.
    assert_eq!(v.open(f, &sealed).unwrap().as_str(), "x");
    assert!(later.settled(i64::MAX - 1).is_none());
}

/// Vaults built from key text.
struct Parse;

impl Parse {
    fn two_keys() -> Vault {
        let k = |b: u8| B64.encode([b; 32]);
        Vault::parse(&format!("index {}; key 1 {}; key 2 {}", k(1), k(2), k(3))).unwrap()
    }
}
