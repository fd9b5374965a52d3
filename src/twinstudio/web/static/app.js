// twinstudio dashboard: a thin client of the v3 API. The key stays in this browser (localStorage).
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { key: localStorage.getItem("twinstudio-key") || "", timer: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c.nodeType ? c : String(c));
  return node;
}

function toast(message, ok = false) {
  const t = $("#toast");
  t.textContent = message;
  t.className = ok ? "ok" : "";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), ok ? 2500 : 7000);
}

async function api(method, path, body, isForm = false) {
  const headers = { "x-api-key": state.key };
  if (body && !isForm) headers["content-type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: isForm ? body : body ? JSON.stringify(body) : undefined });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = data.error || {};
    throw new Error((err.param ? `${err.param}: ` : "") + (err.message || `HTTP ${resp.status}`));
  }
  return data;
}

function guard(fn) {
  return async (...args) => {
    try { await fn(...args); } catch (e) { toast(e.message); }
  };
}

// ---- tabs and key
function showTab(name) {
  document.querySelectorAll(".tab").forEach((s) => (s.hidden = s.id !== name));
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  location.hash = name;
  refresh(name);
}

async function refresh(name) {
  if (!state.key) { toast("Paste the API key that `make run` printed (or data/bootstrap-key)."); return; }
  const fn = { videos: loadVideos, twins: loadLooks, voices: loadVoices, webhooks: loadHooks }[name];
  await guard(fn)();
}

// ---- videos
async function loadFormChoices() {
  const looks = await api("GET", "/v3/avatars/looks?limit=50");
  const sel = $("#v-avatar");
  sel.replaceChildren(...looks.data.filter((l) => l.status === "completed").map((l) =>
    el("option", { value: l.id, "data-voice": l.default_voice_id || "" }, l.name)));
  const voices = await api("GET", "/v3/voices?limit=100");
  const vsel = $("#v-voice");
  vsel.replaceChildren(...voices.data.map((v) => el("option", { value: v.voice_id }, `${v.name} — ${v.language}, ${v.gender}`)));
  const first = sel.selectedOptions[0];
  if (first && first.dataset.voice) vsel.value = first.dataset.voice;
}

function videoItem(v) {
  const busy = v.status === "pending" || v.status === "processing";
  const media = v.status === "completed"
    ? el("video", { src: v.video_url, poster: v.thumbnail_url, controls: true, preload: "none" })
    : el("img", { src: v.thumbnail_url || "", alt: "" });
  return el("div", { class: "item", "data-id": v.id },
    media,
    el("div", {},
      el("strong", {}, v.title || v.id), " ", el("span", { class: `badge ${v.status}` }, v.status),
      busy ? el("progress", { max: 100, value: v.progress || 0 }) : null,
      v.status === "completed" ? el("div", { class: "muted" }, `${v.duration?.toFixed(1)} s · ${v.width}×${v.height}`) : null,
      v.failure_message ? el("div", { class: "failed" }, v.failure_message) : null),
    el("div", { class: "actions" },
      v.video_url ? el("a", { href: v.video_url, download: "" }, "Download") : null,
      v.subtitle_url ? el("a", { href: v.subtitle_url }, "Subtitles") : null,
      el("button", { class: "danger", onclick: guard(async () => { await api("DELETE", `/v3/videos/${v.id}`); loadVideos(); }) }, "Delete")));
}

async function loadVideos() {
  await loadFormChoices();
  const page = await api("GET", "/v3/videos?limit=20");
  $("#video-list").replaceChildren(...page.data.map(videoItem));
  if (!page.data.length) $("#video-list").append(el("p", { class: "muted" }, "No videos yet."));
  clearTimeout(state.timer);
  if (page.data.some((v) => v.status === "pending" || v.status === "processing")) {
    state.timer = setTimeout(() => !$("#videos").hidden && guard(loadVideosOnly)(), 2000);
  }
}

