//! Key fingerprints: recorded once per set and id, never changed, the same for every instance.

use super::*;
use realname_domain::keyprint::{KeyPrint, KeySet};

fn print(set: KeySet, kid: &str, secret: u8) -> KeyPrint {
    KeyPrint::of(set, kid, &[secret; 32])
}

pub(super) async fn key_prints_are_recorded_once_and_never_changed(b: &Backend) {
    let s = &b.store;
    assert_eq!(s.key_prints().await.unwrap(), vec![]);
    let first = vec![print(KeySet::Hpke, "k1", 1), print(KeySet::Vault, "1", 2)];
    let mut want = first.clone();
    want.sort_by(|a, b| (a.set.as_str(), &a.kid).cmp(&(b.set.as_str(), &b.kid)));
    assert_eq!(s.record_key_prints(&first, T0).await.unwrap(), want);
    // A second instance: its `vault 1` differs (kept as first recorded), its new HPKE key is added.
    let other = b.another_instance().await;
    let second = vec![print(KeySet::Hpke, "k2", 3), print(KeySet::Vault, "1", 9)];
    let got = other.record_key_prints(&second, T0 + MIN).await.unwrap();
    assert_eq!(got, vec![print(KeySet::Hpke, "k1", 1), print(KeySet::Hpke, "k2", 3), print(KeySet::Vault, "1", 2)]);
    assert_eq!(s.key_prints().await.unwrap(), got);
    // When each was first recorded (what decides when a key may be used): the first recording's time.
    let times: Vec<(String, i64)> =
        s.recorded_key_prints().await.unwrap().into_iter().map(|r| (r.print.kid, r.recorded_at)).collect();
    assert_eq!(times, vec![("k1".into(), T0), ("k2".into(), T0 + MIN), ("1".into(), T0)]);
    // Two instances recording different keys under one id at once: both read back the same one.
    let (five, six) = ([print(KeySet::CodeHmac, "-", 5)], [print(KeySet::CodeHmac, "-", 6)]);
    let (x, y) = tokio::join!(s.record_key_prints(&five, T0), other.record_key_prints(&six, T0));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x, y);
    assert_eq!(x.iter().filter(|p| p.set == KeySet::CodeHmac).count(), 1);
}
