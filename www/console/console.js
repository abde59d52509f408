// The review console: plain DOM, no framework, no inline script (CSP script-src 'self').
// The bearer token lives in sessionStorage, so closing the tab logs out.
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("realname.console.token");
let reasonCodes = { approve: [], reject: [] };
let currentCase = null;
let currentTicket = null;
let me = null;
let currentSession = { case: null, complaint: null };

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (res.status === 401 && path !== "/console/api/login") { showLogin(); }
  if (!res.ok) {
    const msg = data && data.error ? data.error.message + " (" + data.error.code + ")" : "HTTP " + res.status;
    throw new Error(msg);
  }
  return data;
}

// Times are shown in Beijing time as "YYYY-MM-DD HH:MM"; the caller's locale does not matter.
const beijing = (ms) => new Date(ms + 8 * 3600 * 1000).toISOString();
const fmt = (ms) => { const s = beijing(ms); return s.slice(0, 10) + " " + s.slice(11, 16); };
// A due time is the end of a working day (24:00 Beijing, stored as the next midnight): show that day.
const fmtDue = (ms) => beijing(ms).slice(11, 19) === "00:00:00" ? beijing(ms - 1).slice(0, 10) + " 24:00" : fmt(ms);

// Words for the codes the API speaks; an unknown code is shown as it is.
const LABELS = {
  documents: "证件照片 Documents", unknown_region: "未知地区码 Unknown region", max_accounts: "账号数已达上限 Account limit",
  minor: "未满14周岁 Under 14",
  face: "人脸照片 Face", id_front: "证件正面 ID front", id_back: "证件背面 ID back",
  documents_match: "人证一致 Documents match", manual_check_passed: "人工核验通过 Manual check passed",
  guardian_consent_verified: "监护人同意已核实 Guardian consent verified",
  photo_unreadable: "照片无法辨认 Photo unreadable", face_mismatch: "人脸不符 Face mismatch",
  document_invalid: "证件无效 Document invalid", document_expired: "证件过期 Document expired",
  identity_mismatch: "身份信息不符 Identity mismatch", account_limit: "超出账号数 Account limit",
  minor_not_permitted: "未成年人不允许 Minor not permitted", suspected_fraud: "疑似欺诈 Suspected fraud",
  wrong_result: "结果有误 Wrong result", data_error: "信息有误 Data error", privacy: "隐私 Privacy", other: "其他 Other",
  resident_id: "居民身份证 Resident ID", hk_mo_tw_residence_permit: "港澳台居民居住证 HK/MO/TW residence permit",
  foreign_permanent_resident_id: "外国人永久居留身份证 Foreign permanent resident ID",
  hk_mo_travel_permit: "港澳居民来往内地通行证 HK/MO travel permit", tw_travel_permit: "台湾居民来往大陆通行证 TW travel permit",
  chinese_passport: "中国护照 Chinese passport", passport: "护照 Passport",
  driving_licence: "机动车驾驶证 Driving licence",
  open: "待处理 open", answered: "已答复 answered", closed: "已关闭 closed",
};
const label = (code) => LABELS[code] || code;

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value == null ? "" : String(value);
  if (cls) el.className = cls;
  return el;
}

function defs(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) {
    dl.append(text("dt", k), text("dd", v == null || v === "" ? "—" : v));
  }
}

function showLogin() {
  token = null;
  sessionStorage.removeItem("realname.console.token");
  $("app-view").hidden = true;
  $("who").hidden = true;
  $("login-view").hidden = false;
}

async function showApp() {
  me = await api("GET", "/console/api/me");
  $("who-name").textContent = me.username + " · " + me.role + (me.site ? " · " + me.site : "");
  $("who").hidden = false;
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  reasonCodes = await api("GET", "/console/api/reason-codes");
  await loadQueue();
  await loadComplaints();
}

// A list row: the whole row opens the item for a mouse; its id is a real button for the keyboard and screen readers.
function row(cells, overdue, onOpen) {
  const tr = document.createElement("tr");
  if (overdue) tr.className = "overdue";
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.append(c); else td.textContent = c;
    tr.append(td);
  }
  tr.addEventListener("click", (e) => { if (!(e.target instanceof HTMLButtonElement)) onOpen(); });
  return tr;
}

