//! The sample configuration `realname-server init` writes.

/// The sample `realname.toml` written by `realname-server init`, for one site with the given key hash.
pub fn sample_toml(secret_key_sha256: &str, webhook_secret: &str) -> String {
    format!(
        r#"# realname-server configuration. Every key can be overridden by an environment variable
# REALNAME__SECTION__KEY (e.g. REALNAME__SERVER__ADDR=0.0.0.0:8080); DATABASE_URL sets database.url.

[server]
addr = "127.0.0.1:8080"
public_url = "https://verify.example.com"
log_format = "json"          # json | text
log_level = "info"
body_limit = 65536
trust_forwarded_for = false  # true only behind a reverse proxy you control
trusted_proxy_hops = 1       # proxies you control in front of the server (the client is that many from the right)

[http]
header_timeout_ms = 10000    # a request head must arrive this long after its first byte
body_timeout_ms = 30000      # a body this long after its head (else 408)
idle_timeout_ms = 60000      # a kept-alive connection waits this long for its next request
max_connections = 4096       # keep below the open-file limit (ulimit -n) minus ~256
max_connections_per_ip = 256 # 0 behind a reverse proxy (every connection comes from the proxy)
upload_memory_bytes = 67108864 # documents bodies held at once (12 MiB each at most); more: 503 overloaded
ready_timeout_ms = 2000      # /readyz answers 503 when the database takes longer
hsts_max_age_secs = 0        # e.g. 31536000: Strict-Transport-Security on every answer (HTTPS deployments only)
hsts_include_subdomains = false

[database]
url = "sqlite://data/realname.db"   # or postgres://user:pass@host/db

[keys]
dir = "data/keys"            # HPKE, token-signing, code-HMAC and vault keys (files are 0600)
hpke_grace_secs = 604800     # a rotated HPKE key keeps opening envelopes this long
publish_secs = 3600          # a key added by a rotation seals or signs this long after an instance loaded it
reload_secs = 30             # key files are read again this often (and on SIGHUP)

[audit]
checkpoint_dir = "data/audit"  # signed audit checkpoints: somewhere database writers cannot write (docs/review.md)
checkpoint_secs = 60           # a new checkpoint this often when the log grew, and one at shutdown
# checkpoint_url = "https://logs.example.internal/realname-checkpoints"   # optional external copy (POST per line)

[session]
client_secret_ttl_secs = 1800
session_ttl_secs = 3600
token_ttl_secs = 900
handoff_ttl_secs = 300       # a code that moves a session to a phone works this long, once

[codes]
ttl_secs = 300
max_attempts = 5
resend_cooldown_secs = 60

[limits]
per_destination_minute = 1
per_destination_hour = 5
per_destination_day = 10
per_ip_hour = 20
per_session = 5
refusals_per_client_destination_hour = 10  # refusals recorded per (client IP, phone/email); never spend its quota
handoffs_per_session = 5     # handoff codes a session may make
handoffs_per_ip_hour = 30
handoff_redeems_per_ip_hour = 20  # redemption attempts, right or wrong: bounds guessing

[sms]
provider = "outbox"          # outbox (demo only) | aliyun | tencent | webhook

[sms.aliyun]
access_key_id = ""
access_key_secret = ""       # better: REALNAME__SMS__ALIYUN__ACCESS_KEY_SECRET
sign_name = ""
template_code = ""

[sms.tencent]
secret_id = ""
secret_key = ""              # better: REALNAME__SMS__TENCENT__SECRET_KEY
sdk_app_id = ""
sign_name = ""
template_id = ""

[email]
provider = "outbox"          # outbox (demo only) | smtp
host = "smtp.example.com"
port = 587
tls = "starttls"             # starttls | tls | none (loopback only)
username = ""
password = ""                # better: REALNAME__EMAIL__PASSWORD
from = "realname <no-reply@example.com>"

[checks]
timeout_ms = 3000                  # a check slower than this (retries included) is `unavailable`
retries = 2                        # further attempts after a network error or 5xx, within timeout_ms
breaker_failures = 5               # consecutive `unavailable` that open a provider's breaker (0: never)
breaker_open_ms = 30000            # an open breaker answers `unavailable` without calling for this long
cache_ttl_secs = 0                 # reuse answers for the same identity this long (0: off)
corrections_per_session = 3        # mismatches / no-record refusals a session allows; the last one fails it
mismatches_per_identity_day = 5    # per ID number (blind index), UTC day, every site

[checks.tencent]                   # FaceID (慧眼); better: REALNAME__CHECKS__TENCENT__SECRET_KEY
secret_id = ""
secret_key = ""

[checks.aliyun]                    # Cloudauth; better: REALNAME__CHECKS__ALIYUN__ACCESS_KEY_SECRET
access_key_id = ""
access_key_secret = ""

[checks.nppa]                      # 网络游戏防沉迷实名认证系统 (id_match only)
app_id = ""
biz_id = ""
secret_key = ""                    # 32 hex; better: REALNAME__CHECKS__NPPA__SECRET_KEY

[checks.webhook]                   # your own check service (docs/checks.md)
url = ""
secret = ""                        # better: REALNAME__CHECKS__WEBHOOK__SECRET

[[sites]]
id = "example"
name = "Example shop"
origins = ["https://shop.example.com"]
secret_key_sha256 = "{secret_key_sha256}"
methods = ["sms", "email"]
webhook_url = "https://shop.example.com/hooks/realname"
webhook_secret = "{webhook_secret}"
max_accounts_per_identity = 1
# handoff_url = "https://shop.example.com/verify-on-phone"   # phone page for "continue on your phone" (protocol 4.13)
# Authoritative checks (docs/checks.md): providers tencent, aliyun, nppa, webhook (settings above) and demo
# (fixtures, for trying the flow).
# required_checks = ["id_match"]   # never verified without a `match`
# [[sites.checks]]
# check = "id_match"               # name + resident ID number (二要素)
# provider = "tencent"
# unavailable = "review"           # no_record / unavailable: review (go on, queue a review) | refuse
# [[sites.checks]]
# check = "phone_owner"            # name + number + phone (三要素), SMS method only
# provider = "aliyun"
"#
    )
}
