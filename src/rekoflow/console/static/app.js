// The rekoflow local console: upload, analyse through the REST API, and look at results and paths.
// API calls are SigV4-signed (sigv4.js); uploads go straight to S3 through POST /uploads' presigned POST.
"use strict";

import { checksumSha256, signRequest } from "./sigv4.js";

const $ = (selector) => document.querySelector(selector);
const CONSOLE_API = "/_rekoflow/console/api";
const TERMINAL = new Set(["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]);
const COLORS = { label: "#ff9900", face: "#2e86de", text: "#27ae60" };
let config = null;
let uploadedImage = null; // { key, url } of the file uploaded in this page, drawn without a round trip

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function consoleApi(path) {
  const response = await fetch(CONSOLE_API + path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// A signed call of the REST API, on this page's own origin.
async function api(method, path, body) {
  const url = window.location.origin + config.apiPath + path;
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = await signRequest({ method, url, body: text, region: config.region, credentials: config.credentials });
  const response = await fetch(url, { method, headers, body: text || undefined });
  let payload = null;
  try { payload = await response.json(); } catch { payload = null; }
  return { status: response.status, body: payload };
}

function setProgress(text, isError = false) {
  const node = $("#progress");
  node.textContent = text;
  node.className = isError ? "error" : "";
}

function safeFilename(name, contentType) {
  const extension = contentType === "image/png" ? "png" : "jpg";
  let base = name.replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 100);
  if (!base) base = "image";
  return `${base}.${extension}`;
}

async function uploadAndAnalyse(event) {
  event.preventDefault();
  const file = $("#image-file").files[0];
  const analyses = Array.from(document.querySelectorAll("#analyses input:checked")).map((box) => box.value);
  if (!file) return setProgress("choose an image first", true);
  if (!analyses.length) return setProgress("choose at least one analysis", true);
  const contentType = file.type === "image/png" ? "image/png" : "image/jpeg";
  $("#analyse-button").disabled = true;
  try {
    setProgress("asking for an upload URL (POST /uploads)...");
    const bytes = await file.arrayBuffer();
    const upload = await api("POST", "/uploads", { contentType, checksumSHA256: await checksumSha256(bytes), filename: safeFilename(file.name, contentType) });
    if (upload.status !== 200) throw new Error(`POST /uploads: ${upload.status} ${upload.body && upload.body.message}`);
    setProgress("uploading to S3 (presigned POST)...");
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.body.fields)) form.append(name, value);
    form.append("file", new Blob([bytes], { type: contentType }), file.name);
    const stored = await fetch(upload.body.url, { method: "POST", body: form });
    if (!stored.ok) throw new Error(`S3 refused the upload: ${stored.status} ${await stored.text()}`);
    uploadedImage = { key: upload.body.image.key, url: URL.createObjectURL(file) };
    setProgress("starting the analysis (POST /analyses)...");
    const started = await api("POST", "/analyses", { image: upload.body.image, analyses, useCache: $("#use-cache").checked });
    if (started.status !== 202) throw new Error(`POST /analyses: ${started.status} ${JSON.stringify(started.body)}`);
    const requestId = started.body.requestId;
    setProgress(`analysis ${requestId} running...`);
    const record = await waitForRecord(requestId);
    setProgress(`analysis ${requestId}: ${record.status}`, record.status !== "SUCCEEDED");
    await refreshExecutions();
    await openExecution(started.body.executionArn, "analysis", record);
  } catch (error) {
    setProgress(String(error.message || error), true);
  } finally {
    $("#analyse-button").disabled = false;
  }
}

async function waitForRecord(requestId) {
  for (let attempt = 0; attempt < 600; attempt++) {
    const answer = await api("GET", `/analyses/${encodeURIComponent(requestId)}`);
    if (answer.status === 200 && TERMINAL.has(answer.body.status)) return answer.body;
    if (answer.status !== 200 && answer.status !== 404) throw new Error(`GET /analyses/${requestId}: ${answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`analysis ${requestId} is still running`);
}

async function refreshExecutions() {
  const { executions } = await consoleApi("/executions");
  const body = $("#executions tbody");
  body.replaceChildren();
  for (const execution of executions) {
    const row = element("tr");
    row.dataset.arn = execution.executionArn;
    row.dataset.kind = execution.kind;
    row.append(element("td", execution.name), element("td", execution.kind), element("td", execution.status, `status-${execution.status}`),
      element("td", (execution.startDate || "").replace("T", " ").slice(0, 19)));
    row.addEventListener("click", () => openExecution(execution.executionArn, execution.kind));
    body.append(row);
  }
}

function costLine(billing) {
  if (!billing) return "";
  const pricing = billing.pricing || {};
  let text = `Rekognition: ${billing.billableCallCount} billable call(s), estimated $${Number(billing.estimatedCostUSD).toFixed(4)}`;
  if (Number(billing.savedByCacheUSD)) text += `; the cache saved $${Number(billing.savedByCacheUSD).toFixed(4)}`;
  if (pricing.region) text += ` (${pricing.region} list prices of ${pricing.asOf})`;
  return text;
}

async function openExecution(arn, kind, knownRecord) {
  const view = await consoleApi(`/execution?arn=${encodeURIComponent(arn)}`);
  $("#detail").hidden = false;
  $("#detail-title").textContent = `${view.stateMachine} / ${view.name}`;
  const status = $("#detail-status");
  status.textContent = view.error ? `${view.status}: ${view.error}: ${view.cause || ""}` : view.status;
  status.className = view.status === "SUCCEEDED" ? "status-SUCCEEDED" : "error";
  $("#graph").innerHTML = view.graphSvg || "<p class='muted'>(graphviz is not installed: no graph)</p>";
  const events = $("#events tbody");
  events.replaceChildren();
  for (const event of view.events) {
    const row = element("tr");
    row.append(element("td", event.id), element("td", event.type), element("td", event.state), element("td", event.offsetSeconds.toFixed(3)),
      element("td", event.error), element("td", event.cause));
    events.append(row);
  }
  $("#tables").replaceChildren();
  $("#detail-cost").textContent = "";
  const canvas = $("#image-canvas");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  if (kind === "batch") return showBatch(view);
  const record = knownRecord || (await api("GET", `/analyses/${encodeURIComponent(view.name)}`)).body;
  if (record && record.status) showRecord(record);
}

function showBatch(view) {
  const record = (view.batch && view.batch.record) || {};
  $("#detail-cost").textContent = costLine(record.billing);
  const counts = element("p", ["total", "succeeded", "failed", "cached", "skipped"].filter((k) => record[k] !== undefined).map((k) => `${k} ${record[k]}`).join(", "));
  $("#tables").append(element("div", "Batch", "table-title"), counts);
  const failed = (view.batch && view.batch.failedChildren) || [];
  if (failed.length) $("#tables").append(table("Failed images", ["execution", "error", "cause"], failed.map((c) => [c.name, c.error, c.cause])));
}

function table(title, columns, rows) {
  const wrapper = element("div");
  wrapper.append(element("div", title, "table-title"));
  const node = element("table");
  const head = element("tr");
  columns.forEach((c) => head.append(element("th", c)));
  node.append(element("thead"));
  node.tHead.append(head);
  const body = element("tbody");
  for (const row of rows) {
    const tr = element("tr");
    row.forEach((cell) => tr.append(element("td", cell)));
    body.append(tr);
  }
  node.append(body);
  wrapper.append(node);
  return wrapper;
}

function showRecord(record) {
  $("#detail-cost").textContent = costLine(record.billing);
  const results = record.results || {};
  const tables = $("#tables");
  if (results.labels) {
    tables.append(table(`Labels (${results.labels.count})`, ["name", "confidence", "parents", "categories"],
      (results.labels.labels || []).map((l) => [l.name, l.confidence.toFixed(1), (l.parents || []).join(", "), (l.categories || []).join(", ")])));
  }
  if (results.faces) {
    tables.append(table(`Faces (${results.faces.count})`, ["confidence", "age", "gender", "emotion", "smile", "eyes open"],
      (results.faces.faces || []).map((f) => [f.confidence.toFixed(1), f.ageRange ? `${f.ageRange.low}-${f.ageRange.high}` : "",
        f.gender ? f.gender.value : "", f.emotions && f.emotions.length ? f.emotions[0].type : "", f.smile ? String(f.smile.value) : "",
        f.eyesOpen ? String(f.eyesOpen.value) : ""])));
  }
  if (results.text) {
    tables.append(table(`Text (${results.text.count} words)`, ["line", "confidence"], (results.text.lines || []).map((l) => [l.text, l.confidence.toFixed(1)])));
  }
  if (results.moderation) {
    tables.append(table(`Moderation: ${results.moderation.flagged ? "flagged" : "safe"}`, ["label", "confidence"],
      (results.moderation.labels || []).map((l) => [l.name, l.confidence.toFixed(1)])));
  }
  drawImage(record);
}

function drawImage(record) {
  const image = record.image || {};
  const source = uploadedImage && uploadedImage.key === image.key ? uploadedImage.url
    : `${CONSOLE_API}/image?bucket=${encodeURIComponent(image.bucket)}&key=${encodeURIComponent(image.key)}` + (image.versionId ? `&versionId=${encodeURIComponent(image.versionId)}` : "");
  const picture = new Image();
  picture.onload = () => {
    const canvas = $("#image-canvas");
    canvas.width = picture.naturalWidth;
    canvas.height = picture.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(picture, 0, 0);
    const results = record.results || {};
    const boxes = [];
    for (const label of (results.labels && results.labels.labels) || []) {
      for (const instance of label.instances || []) boxes.push([instance.boundingBox, label.name, COLORS.label]);
    }
    for (const face of (results.faces && results.faces.faces) || []) {
      const emotion = face.emotions && face.emotions.length ? ` ${face.emotions[0].type.toLowerCase()}` : "";
      boxes.push([face.boundingBox, `face${emotion}`, COLORS.face]);
    }
    for (const line of (results.text && results.text.lines) || []) boxes.push([line.boundingBox, line.text, COLORS.text]);
    context.lineWidth = Math.max(2, canvas.width / 300);
    context.font = `${Math.max(12, canvas.width / 45)}px system-ui`;
    for (const [box, name, color] of boxes) {
      if (!box) continue;
      const x = box.Left * canvas.width, y = box.Top * canvas.height;
      context.strokeStyle = color;
      context.strokeRect(x, y, box.Width * canvas.width, box.Height * canvas.height);
      context.fillStyle = color;
      context.fillText(name, x + 3, Math.max(12, y - 4));
    }
    canvas.dataset.boxes = String(boxes.length);
    canvas.dataset.drawn = image.key || "";
  };
  picture.src = source;
}

async function start() {
  config = await consoleApi("/config");
  $("#stack-info").textContent = `API ${config.apiPath} · uploads to s3://${config.imagesBucket}/ · trigger prefix ${config.triggerPrefix}`;
  for (const analysis of config.analyses) {
    const label = element("label");
    const box = element("input");
    box.type = "checkbox";
    box.value = analysis;
    box.checked = analysis !== "moderation";
    label.append(box, ` ${analysis}`);
    $("#analyses").append(label);
  }
  $("#analyse-form").addEventListener("submit", uploadAndAnalyse);
  $("#refresh").addEventListener("click", refreshExecutions);
  await refreshExecutions();
  document.body.dataset.ready = "true";
}

start().catch((error) => setProgress(`the console could not start: ${error.message || error}`, true));