function openButton(id, onOpen) {
  const b = text("button", id, "link");
  b.type = "button";
  b.addEventListener("click", onOpen);
  return b;
}

function dueCell(ms, overdue, provisional) {
  const span = document.createElement("span");
  span.textContent = fmtDue(ms) + (provisional ? " *" : "");
  if (overdue) { span.append(" ", text("span", "逾期 overdue", "badge")); }
  return span;
}

async function loadQueue() {
  const q = await api("GET", "/console/api/cases");
  $("cases-count").textContent = "(" + q.pending + (q.overdue ? ", " + q.overdue + " overdue" : "") + ")";
  const tbody = $("queue").tBodies[0];
  tbody.replaceChildren();
  for (const c of q.cases) {
    tbody.append(row([dueCell(c.due_at, c.overdue, c.due_provisional), fmt(c.submitted_at), c.reasons.map(label).join(", "), c.site,
      openButton(c.id, () => openCase(c.id))], c.overdue, () => openCase(c.id)));
  }
  $("queue-empty").hidden = q.cases.length > 0;
}

async function openCase(id) {
  const v = await api("GET", "/console/api/cases/" + encodeURIComponent(id));
  currentCase = id;
  $("case-id").textContent = id;
  defs($("case-data"), [
    ["姓名 Name", v.name], ["证件号 Number", v.id_number], ["证件类型 Document", v.document_kind && label(v.document_kind)],
    ["手机 Phone", v.phone], ["邮箱 Email", v.email], ["原因 Reasons", v.case.reasons.map(label).join(", ")],
    ["截止 Due", fmtDue(v.case.due_at)], ["会话 Session", v.case.session_id],
  ].concat(v.case.reasons.includes("minor") ? [["监护人同意 Guardian consent", guardianText(v.guardian_consent)]] : []));
  const imgs = $("case-images");
  imgs.replaceChildren();
  for (const im of v.images) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.alt = label(im.kind);
    img.src = "data:" + im.content_type + ";base64," + im.data;
    fig.append(img, text("figcaption", label(im.kind)));
    imgs.append(fig);
  }
  showErase("case", v.case.session_id);
  $("decision-form").reset();
  fillReasons();
  $("decision-error").textContent = "";
  $("case-view").hidden = false;
  $("case-view").scrollIntoView({ block: "start" });
  $("case-heading").focus({ preventScroll: true });
}

// The guardian's consent of a child under 14 as the server recorded it (text version, when, audit entry).
function guardianText(g) {
  if (!g) return "无记录 None on record";
  return "版本 version " + g.version + " · 同意于 accepted " + fmt(g.accepted_at * 1000) + " · 审计 audit #" + g.audit_seq;
}

function fillReasons() {
  const d = document.querySelector("input[name=decision]:checked");
  const sel = $("reason-code");
  sel.replaceChildren();
  if (!d) {
    const o = text("option", "先选择通过或拒绝 Choose approve or reject first");
    o.value = "";
    sel.append(o);
  }
  for (const code of d ? reasonCodes[d.value] : []) {
    const o = text("option", label(code));
    o.value = code;
    sel.append(o);
  }
}

async function submitDecision(e) {
  e.preventDefault();
  const d = document.querySelector("input[name=decision]:checked");
  try {
    await api("POST", "/console/api/cases/" + encodeURIComponent(currentCase) + "/decision",
      { decision: d ? d.value : "", reason_code: $("reason-code").value });
    $("case-view").hidden = true;
    $("status").textContent = "已提交 Decision recorded for " + currentCase;
    currentCase = null;
    await loadQueue();
  } catch (err) {
    $("decision-error").textContent = err.message;
  }
}

async function loadComplaints() {
  const q = await api("GET", "/console/api/complaints");
  $("complaints-count").textContent = "(" + q.open + (q.overdue ? ", " + q.overdue + " overdue" : "") + ")";
  const tbody = $("complaints").tBodies[0];
  tbody.replaceChildren();
  for (const c of q.complaints) {
    tbody.append(row([dueCell(c.due_at, c.overdue, c.due_provisional), openButton(c.ticket, () => openComplaint(c.ticket)),
      label(c.category), label(c.status), c.site], c.overdue, () => openComplaint(c.ticket)));
  }
  $("complaints-empty").hidden = q.complaints.length > 0;
}

