//! The default score bands against every pair the test photos make: the same person always `match`, different
//! people always `no_match` (the distributions these thresholds were set from are in docs/face.md).

use realname_face::{Band, Embedding, Thresholds};

use crate::common::{OBAMA, OTHERS, decoded, document_copies, engine};

fn embed(img: &realname_face::RgbImage) -> Embedding {
    engine().analyze_image(img).unwrap().embedding
}

#[test]
fn every_genuine_pair_is_match_and_every_impostor_pair_no_match() {
    let t = Thresholds::default();
    // The person's photos, then the document-style copies of one of them (small, grey, JPEG q15, turned).
    let mut same: Vec<(String, Embedding)> = OBAMA.iter().map(|n| (n.to_string(), embed(&decoded(n)))).collect();
    same.extend(document_copies("obama2.jpg").into_iter().map(|(what, img)| (format!("obama2 {what}"), embed(&img))));
    let others: Vec<(String, Embedding)> = OTHERS.iter().map(|n| (n.to_string(), embed(&decoded(n)))).collect();
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (i, (a, x)) in same.iter().enumerate() {
        for (b, y) in &same[i + 1..] {
            genuine.push((format!("{a} / {b}"), x.cosine(y)));
        }
        for (b, y) in &others {
            impostor.push((format!("{a} / {b}"), x.cosine(y)));
        }
    }
    impostor.push(("biden / astronaut".into(), others[0].1.cosine(&others[1].1)));
    for (pair, score) in &genuine {
        eprintln!("genuine  {score:.3} {pair}");
    }
    for (pair, score) in &impostor {
        eprintln!("impostor {score:.3} {pair}");
    }
    for (pair, score) in &genuine {
        assert_eq!(t.band(*score), Band::Match, "{pair}: {score}");
    }
    for (pair, score) in &impostor {
        assert_eq!(t.band(*score), Band::NoMatch, "{pair}: {score}");
    }
}
