//! The email method to the end, with the code delivered by the real server over SMTP to a sink on loopback.

use std::time::Duration;

use realname_e2e::browser::Profile;
use realname_e2e::server::Options;
use realname_e2e::smtp::{SmtpSink, find_code};
use realname_e2e::{Result, ensure, netlog};

use crate::common::{Demo, ID_ADULT, NAME, PRIMARY};

const EMAIL: &str = "zhang.san@example.test";

#[test]
fn email_method_to_the_end_through_a_real_smtp_server() -> Result<()> {
    let sink = SmtpSink::start()?;
    let opts = Options::with_config(&format!(
        "[email]\nprovider = \"smtp\"\nhost = \"{}\"\nport = {}\ntls = \"none\"\nfrom = \"Lantern Books <verify@lantern.test>\"\n",
        sink.host, sink.port
    ));
    let d = Demo::signup("email", &Profile::desktop().with_netlog(), &opts)?;
    d.consent_and_choose("email")?;
    d.fill_identity(NAME, ID_ADULT, ("#rn-email", EMAIL))?;
    d.check_step("identity-email", false)?;
    d.click(PRIMARY)?;
    d.wait_step("code")?;
    d.check_step("code-email", false)?;
    let mail = sink.wait_for_mail(EMAIL, Duration::from_secs(20))?;
    let text = mail.text();
    let code = find_code(&text, 6).ok_or_else(|| realname_e2e::err!("no 6-digit code in the mail:\n{text}"))?;
    ensure!(mail.from.contains("verify@lantern.test"), "envelope sender {:?}", mail.from);
    d.fill("#rn-code", &code)?; // the sixth digit submits
    d.wait_step("verified")?;
    // The outbox of demo mode is not where this code went: it went out over SMTP.
    let outbox = realname_e2e::http::get(&d.server.url("/dev/outbox"))?.json()?;
    ensure!(!outbox.to_string().contains(&code), "the email code was also put in the outbox: {outbox}");
    let reqs = netlog::requests(&d.browser)?;
    ensure!(netlog::unsealed_steps(&reqs).is_empty(), "unsealed step bodies: {:?}", netlog::unsealed_steps(&reqs));
    let leaks = netlog::leaks(&reqs, &[NAME, ID_ADULT, EMAIL, &code]);
    ensure!(leaks.is_empty(), "plaintext personal data on the wire:\n{}", leaks.join("\n"));
    Ok(())
}
