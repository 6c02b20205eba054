// The event explorer: one page of GET /api/admin/events at a time, with its filters, paging,
// and a "follow" mode that polls for events after the last one shown. It never holds more than
// a page (or, while following, FOLLOW_ROWS_MAX rows), so a log of millions of events costs the
// page no more than one of a few.
import { clearErrors, formatTime, showError } from "/web/api.js";
import {
  accountNumberOf, adminApi, byId, cell, element, hideProblem, instantOf, load, showProblem, summary,
  wholeNumberOf,
} from "/web/console-common.js";

const FOLLOW_ROWS_MAX = 500;
const FOLLOW_INTERVAL_MS = 1000;

const state = {
  loaded: false,
  visible: false,
  filters: {},
  afterSeq: 0,           // the after_seq of the page shown
  previousPages: [],     // the after_seqs of the pages before it, for "Previous page"
  nextAfterSeq: null,    // the page's next_after_seq
  cursor: 0,             // where following goes on from
  following: false,
  timer: null,
  request: 0,            // the number of the newest request: older replies are dropped
};

/** One table row for an event line: seq, time, type, and its summary opening the whole JSON. */
export function eventRow(event) {
  const time = element("time", { dateTime: event.time, textContent: formatTime(event.time) });
  const details = element("details", {},
    element("summary", { textContent: summary(event) }),
    element("pre", { className: "json", textContent: JSON.stringify(event, null, 2) }));
  const row = element("tr", { "data-seq": String(event.seq) },
    cell(String(event.seq), true), cell(time), cell(event.type), cell(details));
  return row;
}

/** The filter form's values as the route's query, or null after showing what is wrong. */
function readFilters() {
  const form = byId("explorer-filters");
  clearErrors(form);
  const fields = {
    account: byId("explorer-account"), after_seq: byId("explorer-after"), until_seq: byId("explorer-until"),
    from: byId("explorer-from"), to: byId("explorer-to"), limit: byId("explorer-limit"),
  };
  const parsers = {
    account: (text) => (text.trim() === "" ? undefined : accountNumberOf(text)),
    after_seq: (text) => wholeNumberOf(text, 0, "seq"),
    until_seq: (text) => wholeNumberOf(text, 1, "seq"),
    from: instantOf,
    to: instantOf,
    limit: (text) => {
      const limit = wholeNumberOf(text, 1, "page size") ?? 50;
      if (limit > 1000) {
        throw new Error("A page holds at most 1000 events.");
      }
      return limit;
    },
  };
  const filters = { type: byId("explorer-type").value || undefined };
  let valid = true;
  for (const [name, field] of Object.entries(fields)) {
    try {
      filters[name] = parsers[name](field.value);
    } catch (error) {
      ensureErrorBox(field);
      showError(field, error);
      if (valid) {
        field.focus();
      }
      valid = false;
    }
  }
  return valid ? filters : null;
}

/** Fields without an error paragraph in the markup get one, so showError has a place to write. */
function ensureErrorBox(field) {
  if (!byId(`${field.id}-error`)) {
    field.after(element("p", { id: `${field.id}-error`, className: "field-error", hidden: true }));
  }
}

function pageQuery(afterSeq) {
  const { after_seq: ignored, ...filters } = state.filters;
  return { ...filters, after_seq: afterSeq };
}

/** Loads and shows the page of events after afterSeq, replacing the rows shown. */
function loadPage(afterSeq, button) {
  const request = ++state.request;
  return load({
    button,
    problem: byId("explorer-problem"),
    call: async () => (await adminApi("GET", "/api/admin/events", { query: pageQuery(afterSeq) })).json,
    isCurrent: () => request === state.request,
    show: (json) => {
      state.afterSeq = afterSeq;
      state.nextAfterSeq = json.next_after_seq;
      const events = json.events;
      state.cursor = json.next_after_seq ?? (events.length ? events[events.length - 1].seq : afterSeq);
      const rows = document.createDocumentFragment();
      for (const event of events) {
        rows.append(eventRow(event));
      }
      byId("explorer-rows").replaceChildren(rows);
      describePage(events);
      updatePager();
      state.loaded = true;
    },
  });
}

function describePage(events) {
  const status = byId("explorer-status");
  if (events.length > 0) {
    const first = events[0].seq;
    const last = events[events.length - 1].seq;
    status.textContent = `${events.length} event${events.length === 1 ? "" : "s"}, seq ${first} to ${last}.`
      + (state.nextAfterSeq === null ? " This is the end of the log for these filters." : "");
  } else if (state.nextAfterSeq !== null) {
    status.textContent = `No matching event up to seq ${state.nextAfterSeq}; the next page looks further on.`;
  } else if (state.afterSeq > 0) {
    // "Latest" looks at the last page of the log only: older matches may exist.
    status.textContent = `No event after seq ${state.afterSeq} matches these filters; `
      + "\"Previous events\" or \"Show events\" look further back.";
  } else {
    status.textContent = "No events match these filters.";
  }
}