async function openComplaint(ticket) {
  const v = await api("GET", "/console/api/complaints/" + encodeURIComponent(ticket));
  currentTicket = ticket;
  $("complaint-ticket").textContent = ticket;
  defs($("complaint-data"), [
    ["类别 Category", label(v.complaint.category)], ["状态 Status", label(v.complaint.status)], ["提交 Filed", fmt(v.complaint.filed_at)],
    ["截止 Due", fmtDue(v.complaint.due_at)], ["会话 Session", v.complaint.session_id], ["内容 Message", v.message == null ? "（已删除 erased）" : v.message],
    ["答复 Answer", v.answer],
  ]);
  // Once the text is gone the person's data was erased already: nothing left to offer.
  showErase("complaint", v.message == null ? null : v.complaint.session_id);
  $("answer-form").reset();
  $("answer-error").textContent = "";
  $("complaint-view").hidden = false;
  $("complaint-heading").focus();
}

async function submitAnswer(e) {
  e.preventDefault();
  try {
    await api("POST", "/console/api/complaints/" + encodeURIComponent(currentTicket) + "/answer", { answer: $("answer-text").value });
    $("status").textContent = "已答复 Answered " + currentTicket;
    await openComplaint(currentTicket);
    await loadComplaints();
  } catch (err) {
    $("answer-error").textContent = err.message;
  }
}

async function closeComplaint() {
  try {
    await api("POST", "/console/api/complaints/" + encodeURIComponent(currentTicket) + "/close");
    $("complaint-view").hidden = true;
    $("status").textContent = "已关闭 Closed " + currentTicket;
    await loadComplaints();
  } catch (err) {
    $("answer-error").textContent = err.message;
  }
}

// Deletion on request is an admin's action; the form needs an explicit confirmation before it can be sent.
function showErase(where, sessionId) {
  currentSession[where] = sessionId || null;
  const form = $(where + "-erase");
  form.reset();
  $(where + "-erase-error").textContent = "";
  form.hidden = !(me && me.role === "admin" && sessionId);
}

async function erase(where, e) {
  e.preventDefault();
  const id = currentSession[where];
  try {
    const r = await api("POST", "/console/api/sessions/" + encodeURIComponent(id) + "/erase");
    $("status").textContent = "已删除 Erased " + r.session_id + ": " + (r.identity_wiped ? "身份信息已删除 identity data deleted" : "无身份信息 no identity data left") +
      (r.case_id ? "; 案件 case " + r.case_id + " 图片已删除 images deleted" : "") +
      (r.complaints.length ? "; 投诉内容已删除 complaint texts deleted: " + r.complaints.join(", ") : "");
    if (where === "case") {
      $("case-view").hidden = true;
      await loadQueue();
    } else {
      await openComplaint(currentTicket);
      await loadComplaints();
    }
  } catch (err) {
    $(where + "-erase-error").textContent = err.message;
  }
}

function tab(which) {
  const cases = which === "cases";
  $("cases-pane").hidden = !cases;
  $("complaints-pane").hidden = cases;
  $("tab-cases").setAttribute("aria-pressed", String(cases));
  $("tab-complaints").setAttribute("aria-pressed", String(!cases));
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try {
      const r = await api("POST", "/console/api/login", { username: $("username").value, password: $("password").value });
      token = r.token;
      sessionStorage.setItem("realname.console.token", token);
      $("password").value = "";
      await showApp();
    } catch (err) {
      $("login-error").textContent = err.message;
    }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/console/api/logout"); } catch (_) { /* logged out either way */ }
    showLogin();
  });
  $("tab-cases").addEventListener("click", () => tab("cases"));
  $("tab-complaints").addEventListener("click", () => tab("complaints"));
  for (const r of document.querySelectorAll("input[name=decision]")) r.addEventListener("change", fillReasons);
  $("decision-form").addEventListener("submit", submitDecision);
  $("answer-form").addEventListener("submit", submitAnswer);
  $("close-complaint").addEventListener("click", closeComplaint);
  $("case-erase").addEventListener("submit", (e) => erase("case", e));
  $("complaint-erase").addEventListener("submit", (e) => erase("complaint", e));
  if (token) showApp().catch(showLogin); else showLogin();
});