async function loadVideosOnly() {
  const page = await api("GET", "/v3/videos?limit=20");
  $("#video-list").replaceChildren(...page.data.map(videoItem));
  clearTimeout(state.timer);
  if (page.data.some((v) => v.status === "pending" || v.status === "processing")) {
    state.timer = setTimeout(() => !$("#videos").hidden && guard(loadVideosOnly)(), 2000);
  }
}

async function createVideo(ev) {
  ev.preventDefault();
  const body = {
    avatar_id: $("#v-avatar").value, voice_id: $("#v-voice").value, script: $("#v-script").value,
    resolution: $("#v-resolution").value, aspect_ratio: $("#v-aspect").value, fit: $("#v-fit").value,
    voice_settings: { speed: Number($("#v-speed").value), pitch: Number($("#v-pitch").value) },
    remove_background: $("#v-remove-bg").checked, output_format: $("#v-format").value,
    expressiveness: $("#v-expressiveness").value,
  };
  if ($("#v-title").value) body.title = $("#v-title").value;
  if ($("#v-use-bg").checked) body.background = { type: "color", value: $("#v-bg").value.toUpperCase() };
  const res = await api("POST", "/v3/videos", body);
  toast(`Video ${res.data.video_id} queued`, true);
  await loadVideosOnly();
}

// ---- twins
function lookItem(l) {
  const q = l.quality || {};
  const score = q.overall ?? q.score;
  return el("div", { class: "item", "data-id": l.id },
    el("img", { src: l.preview_image_url || "", alt: "" }),
    el("div", {},
      el("strong", {}, l.name), " ", el("span", { class: `badge ${l.status}` }, l.status), " ",
      el("span", { class: "muted" }, l.avatar_type === "photo_avatar" ? "photo" : "video", l.matting ? " · matting" : ""),
      l.status === "processing" ? el("progress", { max: 100, value: l.progress || 0 }) : null,
      score !== undefined ? el("div", {}, `Quality ${Math.round(score)}/100`) : null,
      Array.isArray(q.advice) && q.advice.length ? el("ul", { class: "advice" }, q.advice.map((a) => el("li", {}, a))) : null,
      l.error ? el("div", { class: "failed" }, l.error.message) : null,
      l.consent_url ? el("div", {}, "Waiting for consent: ", el("a", { href: l.consent_url, target: "_blank" }, "send this link to the person")) : null,
      el("div", { class: "muted" }, `avatar_id: ${l.id}`)),
    el("div", { class: "actions" },
      l.group_id && l.status !== "processing" && l.tags?.includes("demo") ? null :
        el("button", { class: "danger", onclick: guard(async () => { await api("DELETE", `/v3/avatars/looks/${l.id}`); loadLooks(); }) }, "Delete")));
}

async function loadLooks() {
  const page = await api("GET", "/v3/avatars/looks?limit=50");
  $("#look-list").replaceChildren(...page.data.map(lookItem));
  clearTimeout(state.timer);
  if (page.data.some((l) => l.status === "processing")) {
    state.timer = setTimeout(() => !$("#twins").hidden && guard(loadLooks)(), 2000);
  }
}

async function createTwin(ev) {
  ev.preventDefault();
  const file = $("#t-file").files[0];
  const form = new FormData();
  form.append("file", file, file.name);
  toast("Uploading…", true);
  const asset = await api("POST", "/v3/assets", form, true);
  const type = asset.data.kind === "image" ? "photo" : "video";
  await api("POST", "/v3/avatars", { type, name: $("#t-name").value, matting: $("#t-matting").checked,
    file: { type: "asset_id", asset_id: asset.data.asset_id } });
  toast("Training started", true);
  await loadLooks();
}

