//! Language and look: zh-CN, zh-TW and en; the dark theme; a theme object changing the computed colours.

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::{Result, ensure, wait_for};
use serde_json::json;

use crate::common::{Demo, STEP_TIMEOUT};

#[test]
fn locale_switch_changes_the_widget_language() -> Result<()> {
    let d = Demo::signup("locale", &Profile::desktop(), &Options::default())?;
    // (locale, a phrase of the consent step, the widget's lang attribute)
    for (locale, phrase, lang) in [
        ("zh-TW", "個人資料處理告知與同意", "zh-TW"),
        ("en", "Agree and continue", "en"),
        ("zh-CN", "个人信息处理告知与同意", "zh-CN"),
    ] {
        d.choose("#locale", locale)?;
        let shown = wait_for(STEP_TIMEOUT, &format!("the widget in {locale}"), || {
            let v = d.js("const s = deepQuery('section.rn'); return s && [s.lang, s.innerText];", vec![])?;
            Ok((v[0] == json!(lang)).then(|| v[1].as_str().unwrap_or_default().to_string()))
        })?;
        ensure!(shown.contains(phrase), "{locale}: expected {phrase:?} in {shown:?}");
        d.check_step(&format!("consent-{locale}"), false)?;
    }
    let zh_cn = d.widget_text()?;
    ensure!(!zh_cn.contains("Agree and continue") && !zh_cn.contains("實名認證"), "zh-CN still shows other languages");
    Ok(())
}

#[test]
fn a_theme_object_changes_the_computed_colours_and_dark_mode_applies() -> Result<()> {
    let d = Demo::signup("theme", &Profile::desktop(), &Options::default())?;
    let colours = || -> Result<serde_json::Value> {
        d.js(
            "const s = deepQuery('section.rn'); const b = deepQuery('section.rn [part~=button-primary]');
             return { text: getComputedStyle(s).color, primary: getComputedStyle(b).backgroundColor,
                      scheme: getComputedStyle(s).colorScheme };",
            vec![],
        )
    };
    let light = colours()?;
    d.choose("#theme", "dark")?;
    let dark = wait_for(STEP_TIMEOUT, "dark colours", || {
        let c = colours()?;
        Ok((c["scheme"] == "dark").then_some(c))
    })?;
    ensure!(dark["text"] != light["text"], "dark mode kept the text colour {}", light["text"]);
    d.choose("#theme", "light")?;
    // A site's theme object through the JS API: setTheme on the element (or its options) maps to CSS variables.
    d.js(
        "const w = document.querySelector('realname-verify');
         w.setTheme({ colorPrimary: '#0a7d32', colorText: '#222244', radius: '2px' });
         return 0;",
        vec![],
    )?;
    let themed = wait_for(STEP_TIMEOUT, "the theme object to apply", || {
        let c = colours()?;
        Ok((c["primary"] == "rgb(10, 125, 50)").then_some(c))
    })?;
    ensure!(themed["text"] == "rgb(34, 34, 68)", "colorText did not apply: {themed}");
    // These light-mode colours are the site's choice: checked (and shown) in light mode only.
    realname_e2e::axe::assert_clean(&d.browser, "themed (light)")?;
    // The widget's top at the top of the viewport: the step is below the fold of the sign-up page.
    d.js("document.querySelector('realname-verify').scrollIntoView({ block: 'start' }); return 0;", vec![])?;
    realname_e2e::shots::save(&d.browser, &d.test, "03-themed", "light")?;
    Ok(())
}

#[test]
fn the_docs_brand_colour_passes_axe_in_dark_mode_through_its_derived_variant() -> Result<()> {
    // docs/theming.md's example: `auto` with a brand red chosen for white pages (2.78:1 on the dark surface).
    let d = Demo::signup("theme-brand-dark", &Profile::desktop(), &Options::default())?;
    d.browser.prefers_color_scheme("dark")?;
    d.js(
        "document.querySelector('realname-verify').setTheme({ mode: 'auto', colorPrimary: '#b4282d' }); return 0;",
        vec![],
    )?;
    let colours = wait_for(STEP_TIMEOUT, "the dark theme with the brand colour", || {
        let v = d.js(
            "const s = deepQuery('section.rn'); const b = deepQuery('section.rn [part~=button-secondary]');
             return { scheme: getComputedStyle(s).colorScheme, link: getComputedStyle(b).color };",
            vec![],
        )?;
        Ok((v["scheme"] == "dark").then_some(v))
    })?;
    ensure!(colours["link"] != "rgb(180, 40, 45)", "the light brand colour is used on the dark surface: {colours}");
    realname_e2e::axe::assert_clean(&d.browser, "brand colour (dark, auto)")?;
    d.js("document.querySelector('realname-verify').scrollIntoView({ block: 'start' }); return 0;", vec![])?;
    realname_e2e::shots::save(&d.browser, &d.test, "01-brand-dark", "dark")?;
    d.browser.prefers_color_scheme("light")?;
    let light = wait_for(STEP_TIMEOUT, "the light theme", || {
        let v = d.js(
            "const b = deepQuery('section.rn [part~=button-secondary]'); return getComputedStyle(b).color;",
            vec![],
        )?;
        Ok((v == "rgb(180, 40, 45)").then_some(v))
    })?;
    ensure!(light == "rgb(180, 40, 45)", "light mode shows the brand colour itself: {light}");
    Ok(())
}

#[test]
fn the_playground_edits_dark_twins_in_dark_mode_and_removes_cleared_tokens() -> Result<()> {
    let d = Demo::open("playground", &Profile::desktop(), &Options::default(), "/playground.html")?;
    d.wait_step("consent")?;
    let set = |id: &str, value: &str| {
        d.js(
            "const i = document.getElementById(arguments[0]); i.value = arguments[1];
             i.dispatchEvent(new Event('input', { bubbles: true })); return 0;",
            vec![json!(id), json!(value)],
        )
    };
    let style = |prop: &str| -> Result<String> {
        let v = d.js(
            "const s = deepQuery('section.rn'); const b = deepQuery('section.rn [part~=button-primary]');
             return { radius: getComputedStyle(s).borderTopLeftRadius, primary: getComputedStyle(b).backgroundColor };",
            vec![],
        )?;
        Ok(v[prop].as_str().unwrap_or_default().to_string())
    };
    // A token set, then emptied: the widget goes back to the default (setTheme gets null).
    set("t-radius", "2px")?;
    wait_for(STEP_TIMEOUT, "the radius", || Ok((style("radius")? == "2px").then_some(())))?;
    set("t-radius", "")?;
    wait_for(STEP_TIMEOUT, "the default radius again", || Ok((style("radius")? == "10px").then_some(())))?;
    // In dark mode the colour picker edits the dark twin, which the dark widget shows.
    d.choose("#mode", "dark")?;
    set("t-colorPrimary", "#ff8800")?;
    wait_for(STEP_TIMEOUT, "the dark primary", || Ok((style("primary")? == "rgb(255, 136, 0)").then_some(())))?;
    let css = d.js("return document.getElementById('css-snippet').textContent;", vec![])?;
    let css = css.as_str().unwrap_or_default();
    ensure!(css.contains("--rn-color-primary-dark: #ff8800") && css.contains("#verify"), "{css}");
    realname_e2e::shots::save(&d.browser, &d.test, "01-dark-twin", "dark")?;
    Ok(())
}
