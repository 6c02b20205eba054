// Time travel: the bank's state as of a seq or an instant (GET /api/admin/state), chosen with a
// slider over the log or typed, and one account's balance over time (GET
// /api/admin/accounts/{number}/history) drawn as an SVG line chart with a table beside it.
import { clearErrors, dollars, formatTime, setBusy, showError } from "/web/api.js";
import {
  accountNumberOf, adminApi, byId, cell, debounce, element, fillRows, instantOf, load, showProblem,
  wholeNumberOf,
} from "/web/console-common.js";

/** The most accounts one state lists: the totals are the whole bank's anyway. */
const ACCOUNTS_SHOWN = 50;
const SVG = "http://www.w3.org/2000/svg";

const state = {
  loaded: false,
  lastSeq: 0,        // the log's head when the view last looked
  shownSeq: null,    // the seq of the state shown
  request: 0,
  historyAccount: null,
  history: [],
};

const HISTORY_WORDS = {
  opened: "opened",
  verified: "verified",
  transfer_in: "transfer in",
  transfer_out: "transfer out",
  withdrawal: "withdrawal",
};

/** Reads the log's head and stretches the slider over it (1 to the last seq). */
async function readRange() {
  const { json } = await adminApi("GET", "/api/admin/audit/head");
  state.lastSeq = json.seq;
  const slider = byId("travel-slider");
  slider.max = String(Math.max(1, json.seq));
  slider.disabled = json.seq < 1;
  byId("travel-slider-max").textContent = String(json.seq);
  byId("travel-seq").max = String(json.seq);
}

/** The account filter's value, or undefined; null after showing what is wrong. */
function accountFilter() {
  const field = byId("travel-account");
  if (field.value.trim() === "") {
    return undefined;
  }
  try {
    return accountNumberOf(field.value);
  } catch (error) {
    showError(field, error);
    return null;
  }
}

/** Loads and shows the state at `point` ({ at_seq } or { at_time }). */
async function travel(point, button) {
  const account = accountFilter();
  if (account === null) {
    return;
  }
  const request = ++state.request;
  await load({
    button,
    problem: byId("travel-problem"),
    call: async () => (await adminApi("GET", "/api/admin/state",
      { query: { ...point, account, limit: ACCOUNTS_SHOWN } })).json,
    isCurrent: () => request === state.request,
    show: (json) => {
      showState(json, account);
      state.loaded = true;
    },
  });
}

function showState(bank, account) {
  state.shownSeq = bank.seq;
  byId("travel-seq").value = String(bank.seq);
  if (bank.seq >= 1) {
    byId("travel-slider").value = String(bank.seq);
  }
  byId("travel-reached").textContent = bank.seq === 0
    ? "The bank before its first event"
    : `The bank after seq ${bank.seq}, ${formatTime(bank.time)}`;
  byId("total-accounts").textContent = bank.totals.accounts.toLocaleString("en-US");
  byId("total-balance").textContent = dollars(bank.totals.balance);
  byId("total-opened").textContent = dollars(bank.totals.opened);
  byId("total-withdrawn").textContent = dollars(bank.totals.withdrawn);
  const rows = document.createDocumentFragment();
  for (const item of bank.accounts) {
    const chart = element("button", {
      type: "button", className: "secondary small", textContent: "Balance over time",
      "aria-label": `Balance over time of ${item.account_number}`,
    });
    chart.addEventListener("click", () => {
      byId("history-account").value = item.account_number;
      loadHistory(item.account_number, chart);
    });
    rows.append(element("tr", { "data-account": item.account_number },
      cell(element("span", { className: "account-number", textContent: item.account_number })),
      cell(dollars(item.balance), true),
      cell(item.verified ? "yes" : "no"),
      cell(chart)));
  }
  fillRows(byId("travel-account-rows"), rows);
  const note = byId("travel-account-rows").childElementCount === 0
    ? (account ? "(that account did not exist yet)" : "(none yet)")
    : bank.totals.accounts > bank.accounts.length && !account
      ? `(the first ${bank.accounts.length} of ${bank.totals.accounts.toLocaleString("en-US")}, in opening order;`
        + " enter an account above for another)"
      : "";
  byId("travel-accounts-note").textContent = note;
  byId("travel-result").hidden = false;
  if (state.history.length > 0) {
    drawChart();
  }
}

function travelToSeq(event) {
  event?.preventDefault();
  const form = byId("travel-form");
  clearErrors(form);
  const field = byId("travel-seq");
  let seq;
  try {
    seq = wholeNumberOf(field.value, 0, "seq");
    if (seq === undefined) {
      throw new Error("Enter a seq, or move the slider.");
    }
  } catch (error) {
    showError(field, error);
    field.focus();
    return;
  }
  travel({ at_seq: seq }, byId("travel-go-seq"));
}

function travelToTime() {
  const form = byId("travel-form");
  clearErrors(form);
  const field = byId("travel-time");
  let instant;
  try {
    instant = instantOf(field.value);
    if (instant === undefined) {
      throw new Error("Enter a date and time.");
    }
  } catch (error) {
    showError(field, error);
    field.focus();
    return;
  }
  travel({ at_time: instant }, byId("travel-go-time"));
}

// The slider shows its seq at once and travels once it rests: a drag over a long log asks for a
// few states, not one per pixel.
const travelFromSlider = debounce(() => {
  clearErrors(byId("travel-form"));
  travel({ at_seq: Number(byId("travel-slider").value) }, null);
}, 250);

