// The web app's one way to the server: the public JSON API (DESIGN.md, "API contract"), and the
// few helpers both pages need to show money, times and the API's errors.

/** A reply of status 400 or more, or no reply at all (status 0, code "network"). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * Calls the API: `method` and `path` ("/api/account"), and the options that apply. Resolves to
 * { status, json, headers }; rejects with an ApiError carrying the API's own code and message.
 */
export async function api(method, path, { body, token, operatorKey, idempotencyKey, query } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (operatorKey) headers["X-Operator-Key"] = operatorKey;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let reply;
  try {
    reply = await fetch(path + queryString(query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check your connection and try again.");
  }
  const type = reply.headers.get("Content-Type") || "";
  const json = type.includes("json") ? await reply.json().catch(() => null) : null;
  if (reply.status >= 400) {
    const retryAfter = Number(reply.headers.get("Retry-After")) || undefined;
    throw new ApiError(reply.status, json?.error ?? "http_" + reply.status,
      json?.message ?? `The server answered ${reply.status} ${reply.statusText}.`, retryAfter);
  }
  return { status: reply.status, json, headers: reply.headers };
}

function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.append(name, String(value));
  }
  const text = params.toString();
  return text ? "?" + text : "";
}

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** Cents as dollars: 123456 → "$1,234.56", -1200 → "−$12.00". */
export function dollars(cents) {
  const text = money.format(Math.abs(cents) / 100);
  return cents < 0 ? "\u2212" + text : text;
}

/** An amount typed in dollars ("12.5", "$1,234.56") as integer cents; throws when it is not one. */
export function parseCents(text) {
  const cleaned = String(text).trim().replace(/^\$/, "").replace(/,/g, "");
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(cleaned);
  const cents = match ? Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0")) : 0;
  if (!match || cents <= 0) {
    throw new Error("Enter an amount in dollars and cents, like 12.50.");
  }
  return cents;
}

/** A fresh Idempotency-Key: one per filled-in form, so that a retry of it never acts twice. */
export function newIdempotencyKey() {
  return crypto.randomUUID();
}

const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" });

/** An RFC 3339 instant of the API in the reader's time zone: "7 Dec 2026, 10:00:00". */
export function formatTime(iso) {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? String(iso) : timeFormat.format(time);
}

/**
 * Shows an error under the field it concerns: in the element `${field.id}-error`, which the page
 * provides, tied to the field for screen readers.
 */
export function showError(field, error) {
  const box = document.getElementById(`${field.id}-error`);
  if (!box) throw new Error(`no element ${field.id}-error to show an error of ${field.id} in`);
  box.textContent = error.message;
  box.hidden = false;
  field.setAttribute("aria-invalid", "true");
  const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(box.id)) field.setAttribute("aria-describedby", [...described, box.id].join(" "));
}

/** Hides every error shown in a form. */
export function clearErrors(form) {
  for (const box of form.querySelectorAll(".field-error")) {
    box.hidden = true;
    box.textContent = "";
  }
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
}

/** Disables a button while its request runs (a second click then does nothing). */
export function setBusy(button, busy) {
  button.disabled = busy;
  if (busy) button.setAttribute("aria-busy", "true");
  else button.removeAttribute("aria-busy");
}

let readyMarked = false;

/**
 * Marks, once per page load, the moment the first view has shown its data: the page-speed
 * benchmark (bench's PageSpeed) measures the time to this mark.
 */
export function markReady() {
  if (!readyMarked) {
    readyMarked = true;
    performance.mark("eventbank-ready");
  }
}