function updatePager() {
  byId("explorer-previous").disabled = state.following || state.previousPages.length === 0;
  byId("explorer-next").disabled = state.following || state.nextAfterSeq === null;
}

async function showFiltered(event) {
  event.preventDefault();
  const filters = readFilters();
  if (filters === null) {
    return;
  }
  state.filters = filters;
  state.previousPages = [];
  await loadPage(filters.after_seq ?? 0, byId("explorer-show"));
}

/** The last page of the log: from the audit head minus a page. */
async function showLatest(button) {
  const filters = readFilters();
  if (filters === null) {
    return;
  }
  state.filters = filters;
  try {
    const { json: head } = await adminApi("GET", "/api/admin/audit/head");
    state.previousPages = [];
    const start = Math.max(0, head.seq - state.filters.limit);
    if (start > 0) {
      state.previousPages.push(Math.max(0, start - state.filters.limit));
    }
    await loadPage(start, button);
  } catch (error) {
    showProblem(byId("explorer-problem"), error);
  }
}

function nextPage() {
  if (state.nextAfterSeq === null) {
    return;
  }
  state.previousPages.push(state.afterSeq);
  loadPage(state.nextAfterSeq, byId("explorer-next"));
}

function previousPage() {
  if (state.previousPages.length === 0) {
    return;
  }
  loadPage(state.previousPages.pop(), byId("explorer-previous"));
}

function clearFilters() {
  byId("explorer-filters").reset();
  clearErrors(byId("explorer-filters"));
}

// Following: a poll after the last event shown, every FOLLOW_INTERVAL_MS while the box is
// ticked, the explorer is shown and the browser tab is visible; at once again while a poll
// brings a full page (catching up).

async function startFollowing() {
  state.following = true;
  updatePager();
  await showLatest(null);
  schedulePoll(0);
}

function stopFollowing() {
  state.following = false;
  clearTimeout(state.timer);
  state.timer = null;
  state.nextAfterSeq = state.cursor;
  updatePager();
  const rows = byId("explorer-rows");
  if (rows.childElementCount > 0) {
    byId("explorer-status").textContent = `${rows.childElementCount} events shown, seq ${rows.firstElementChild.dataset.seq}`
      + ` to ${rows.lastElementChild.dataset.seq}; no longer following.`;
  }
}

function schedulePoll(delay) {
  clearTimeout(state.timer);
  state.timer = null;
  if (state.following && state.visible && !document.hidden) {
    state.timer = setTimeout(poll, delay);
  }
}

async function poll() {
  state.timer = null;
  const request = ++state.request;
  let caughtUp = true;
  try {
    const { json } = await adminApi("GET", "/api/admin/events", { query: pageQuery(state.cursor) });
    if (request !== state.request || !state.following) {
      return;
    }
    hideProblem(byId("explorer-problem"));
    appendFollowed(json.events);
    const last = json.events.length ? json.events[json.events.length - 1].seq : state.cursor;
    state.cursor = json.next_after_seq ?? Math.max(last, state.cursor);
    caughtUp = json.next_after_seq === null;
  } catch (error) {
    showProblem(byId("explorer-problem"), error);
  }
  schedulePoll(caughtUp ? FOLLOW_INTERVAL_MS : 0);
}

function appendFollowed(events) {
  if (events.length === 0) {
    return;
  }
  const rows = byId("explorer-rows");
  const fragment = document.createDocumentFragment();
  for (const event of events) {
    fragment.append(eventRow(event));
  }
  rows.append(fragment);
  while (rows.childElementCount > FOLLOW_ROWS_MAX) {
    rows.firstElementChild.remove();
  }
  const first = rows.firstElementChild.dataset.seq;
  const last = rows.lastElementChild.dataset.seq;
  byId("explorer-status").textContent = `Following: ${rows.childElementCount} events shown, seq ${first} to ${last};`
    + ` the newest ${FOLLOW_ROWS_MAX} are kept.`;
}

function toggleFollowing() {
  if (byId("explorer-follow").checked) {
    startFollowing();
  } else {
    stopFollowing();
  }
}

byId("explorer-filters").addEventListener("submit", showFiltered);
byId("explorer-latest").addEventListener("click", (event) => showLatest(event.currentTarget));
byId("explorer-clear").addEventListener("click", clearFilters);
byId("explorer-next").addEventListener("click", nextPage);
byId("explorer-previous").addEventListener("click", previousPage);
byId("explorer-follow").addEventListener("change", toggleFollowing);
document.addEventListener("visibilitychange", () => schedulePoll(FOLLOW_INTERVAL_MS));

export const explorerView = {
  show() {
    state.visible = true;
    if (!state.loaded) {
      showLatest(null);
    }
    schedulePoll(0);
  },
  hide() {
    state.visible = false;
    clearTimeout(state.timer);
    state.timer = null;
  },
};
