// What every view of the console shares: the operator key, the admin API call (whose first
// shown data sets the page's ready mark), small DOM helpers and the readable summary of an event line.
import { api, ApiError, dollars, markReady, setBusy } from "/web/api.js";

const KEY_STORAGE = "eventbank.operator_key";
const KEY_ERRORS = new Set(["operator_key_invalid", "operator_key_not_configured"]);

let keyProblemHandler = () => {};

export function operatorKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeOperatorKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetOperatorKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** Called with the API's error when the key is wrong or none is configured. */
export function onKeyProblem(handler) {
  keyProblemHandler = handler;
}

/**
 * An operator route of the API. A wrong key or a server without one hands the error to the key
 * view (which asks again or explains) before it is thrown on to the caller.
 */
export async function adminApi(method, path, options = {}) {
  try {
    return await api(method, path, { ...options, operatorKey: operatorKey() });
  } catch (error) {
    if (isKeyProblem(error)) {
      keyProblemHandler(error);
    }
    throw error;
  }
}

export function isKeyProblem(error) {
  return error instanceof ApiError && KEY_ERRORS.has(error.code);
}

/**
 * Shows an error of a view's request in its error box, except the key's problems, which the key
 * view shows. A box of null clears nothing and shows nothing.
 */
export function showProblem(box, error) {
  if (isKeyProblem(error)) {
    return;
  }
  box.textContent = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  box.hidden = false;
}

export function hideProblem(box) {
  box.hidden = true;
  box.textContent = "";
}

/**
 * Runs one request of a view and shows what it brought: `button` (when given) busy meanwhile; on
 * success the view's problem box is cleared, `show` gets the reply's JSON and the page is marked
 * ready; on failure the box shows the API's message. `isCurrent` drops the outcome of a request
 * that a newer one overtook.
 */
export async function load({ button, problem, call, show, isCurrent = () => true }) {
  if (button) {
    setBusy(button, true);
  }
  try {
    const json = await call();
    if (!isCurrent()) {
      return;
    }
    hideProblem(problem);
    show(json);
    markReady();
  } catch (error) {
    if (isCurrent()) {
      showProblem(problem, error);
    }
  } finally {
    if (button) {
      setBusy(button, false);
    }
  }
}

/** A new element with properties (className, textContent, ...) and children. */
export function element(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name.startsWith("data-") || name.startsWith("aria-")) {
      node.setAttribute(name, value);
    } else {
      node[name] = value;
    }
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

/** A table cell; numbers get the class that right-aligns them. */
export function cell(content, numeric = false) {
  return element("td", numeric ? { className: "num" } : {}, content);
}

/**
 * Fills a table body with rows and names each cell by its column's heading (data-label), which a
 * phone shows beside the value when the table is stacked one row per block (console.css).
 */
export function fillRows(tbody, rows) {
  tbody.replaceChildren(...(rows instanceof Node ? [rows] : rows));
  const headings = [...tbody.closest("table").querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of tbody.rows) {
    [...row.cells].forEach((td, index) => {
      td.dataset.label = headings[index] ?? "";
    });
  }
}

/** An account number as shown: whole, so that it can be searched for and copied. */
export function accountText(accountNumber) {
  return accountNumber == null ? "(none)" : String(accountNumber);
}

/** A datetime-local field's value (local time) as an RFC 3339 instant in UTC, or undefined. */
export function instantOf(localValue) {
  if (!localValue) {
    return undefined;
  }
  const date = new Date(localValue);
  if (Number.isNaN(date.getTime())) {
    throw new Error("Enter a date and time.");
  }
  return date.toISOString();
}

/** A whole number field's value, or undefined when empty; an Error when not a whole number ≥ min. */
export function wholeNumberOf(text, min, what) {
  const trimmed = String(text).trim();
  if (trimmed === "") {
    return undefined;
  }
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min) {
    throw new Error(`The ${what} must be a whole number from ${min}.`);
  }
  return Number(trimmed);
}

/** An account number typed by a person (spaces allowed), or an Error saying what is wrong. */
export function accountNumberOf(text) {
  const digits = String(text).replace(/\s+/g, "");
  if (!/^[1-9]\d{15}$/.test(digits)) {
    throw new Error("An account number is 16 digits, the first from 1 to 9.");
  }
  return digits;
}

/** What an event line says, in words: "A → B $12.50", "withdrew $5.00 from A", ... */
export function summary(event) {
  const data = event.data ?? {};
  switch (event.type) {
    case "AccountOpened":
      return `opened ${accountText(data.account_number)}` + (data.email ? ` (${data.email})` : "")
        + (data.opening_balance !== undefined ? ` with ${dollars(data.opening_balance)}` : "");
    case "AccountVerified":
      return `verified ${accountText(data.account_number)}`;
    case "MoneyTransferred":
      return `${accountText(data.from_account_number)} \u2192 ${accountText(data.to_account_number)} ${dollars(data.amount)}`;
    case "MoneyWithdrawn":
      return `withdrew ${dollars(data.amount)} from ${accountText(data.account_number)}`;
    case "AccountClosed":
      return `closed ${accountText(data.account_number)}`
        + (data.forfeited ? `, forfeiting ${dollars(data.forfeited)}` : "");
    case "AccountForgotten":
      return `forgot the personal data of ${accountText(data.account_number)}`;
    default:
      return JSON.stringify(data);
  }
}

/** Calls fn at most once per wait, with the last arguments, wait ms after the last call. */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
