//! The server's keys changing under the widget: it reseals once to the keys it fetches again.

use super::*;

/// Makes the stub answer a sealed post like the server: `400 unknown_kid` when the envelope's `kid` is not the
/// one `GET /v1/keys` lists now (or always, with `window.__rnRefuseAll`).
fn check_kids() {
    let f = Function::new_no_args(
        r#"
        const inner = window.__rnStub;
        window.__rnRefuseAll = false;
        window.fetch = window.__rnStub = async (req) => {
          const body = req.method === 'POST' ? await req.clone().text() : null;
          const env = body && JSON.parse(body).envelope;
          if (env && (window.__rnRefuseAll || env.kid !== window.__rnKey.kid)) {
            window.__rnRequests.push({ path: new URL(req.url).pathname, body, auth: req.headers.get('authorization') });
            const error = { code: 'unknown_kid', message: 'unknown key' };
            return new Response(JSON.stringify({ error }), { status: 400, headers: { 'content-type': 'application/json' } });
          }
          return inner(req);
        };
        "#,
    );
    f.call0(&JsValue::NULL).unwrap();
}

/// Publishes `kp` as the server's only key, as after a rotation.
fn rotate_to(kp: &KeyPair) {
    let w: JsValue = web_sys::window().unwrap().into();
    let key =
        obj(&[("kid", kp.kid.clone().into()), ("suite", "x".into()), ("public_key", kp.public().to_base64().into())]);
    Reflect::set(&w, &"__rnKey".into(), &key).unwrap();
}

#[wasm_bindgen_test]
async fn a_step_refused_for_an_unknown_key_is_resealed_once_to_the_new_key() {
    let (old, new) = (KeyPair::from_seed("k1", &SEED), KeyPair::from_seed("k2", &[9; 32]));
    stub_server(&old);
    check_kids();
    let m = at_identity(&["sms"]).await;
    // The server rotates after the widget fetched its key at mount.
    rotate_to(&new);
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-phone", "13800138000").await;
    m.click("Next").await;
    m.expect_step("code").await;
    let reqs = requests();
    let posts: Vec<_> = reqs.iter().filter(|r| r.0 == "/v1/sessions/ses_test/identity").collect();
    assert_eq!(posts.len(), 2, "{reqs:?}");
    let sealed = |i: usize| -> SealedRequest { serde_json::from_str(posts[i].1.as_deref().unwrap()).unwrap() };
    assert_eq!(sealed(0).envelope.kid, "k1");
    assert_eq!(sealed(1).envelope.kid, "k2");
    let plain = new.open(&sealed(1).envelope, "ses_test", p::Step::Identity).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(v["number"], "11010519491231002X");
    // The keys were fetched again between the two posts.
    let paths: Vec<&str> = reqs.iter().map(|r| r.0.as_str()).collect();
    let at = |i: usize| paths.iter().enumerate().filter(|(_, p)| **p == "/v1/sessions/ses_test/identity").nth(i);
    let (first, second) = (at(0).unwrap().0, at(1).unwrap().0);
    assert!(paths[first..second].contains(&"/v1/keys"), "{paths:?}");

    // A key refused again after the reseal fails the step: one reseal, no loop.
    let w: JsValue = web_sys::window().unwrap().into();
    Reflect::set(&w, &"__rnRefuseAll".into(), &true.into()).unwrap();
    let before = requests().len();
    m.type_into("#rn-code", "123456").await;
    let code_posts = || requests().iter().skip(before).filter(|r| r.0.ends_with("/code")).count();
    until("the resealed code", || code_posts() >= 2).await;
    m.expect_step("error").await;
    for _ in 0..10 {
        tick().await;
    }
    assert_eq!(code_posts(), 2, "{:?}", requests());
    Reflect::set(&w, &"__rnRefuseAll".into(), &false.into()).unwrap();
}
