//! The identity form's messages for numbers and addresses that used to be explained wrongly: old 15-digit numbers,
//! travel permits, internationalised email; plurals, capitals, and fonts for Traditional Chinese.

use realname_widget::i18n::{Key, Locale};

use super::*;

fn number_message(m: &Mounted) -> String {
    m.text("#rn-number-error")
}

async fn choose_kind(m: &Mounted, kind: &str) {
    let select: web_sys::HtmlSelectElement = m.must("#rn-kind").dyn_into().unwrap();
    select.set_value(kind);
    select.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    tick().await;
}

#[wasm_bindgen_test]
async fn old_15_digit_numbers_are_explained_with_their_own_date_and_new_form() {
    let m = at_identity(&["sms"]).await;
    // 1990-02-30 in an old number: its date is characters 7–12 (YYMMDD), and there is no 18-character form yet.
    m.type_into("#rn-number", "110105900230123").await;
    let msg = number_message(&m);
    assert!(msg.contains("Birth date 1990-02-30 does not exist; check characters 7–12"), "{msg}");
    assert!(!msg.contains("18-character"), "no new form to announce for a number with an error: {msg}");
    // A good old number: the warning names the 18-character form it will be sent as.
    m.type_into("#rn-number", "110105491231002").await;
    let msg = number_message(&m);
    assert!(
        msg.contains("This is an old 15-digit number; it will be sent as the 18-character 11010519491231002X"),
        "{msg}"
    );
    m.type_into("#rn-number", &resident_id("11010519000229001")).await;
    assert!(
        number_message(&m).contains("Birth date 1900-02-29 does not exist; check characters 7–14"),
        "{}",
        number_message(&m)
    );
}

#[wasm_bindgen_test]
async fn a_travel_permit_with_a_wrong_first_letter_says_which_letters_go_there() {
    let m = at_identity(&["sms"]).await;
    choose_kind(&m, "hk_mo_travel_permit").await;
    m.type_into("#rn-number", "X12345678").await;
    let msg = number_message(&m);
    assert!(msg.contains("Character 1 (\"X\") is wrong: only H (Hong Kong) or M (Macao) can go there"), "{msg}");
    m.type_into("#rn-number", "H1234567A").await;
    assert!(
        number_message(&m).contains("Character 9 (\"A\") is wrong: only digits can go there"),
        "{}",
        number_message(&m)
    );
}

#[wasm_bindgen_test]
async fn an_internationalised_email_address_is_accepted() {
    let m = at_identity(&["email"]).await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-number", "11010519491231002X").await;
    m.type_into("#rn-email", "张三@例子.中国").await;
    m.leave("#rn-email").await;
    assert_eq!(m.text("#rn-email-error"), "");
    assert!(!m.disabled("Next"));
}

#[wasm_bindgen_test]
fn english_messages_start_with_a_capital_letter() {
    for key in Key::ALL {
        let name = key.name();
        if !(name.starts_with("error.") || name.starts_with("warning.") || name.starts_with("code.")) {
            continue;
        }
        let first = key.text(Locale::En).chars().next().unwrap();
        assert!(first.is_uppercase() || first.is_ascii_digit() || first == '{', "{name}: {:?}", key.text(Locale::En));
    }
}

#[wasm_bindgen_test]
async fn traditional_chinese_gets_traditional_chinese_fonts() {
    let m = mounted(&[("locale", "zh-TW".into())]).await;
    let section = m.q("section").unwrap();
    let font = web_sys::window()
        .unwrap()
        .get_computed_style(&section)
        .unwrap()
        .unwrap()
        .get_property_value("font-family")
        .unwrap();
    assert!(font.contains("PingFang TC") && font.contains("Microsoft JhengHei"), "{font}");
    assert!(!font.contains("PingFang SC"), "{font}");
    let m = mounted(&[("locale", "zh-CN".into())]).await;
    let font = web_sys::window()
        .unwrap()
        .get_computed_style(&m.q("section").unwrap())
        .unwrap()
        .unwrap()
        .get_property_value("font-family")
        .unwrap();
    assert!(font.contains("PingFang SC"), "{font}");
}

#[wasm_bindgen_test]
async fn a_driving_licence_number_is_checked_and_sent_as_the_resident_id_number_it_is() {
    let kp = KeyPair::from_seed("k1", &SEED);
    stub_server(&kp);
    let m = at_identity(&["sms"]).await;
    choose_kind(&m, "driving_licence").await;
    m.type_into("#rn-name", "张三").await;
    m.type_into("#rn-phone", "13800138000").await;
    // The resident ID number's own messages: the check character it should have.
    m.type_into("#rn-number", "110105194912310021").await;
    assert!(number_message(&m).contains("The 18th character should be X"), "{}", number_message(&m));
    assert!(m.disabled("Next"));
    // A residence permit's number is no mainland licence number.
    m.type_into("#rn-number", "810000199001010019").await;
    m.leave("#rn-number").await;
    assert!(number_message(&m).contains("not a number of the chosen document kind"), "{}", number_message(&m));
    // An old 15-digit number goes as its 18-character form, under the licence's kind.
    m.type_into("#rn-number", "110105491231002").await;
    assert!(!m.disabled("Next"));
    m.click("Next").await;
    m.expect_step("code").await;
    let body = requests().iter().rev().find(|r| r.0.ends_with("/identity")).unwrap().1.clone().unwrap();
    let sealed: SealedRequest = serde_json::from_str(&body).unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&kp.open(&sealed.envelope, "ses_test", p::Step::Identity).unwrap()).unwrap();
    assert_eq!(
        (v["document_kind"].as_str(), v["number"].as_str()),
        (Some("driving_licence"), Some("11010519491231002X"))
    );
}
