//! A mobile app's webview: the page defines `window.ReactNativeWebView.postMessage` and receives the events.

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::{Result, ensure, wait_for};
use serde_json::Value;

use crate::common::{Demo, PRIMARY, STEP_TIMEOUT};

fn bridge_messages(d: &Demo) -> Result<Vec<Value>> {
    let v = d.js("return window.realnameBridgeMessages;", vec![])?;
    let list = v.as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|m| {
            let s = m.as_str().ok_or_else(|| realname_e2e::err!("React Native gets strings; got {m}"))?;
            serde_json::from_str(s).map_err(|e| realname_e2e::err!("bridge message is not JSON ({e}): {s}"))
        })
        .collect()
}

#[test]
fn webview_bridge_receives_the_widget_events() -> Result<()> {
    let d = Demo::open("webview", &Profile::mobile(), &Options::default(), "/webview.html")?;
    d.wait_step("consent")?;
    wait_for(STEP_TIMEOUT, "the ready message on the bridge", || {
        Ok(bridge_messages(&d)?.iter().any(|m| m["source"] == "realname" && m["type"] == "ready").then_some(()))
    })?;
    d.click("#rn-consent")?;
    d.click(PRIMARY)?;
    d.wait_step("method")?;
    let msgs = wait_for(STEP_TIMEOUT, "a step message on the bridge", || {
        let m = bridge_messages(&d)?;
        Ok(m.iter().any(|m| m["type"] == "step" && m.to_string().contains("method")).then_some(m))
    })?;
    let shown = d.js("return document.querySelectorAll('#bridge-log li').length;", vec![])?;
    ensure!(shown.as_u64() == Some(msgs.len() as u64), "the page shows {shown} of {} messages", msgs.len());
    ensure!(d.horizontal_overflow()? <= 0, "the webview page scrolls sideways");
    d.check_step("webview-method", true)?;
    Ok(())
}
