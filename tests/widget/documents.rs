//! The documents step (selfie and ID photo): camera refusals, uploads, the photos' size and what is sent.

use super::*;

/// Width and height from a JPEG's SOF0/SOF2 header.
fn jpeg_size(j: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < j.len() {
        if j[i] != 0xFF {
            return None;
        }
        let marker = j[i + 1];
        let len = u16::from_be_bytes([j[i + 2], j[i + 3]]) as usize;
        if marker == 0xC0 || marker == 0xC2 {
            let h = u16::from_be_bytes([j[i + 5], j[i + 6]]) as u32;
            let w = u16::from_be_bytes([j[i + 7], j[i + 8]]) as u32;
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// "Uploads" a 2000x1500 photo into the `facing` slot's file input, as the file picker would.
/// Mounts a widget offering documents, agrees, enters a valid identity and gives the face consent: the documents
/// step with its capture slots enabled.
async fn at_documents_step_with_consent() -> Mounted {
    let m = mounted(&[("methods", methods(&["sms", "documents"]))]).await;
    m.agree().await;
    m.must("[data-method=documents]").click();
    m.expect_step("identity").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.click("Next").await;
    m.expect_step("documents").await;
    m.must("#rn-face-consent").click();
    until("the face consent", || !m.must("fieldset").has_attribute("disabled")).await;
    m
}

async fn upload_photo(m: &Mounted, facing: &str) {
    let upload = Function::new_with_args(
        "input",
        r#"return new Promise((resolve) => {
             const c = document.createElement('canvas'); c.width = 2000; c.height = 1500;
             const g = c.getContext('2d'); g.fillStyle = '#c33'; g.fillRect(0, 0, 2000, 1500);
             g.fillStyle = '#3c3'; g.fillRect(500, 300, 900, 700);
             c.toBlob((b) => {
               const dt = new DataTransfer(); dt.items.add(new File([b], 'photo.png', { type: 'image/png' }));
               input.files = dt.files; input.dispatchEvent(new Event('change', { bubbles: true })); resolve();
             }, 'image/png');
           });"#,
    );
    let input = m.must(&format!("#rn-file-{facing}"));
    let p: js_sys::Promise = upload.call1(&JsValue::NULL, &input).unwrap().dyn_into().unwrap();
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_refused_camera_s_message_goes_once_a_photo_is_uploaded_for_that_slot() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    // The person refuses the camera.
    Function::new_no_args(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('refused', 'NotAllowedError'));",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let m = at_documents_step_with_consent().await;
    let slot_text = |n: u32| m.text(&format!("fieldset:nth-of-type({n})"));
    for n in [1, 2] {
        m.must(&format!("fieldset:nth-of-type({n}) button")).click();
        until("the no-camera message", || slot_text(n).contains("The camera is not available")).await;
    }
    upload_photo(&m, "user").await;
    until("the selfie preview", || m.q("fieldset:nth-of-type(1) .rn-capture img").is_some()).await;
    assert!(m.q("fieldset:nth-of-type(1) .rn-error").is_none(), "the selfie still says: {}", slot_text(1));
    // Only the slot that got its photo: the document still has no camera and no photo.
    assert!(slot_text(2).contains("The camera is not available"), "{}", slot_text(2));
    // Retake brings back the camera button, so the person may try the camera again.
    m.click("Retake").await;
    until("the camera button", || slot_text(1).contains("Use the camera")).await;
    assert!(m.q("fieldset:nth-of-type(1) .rn-error").is_none());
    // The prototype's getUserMedia again, for the tests after this one in the same page.
    Function::new_no_args("delete navigator.mediaDevices.getUserMedia;").call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn a_camera_that_opens_after_a_photo_was_uploaded_is_stopped() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    // The permission prompt stays open until the test answers it, with a real (canvas) stream.
    Function::new_no_args(
        "navigator.mediaDevices.getUserMedia = () => new Promise((resolve) => {
           window.__rnGrant = () => { const c = document.createElement('canvas'); c.getContext('2d').fillRect(0, 0, 4, 4);
             window.__rnStream = c.captureStream(); resolve(window.__rnStream); };
         });",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let m = at_documents_step_with_consent().await;
    m.must("fieldset:nth-of-type(1) button").click();
    tick().await;
    upload_photo(&m, "user").await;
    until("the selfie preview", || m.q("fieldset:nth-of-type(1) .rn-capture img").is_some()).await;
    Function::new_no_args("window.__rnGrant();").call0(&JsValue::NULL).unwrap();
    let track_state = || {
        Function::new_no_args("return window.__rnStream.getVideoTracks()[0].readyState;")
            .call0(&JsValue::NULL)
            .unwrap()
            .as_string()
    };
    until("the late camera to be stopped", || track_state().as_deref() == Some("ended")).await;
    assert!(m.q("fieldset:nth-of-type(1) .rn-capture img").is_some(), "the uploaded photo stays");
    assert!(m.q("fieldset:nth-of-type(1) video").is_none());
    Function::new_no_args("delete navigator.mediaDevices.getUserMedia;").call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn documents_photos_are_downscaled_jpegs_sealed_with_the_identity_and_the_result_is_in_review() {
    use base64::Engine as _;
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = at_documents_step_with_consent().await;
    for facing in ["user", "environment"] {
        upload_photo(&m, facing).await;
        until("preview", || {
            m.root().query_selector_all(".rn-capture img").unwrap().length() >= if facing == "user" { 1 } else { 2 }
        })
        .await;
    }
    assert!(!m.disabled("Submit for review"));
    m.click("Submit for review").await;
    m.expect_step("in_review").await;
    assert_eq!(m.heading(), "Sent for review");
    // The server's due instant is 24:00 Beijing time of the last working day: the person sees that day.
    assert!(m.text("[role=status]").contains("by 2026-12-07 (within 5 working days)"), "{}", m.text("[role=status]"));
    let complete: Vec<JsValue> =
        m.events.borrow().iter().filter(|(n, _)| n == "complete").map(|(_, d)| d.clone()).collect();
    assert_eq!(get(&complete[0], "status").as_string().as_deref(), Some("pending_review"));
    assert_eq!(get(&complete[0], "reviewDue").as_string().as_deref(), Some("2026-12-07T16:00:00Z"));

    let reqs = requests();
    let (path, body, _) = reqs.last().unwrap();
    assert_eq!(path, "/v1/sessions/ses_test/documents");
    let sealed: SealedRequest = serde_json::from_str(body.as_deref().unwrap()).unwrap();
    let plain = kp.open(&sealed.envelope, "ses_test", p::Step::Documents).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(v["identity"]["method"], "documents");
    assert_eq!(v["identity"]["name"], "张三");
    assert!(v["face_consent"]["accepted_at"].as_i64().unwrap() > 0);
    for key in ["selfie_jpeg", "document_jpeg"] {
        let jpeg = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v[key].as_str().unwrap()).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "{key} is a JPEG");
        assert!(jpeg.len() <= 24_000, "{key} is {} bytes", jpeg.len());
        assert_eq!(jpeg_size(&jpeg), Some((640, 480)), "{key} downscaled to 640 px on its long side");
    }
}