// ---- voices
async function loadVoices() {
  const q = new URLSearchParams({ limit: "100" });
  if ($("#f-language").value) q.set("language", $("#f-language").value);
  if ($("#f-gender").value) q.set("gender", $("#f-gender").value);
  const page = await api("GET", `/v3/voices?${q}`);
  $("#voice-table tbody").replaceChildren(...page.data.map((v) => el("tr", {},
    el("td", {}, el("strong", {}, v.name), el("div", { class: "muted" }, v.voice_id)),
    el("td", {}, `${v.language} (${v.locale})`), el("td", {}, v.gender),
    el("td", { class: "muted" }, (v.license || "").slice(0, 120)),
    el("td", {}, el("button", { class: "ghost", onclick: () => new Audio(v.preview_audio_url).play() }, "▶ Play")))));
}

// ---- webhooks
async function loadHooks() {
  const eps = await api("GET", "/v3/webhooks/endpoints?limit=50");
  $("#hook-list").replaceChildren(...eps.data.map((e) => el("div", { class: "item" },
    el("span", { class: `badge ${e.status === "enabled" ? "completed" : "failed"}` }, e.status),
    el("div", {}, el("strong", {}, e.url), el("div", { class: "muted" }, e.events.join(", ")),
      e.disabled_reason ? el("div", { class: "failed" }, e.disabled_reason) : null),
    el("div", { class: "actions" },
      el("button", { class: "ghost", onclick: guard(async () => {
        const r = await api("POST", `/v3/webhooks/endpoints/${e.endpoint_id}/rotate-secret`);
        showSecret(r.data.secret); }) }, "Rotate secret"),
      el("button", { class: "danger", onclick: guard(async () => { await api("DELETE", `/v3/webhooks/endpoints/${e.endpoint_id}`); loadHooks(); }) }, "Delete")))));
  const evs = await api("GET", "/v3/webhooks/events?limit=10");
  $("#event-list").replaceChildren(...evs.data.map((e) => el("div", { class: "item" },
    el("span", { class: "badge" }, e.event_type),
    el("div", {}, el("code", {}, JSON.stringify(e.event_data)),
      el("div", { class: "muted" }, e.deliveries.map((d) => `${d.url}: ${d.status} after ${d.attempts} attempt(s)`).join(" · "))),
    el("span", { class: "muted" }, new Date(e.created_at * 1000).toLocaleString()))));
}

function showSecret(secret) {
  const p = $("#h-secret");
  p.hidden = false;
  p.textContent = `Signing secret (shown once — store it now): ${secret}`;
}

async function createHook(ev) {
  ev.preventDefault();
  const r = await api("POST", "/v3/webhooks/endpoints", { url: $("#h-url").value });
  showSecret(r.data.secret);
  await loadHooks();
}

// ---- start
async function health() {
  try {
    const h = await (await fetch("/healthz")).json();
    $("#health").textContent = `server ${h.status} · v${h.version}`;
  } catch { $("#health").textContent = "server unreachable"; }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#api-key").value = state.key;
  $("#key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.key = $("#api-key").value.trim();
    localStorage.setItem("twinstudio-key", state.key);
    refresh(location.hash.slice(1) || "videos");
  });
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("#video-form").addEventListener("submit", guard(createVideo));
  $("#twin-form").addEventListener("submit", guard(createTwin));
  $("#hook-form").addEventListener("submit", guard(createHook));
  $("#f-apply").addEventListener("click", guard(loadVoices));
  $("#v-script").addEventListener("input", () => ($("#v-count").textContent = `${$("#v-script").value.length} / 5000`));
  $("#v-avatar").addEventListener("change", () => {
    const voice = $("#v-avatar").selectedOptions[0]?.dataset.voice;
    if (voice) $("#v-voice").value = voice;
  });
  $("#show-script").addEventListener("click", guard(async (ev) => {
    ev.preventDefault();
    const r = await api("GET", "/v3/avatars/recording-script");
    const pre = $("#recording-script");
    pre.textContent = r.data.script + "\n\nTips:\n- " + r.data.tips.join("\n- ");
    pre.hidden = !pre.hidden;
  }));
  health();
  const tab = location.hash.slice(1);
  showTab(["videos", "twins", "voices", "webhooks"].includes(tab) ? tab : "videos");
});
