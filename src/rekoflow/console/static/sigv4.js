// AWS Signature Version 4 for the browser (Web Crypto), as botocore computes it for execute-api.
// The console signs its REST API calls with the local stack's credentials, as any client of the
// deployed, IAM-authorised API must.
"use strict";

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer)).map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(data) {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(key, message) {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, encoder.encode(message)));
}

// RFC 3986 encoding of one (already URL-encoded) path segment or query part, as SigV4 wants it.
function rfc3986(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalQuery(url) {
  const pairs = [];
  url.searchParams.forEach((value, key) => pairs.push([rfc3986(key), rfc3986(value)]));
  pairs.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

// Headers to send with the request: X-Amz-Date and Authorization (and the Content-Type that was signed).
export async function signRequest({ method, url, body = "", contentType = "application/json", region, service = "execute-api", credentials }) {
  const target = new URL(url, window.location.href);
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers = { host: target.host, "x-amz-date": amzDate };
  if (body) headers["content-type"] = contentType;
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join("");
  const signedHeaders = names.join(";");
  // Non-S3 services sign the path encoded once more (botocore: quote(path, safe="/~")).
  const canonicalUri = target.pathname.split("/").map(rfc3986).join("/");
  const canonical = [method, canonicalUri, canonicalQuery(target), canonicalHeaders, signedHeaders, await sha256Hex(body || "")].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, await sha256Hex(canonical)].join("\n");
  let key = encoder.encode("AWS4" + credentials.secretAccessKey);
  for (const part of [day, region, service, "aws4_request"]) key = await hmac(key, part);
  const signature = hex(await hmac(key, stringToSign));
  const out = {
    "X-Amz-Date": amzDate,
    Authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
  if (body) out["Content-Type"] = contentType;
  return out;
}

export async function checksumSha256(arrayBuffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", arrayBuffer));
  let binary = "";
  digest.forEach((b) => (binary += String.fromCharCode(b)));
  return btoa(binary);
}