function slid() {
  byId("travel-seq").value = byId("travel-slider").value;
  travelFromSlider();
}

// Balance over time.

async function showHistory(event) {
  event.preventDefault();
  const form = byId("history-form");
  clearErrors(form);
  const field = byId("history-account");
  let number;
  try {
    number = accountNumberOf(field.value);
  } catch (error) {
    showError(field, error);
    field.focus();
    return;
  }
  await loadHistory(number, byId("history-show"));
}

async function loadHistory(number, button) {
  const field = byId("history-account");
  clearErrors(byId("history-form"));
  setBusy(button, true);
  try {
    const { json } = await adminApi("GET", `/api/admin/accounts/${number}/history`);
    state.historyAccount = number;
    state.history = json.items;
    byId("history-result").hidden = false;
    drawChart();
    showHistoryTable();
    byId("history-heading").scrollIntoView({ block: "nearest" });
  } catch (error) {
    showError(field, error);
  } finally {
    setBusy(button, false);
  }
}

function showHistoryTable() {
  const rows = document.createDocumentFragment();
  for (const item of state.history) {
    rows.append(element("tr", {},
      cell(String(item.seq), true),
      cell(element("time", { dateTime: item.time, textContent: formatTime(item.time) })),
      cell(HISTORY_WORDS[item.type] ?? item.type),
      cell(item.delta === 0 ? "" : (item.delta > 0 ? "+" : "") + dollars(item.delta), true),
      cell(dollars(item.balance_after), true)));
  }
  fillRows(byId("history-rows"), rows);
}

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/**
 * A step line of the balance after each event, seq along the bottom (each event holds its balance
 * until the next), with the seq of the state shown above marked.
 */
function drawChart() {
  const items = state.history;
  // One unit of the drawing is one CSS pixel of the box it fills, so its text reads the same on
  // a phone as on a desktop.
  const width = Math.round(Math.min(960, Math.max(280, byId("history-chart").clientWidth || 640)));
  const height = width < 480 ? 200 : 240;
  const left = 84;
  const right = 16;
  const top = 16;
  const bottom = 36;
  const lastSeq = Math.max(state.lastSeq, items[items.length - 1].seq, state.shownSeq ?? 0);
  const firstSeq = items[0].seq;
  const seqSpan = Math.max(1, lastSeq - firstSeq);
  const highest = Math.max(...items.map((item) => item.balance_after), 1);
  const x = (seq) => left + ((seq - firstSeq) / seqSpan) * (width - left - right);
  const y = (cents) => top + (1 - cents / highest) * (height - top - bottom);

  const first = items[0];
  const last = items[items.length - 1];
  const label = `Balance of ${state.historyAccount} over ${items.length} event${items.length === 1 ? "" : "s"}`
    + ` from seq ${first.seq} to ${last.seq}: from ${dollars(first.balance_after)} to ${dollars(last.balance_after)},`
    + ` highest ${dollars(highest)}.`;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "line-chart",
    preserveAspectRatio: "xMidYMid meet",
  });
  chart.append(svg("title", {}, label));

  for (const cents of [0, highest / 2, highest]) {
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(cents), y2: y(cents), class: "grid" }));
    chart.append(svg("text", { x: left - 8, y: y(cents) + 4, "text-anchor": "end", class: "axis" },
      dollars(Math.round(cents))));
  }
  chart.append(svg("text", { x: left, y: height - 10, "text-anchor": "start", class: "axis" }, `seq ${firstSeq}`));
  chart.append(svg("text", { x: width - right, y: height - 10, "text-anchor": "end", class: "axis" }, `seq ${lastSeq}`));

  let path = `M ${x(first.seq)} ${y(first.balance_after)}`;
  for (const item of items.slice(1)) {
    path += ` H ${x(item.seq)} V ${y(item.balance_after)}`;
  }
  path += ` H ${x(lastSeq)}`;
  chart.append(svg("path", { d: path, class: "balance-line" }));
  for (const item of items) {
    chart.append(svg("circle", { cx: x(item.seq), cy: y(item.balance_after), r: 4, class: "balance-point" },
    ));
  }

  if (state.shownSeq !== null && state.shownSeq >= firstSeq) {
    const at = x(Math.min(state.shownSeq, lastSeq));
    chart.append(svg("line", { x1: at, x2: at, y1: top, y2: height - bottom, class: "travel-mark" }));
    chart.append(svg("text", { x: at + 4, y: top + 10, class: "axis mark-label" }, `seq ${state.shownSeq}`));
  }
  byId("history-chart").replaceChildren(chart);
  byId("history-caption").textContent = label
    + (state.shownSeq !== null ? ` The dashed line marks seq ${state.shownSeq}, the state shown above.` : "");
}

byId("travel-form").addEventListener("submit", travelToSeq);
byId("travel-go-time").addEventListener("click", travelToTime);
byId("travel-slider").addEventListener("input", slid);
byId("history-form").addEventListener("submit", showHistory);
window.addEventListener("resize", debounce(() => {
  if (state.history.length > 0 && !byId("history-result").hidden) {
    drawChart();
  }
}, 200));

export const timeTravelView = {
  async show() {
    if (state.history.length > 0) {
      drawChart();
    }
    try {
      await readRange();
      if (!state.loaded) {
        await travel({ at_seq: state.lastSeq }, null);
      }
    } catch (error) {
      showProblem(byId("travel-problem"), error);
    }
  },
};
