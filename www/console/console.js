// The review console: plain DOM, no framework, no inline script (CSP script-src 'self').
// The bearer token lives in sessionStorage, so closing the tab logs out.
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("realname.console.token");
let reasonCodes = { approve: [], reject: [] };
let currentCase = null;
let currentTicket = null;

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

const fmt = (ms) => new Date(ms).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });

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
  const me = await api("GET", "/console/api/me");
  $("who-name").textContent = me.username + " · " + me.role + (me.site ? " · " + me.site : "");
  $("who").hidden = false;
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  reasonCodes = await api("GET", "/console/api/reason-codes");
  await loadQueue();
  await loadComplaints();
}

function row(cells, overdue, onOpen) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  if (overdue) tr.className = "overdue";
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.append(c); else td.textContent = c;
    tr.append(td);
  }
  tr.addEventListener("click", onOpen);
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") onOpen(); });
  return tr;
}

function dueCell(ms, overdue, provisional) {
  const span = document.createElement("span");
  span.textContent = fmt(ms) + (provisional ? " *" : "");
  if (overdue) { span.append(" ", text("span", "逾期 overdue", "badge")); }
  return span;
}

async function loadQueue() {
  const q = await api("GET", "/console/api/cases");
  $("cases-count").textContent = "(" + q.pending + (q.overdue ? ", " + q.overdue + " overdue" : "") + ")";
  const tbody = $("queue").tBodies[0];
  tbody.replaceChildren();
  for (const c of q.cases) {
    tbody.append(row([dueCell(c.due_at, c.overdue, c.due_provisional), fmt(c.submitted_at), c.reasons.join(", "), c.site, c.id],
      c.overdue, () => openCase(c.id)));
  }
  $("queue-empty").hidden = q.cases.length > 0;
}

async function openCase(id) {
  const v = await api("GET", "/console/api/cases/" + encodeURIComponent(id));
  currentCase = id;
  $("case-id").textContent = id;
  defs($("case-data"), [
    ["姓名 Name", v.name], ["证件号 Number", v.id_number], ["证件类型 Document", v.document_kind],
    ["手机 Phone", v.phone], ["邮箱 Email", v.email], ["原因 Reasons", v.case.reasons.join(", ")],
    ["截止 Due", fmt(v.case.due_at)], ["会话 Session", v.case.session_id],
  ]);
  const imgs = $("case-images");
  imgs.replaceChildren();
  for (const im of v.images) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.alt = im.kind;
    img.src = "data:" + im.content_type + ";base64," + im.data;
    fig.append(img, text("figcaption", im.kind));
    imgs.append(fig);
  }
  $("decision-form").reset();
  $("reason-code").replaceChildren();
  $("decision-error").textContent = "";
  $("case-view").hidden = false;
  $("case-view").scrollIntoView({ block: "start" });
}

function fillReasons() {
  const d = document.querySelector("input[name=decision]:checked");
  const sel = $("reason-code");
  sel.replaceChildren();
  for (const code of d ? reasonCodes[d.value] : []) {
    const o = document.createElement("option");
    o.value = code; o.textContent = code;
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
    tbody.append(row([dueCell(c.due_at, c.overdue, c.due_provisional), c.ticket, c.category, c.status, c.site],
      c.overdue, () => openComplaint(c.ticket)));
  }
  $("complaints-empty").hidden = q.complaints.length > 0;
}

async function openComplaint(ticket) {
  const v = await api("GET", "/console/api/complaints/" + encodeURIComponent(ticket));
  currentTicket = ticket;
  $("complaint-ticket").textContent = ticket;
  defs($("complaint-data"), [
    ["类别 Category", v.complaint.category], ["状态 Status", v.complaint.status], ["提交 Filed", fmt(v.complaint.filed_at)],
    ["截止 Due", fmt(v.complaint.due_at)], ["会话 Session", v.complaint.session_id], ["内容 Message", v.message],
    ["答复 Answer", v.answer],
  ]);
  $("answer-form").reset();
  $("answer-error").textContent = "";
  $("complaint-view").hidden = false;
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
  if (token) showApp().catch(showLogin); else showLogin();
});
