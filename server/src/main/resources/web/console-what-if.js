// The what-if sandbox: recorded events to leave out (ticked in pages of GET /api/admin/events),
// commands to add after a seq, and POST /api/admin/what-if's answer: the recorded events that
// would now be refused, each added command's outcome, and the balances that would differ.
import { clearErrors, dollars, formatTime, parseCents, setBusy, showError } from "/web/api.js";
import {
  accountNumberOf, adminApi, byId, cell, element, fillRows, hideProblem, load, showProblem, summary,
  wholeNumberOf,
} from "/web/console-common.js";

const PAGE_SIZE = 20;
const KIND_WORDS = { transfer: "transfer", withdraw: "withdrawal", open: "opening", verify: "verification" };

const state = {
  loaded: false,
  filters: {},
  afterSeq: 0,
  previousPages: [],
  nextAfterSeq: null,
  excluded: new Map(),   // seq → the event line, to describe it in the changes and the result
  commands: [],          // { command (the API's), text (its description) }
  shown: new Map(),      // seq → event line of the events listed (for the refused ones' descriptions)
  lastSeq: 0,
};

// Step 1: events to leave out.

function readFilters() {
  const form = byId("whatif-filters");
  clearErrors(form);
  const account = byId("whatif-account");
  const after = byId("whatif-after");
  const filters = { type: byId("whatif-type").value || undefined, limit: PAGE_SIZE };
  try {
    filters.account = account.value.trim() === "" ? undefined : accountNumberOf(account.value);
  } catch (error) {
    showError(account, error);
    account.focus();
    return null;
  }
  try {
    filters.after_seq = wholeNumberOf(after.value, 0, "seq");
  } catch (error) {
    showError(after, error);
    after.focus();
    return null;
  }
  return filters;
}

function loadEvents(afterSeq, button) {
  return load({
    button,
    problem: byId("whatif-events-problem"),
    call: async () => (await adminApi("GET", "/api/admin/events",
      { query: { ...state.filters, after_seq: afterSeq } })).json,
    show: (json) => {
      state.afterSeq = afterSeq;
      state.nextAfterSeq = json.next_after_seq;
      showEvents(json.events);
      state.loaded = true;
    },
  });
}

function showEvents(events) {
  const list = document.createDocumentFragment();
  for (const event of events) {
    state.shown.set(event.seq, event);
    const id = `leave-out-${event.seq}`;
    const box = element("input", { type: "checkbox", id, checked: state.excluded.has(event.seq) });
    box.dataset.seq = String(event.seq);
    box.addEventListener("change", () => {
      if (box.checked) {
        state.excluded.set(event.seq, event);
      } else {
        state.excluded.delete(event.seq);
      }
      showChanges();
    });
    const label = element("label", { htmlFor: id },
      element("span", { className: "seq", textContent: `seq ${event.seq}` }),
      element("span", { className: "type", textContent: event.type }),
      element("span", { className: "what", textContent: summary(event) }),
      element("time", { className: "muted when", dateTime: event.time, textContent: formatTime(event.time) }));
    list.append(element("li", { className: "pick" }, box, label));
  }
  byId("whatif-events").replaceChildren(list);
  byId("whatif-events-empty").hidden = events.length > 0;
  byId("whatif-previous").disabled = state.previousPages.length === 0;
  byId("whatif-next").disabled = state.nextAfterSeq === null;
}

async function showFiltered(event) {
  event.preventDefault();
  const filters = readFilters();
  if (filters === null) {
    return;
  }
  const { after_seq: afterSeq, ...rest } = filters;
  state.filters = rest;
  state.previousPages = [];
  await loadEvents(afterSeq ?? 0, byId("whatif-show"));
}

/** The last page of the log (for these filters, the page that ends at the head). */
async function showLatest(button) {
  const filters = readFilters();
  if (filters === null) {
    return;
  }
  const { after_seq: ignored, ...rest } = filters;
  state.filters = rest;
  try {
    await readHead();
    const start = Math.max(0, state.lastSeq - PAGE_SIZE);
    state.previousPages = start > 0 ? [Math.max(0, start - PAGE_SIZE)] : [];
    await loadEvents(start, button);
  } catch (error) {
    showProblem(byId("whatif-events-problem"), error);
  }
}

async function readHead() {
  const { json } = await adminApi("GET", "/api/admin/audit/head");
  state.lastSeq = json.seq;
  const after = byId("command-after");
  if (after.value === "") {
    after.value = String(json.seq);
  }
}

// Step 2: commands to add.

function kind() {
  return byId("whatif-command-form").querySelector("input[name=kind]:checked").value;
}

function showKindFields() {
  const chosen = kind();
  for (const part of byId("whatif-command-form").querySelectorAll("[data-kinds]")) {
    part.hidden = !part.dataset.kinds.split(" ").includes(chosen);
  }
  byId("command-add").textContent = `Add the ${KIND_WORDS[chosen]}`;
}

/** A made-up account number for a hypothetical opening: 16 digits, not starting with 0. */
function newAccountNumber() {
  const digits = crypto.getRandomValues(new Uint8Array(16));
  const number = Array.from(digits, (d, i) => (i === 0 ? 1 + (d % 9) : d % 10)).join("");
  byId("command-account").value = number;
}

/** Reads one field with `parse`; on an error shows it at the field and answers undefined. */
function read(id, parse, problems) {
  const field = byId(id);
  try {
    return parse(field.value);
  } catch (error) {
    showError(field, error);
    problems.push(field);
    return undefined;
  }
}

function addCommand(event) {
  event.preventDefault();
  const form = byId("whatif-command-form");
  clearErrors(form);
  const problems = [];
  const chosen = kind();
  const afterSeq = read("command-after", (text) => {
    const seq = wholeNumberOf(text, 0, "seq");
    if (seq === undefined) {
      throw new Error("Enter the seq after which the command runs (0: before the first event).");
    }
    return seq;
  }, problems);
  let command;
  let text;
  if (chosen === "transfer") {
    const from = read("command-from", accountNumberOf, problems);
    const to = read("command-to", accountNumberOf, problems);
    const amount = read("command-amount", parseCents, problems);
    command = { type: "transfer", from_account_number: from, to_account_number: to, amount };
    text = `Transfer ${amount ? dollars(amount) : ""} from ${from} to ${to}`;
  } else if (chosen === "withdraw") {
    const account = read("command-account", accountNumberOf, problems);
    const amount = read("command-amount", parseCents, problems);
    command = { type: "withdraw", account_number: account, amount };
    text = `Withdraw ${amount ? dollars(amount) : ""} from ${account}`;
  } else if (chosen === "open") {
    const account = read("command-account", accountNumberOf, problems);
    const email = read("command-email", (value) => {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim())) {
        throw new Error("Enter an email address, like someone@example.com.");
      }
      return value.trim();
    }, problems);
    const opening = read("command-opening", (value) => (value.trim() === "" ? undefined
      : value.trim().replace(/^\$/, "") === "0" ? 0 : parseCents(value)), problems);
    command = { type: "open", account_number: account, email };
    if (opening !== undefined) {
      command.opening_balance = opening;
    }
    text = `Open ${account} for ${email}` + (opening !== undefined ? ` with ${dollars(opening)}` : "");
  } else {
    const account = read("command-account", accountNumberOf, problems);
    command = { type: "verify", account_number: account };
    text = `Verify ${account}`;
  }
  if (problems.length > 0) {
    problems[0].focus();
    return;
  }
  state.commands.push({ command: { after_seq: afterSeq, ...command }, text });
  showChanges();
  byId("whatif-changes").lastElementChild?.querySelector("button")?.focus({ preventScroll: true });
}

// Step 3: the changes, and the run.

function showChanges() {
  const list = document.createDocumentFragment();
  for (const [seq, event] of [...state.excluded].sort((a, b) => a[0] - b[0])) {
    list.append(change(`Leave out seq ${seq}: ${event.type}, ${summary(event)}`, "leave-out", () => {
      state.excluded.delete(seq);
      const box = byId(`leave-out-${seq}`);
      if (box) {
        box.checked = false;
      }
    }));
  }
  state.commands.forEach((entry, index) => {
    list.append(change(`After seq ${entry.command.after_seq}: ${entry.text}`, "add", () => {
      state.commands.splice(index, 1);
    }));
  });
  byId("whatif-changes").replaceChildren(list);
  byId("whatif-no-changes").hidden = state.excluded.size + state.commands.length > 0;
}

function change(text, kindOfChange, remove) {
  const button = element("button", { type: "button", className: "link", textContent: "Remove", "aria-label": `Remove: ${text}` });
  button.addEventListener("click", () => {
    remove();
    showChanges();
    byId("whatif-run").focus({ preventScroll: true });
  });
  return element("li", { className: `change ${kindOfChange}` }, element("span", { textContent: text }), button);
}

function resetChanges() {
  state.excluded.clear();
  state.commands = [];
  for (const box of byId("whatif-events").querySelectorAll("input[type=checkbox]")) {
    box.checked = false;
  }
  showChanges();
  byId("whatif-result").hidden = true;
}

async function run(event) {
  event.preventDefault();
  const form = byId("whatif-run-form");
  clearErrors(form);
  const problem = byId("whatif-problem");
  hideProblem(problem);
  const field = byId("whatif-until");
  let until;
  try {
    until = wholeNumberOf(field.value, 0, "seq");
  } catch (error) {
    showError(field, error);
    field.focus();
    return;
  }
  const body = {
    exclude_seqs: [...state.excluded.keys()].sort((a, b) => a - b),
    commands: state.commands.map((entry) => entry.command),
  };
  if (until !== undefined) {
    body.until_seq = until;
  }
  const button = byId("whatif-run");
  setBusy(button, true);
  try {
    const { json } = await adminApi("POST", "/api/admin/what-if", { body });
    showResult(json);
  } catch (error) {
    showProblem(problem, error);
  } finally {
    setBusy(button, false);
  }
}

function reasonCell(item) {
  return cell(element("span", {},
    element("span", { textContent: item.message }), " ",
    element("code", { className: "reason-code", textContent: item.reason })));
}

function signedDollars(cents) {
  return (cents > 0 ? "+" : "") + dollars(cents);
}

function showResult(result) {
  const refused = result.rejected.length;
  const failedCommands = result.commands.filter((item) => !item.accepted).length;
  const differing = result.balance_differences.length;
  byId("whatif-summary").textContent = `Replayed ${result.events_replayed.toLocaleString("en-US")} events`
    + ` from seq ${result.branch_seq} to seq ${result.until_seq}, leaving out ${result.excluded_seqs.length}`
    + ` and adding ${result.commands.length} command${result.commands.length === 1 ? "" : "s"}:`
    + ` ${refused} recorded event${refused === 1 ? "" : "s"} would be refused,`
    + ` ${failedCommands} of your commands refused, and ${differing} balance${differing === 1 ? "" : "s"} would differ.`;

  const rejected = document.createDocumentFragment();
  for (const item of result.rejected) {
    const event = state.shown.get(item.seq);
    const what = event ? `${item.type}: ${summary(event)}` : item.type;
    rejected.append(element("tr", { className: "refused" },
      cell(String(item.seq), true), cell(what), reasonCell(item)));
  }
  fillRows(byId("whatif-rejected-rows"), rejected);
  byId("whatif-rejected").hidden = refused === 0;
  byId("whatif-rejected-none").hidden = refused > 0;

  const commands = document.createDocumentFragment();
  for (const item of result.commands) {
    const entry = state.commands[item.index];
    const outcome = item.accepted
      ? cell(element("span", { className: "positive", textContent: "accepted" }))
      : reasonCell(item);
    commands.append(element("tr", { className: item.accepted ? "accepted" : "refused" },
      cell(String(item.after_seq), true), cell(entry ? entry.text : item.type), outcome));
  }
  fillRows(byId("whatif-command-rows"), commands);
  byId("whatif-commands").hidden = result.commands.length === 0;
  byId("whatif-commands-none").hidden = result.commands.length > 0;

  const differences = document.createDocumentFragment();
  for (const item of result.balance_differences) {
    differences.append(element("tr", { "data-account": item.account_number },
      cell(element("span", { className: "account-number", textContent: item.account_number })),
      cell(item.balance === null ? "(no account)" : dollars(item.balance), true),
      cell(item.what_if_balance === null ? "(no account)" : dollars(item.what_if_balance), true),
      element("td", { className: `num ${item.difference >= 0 ? "positive" : "negative"}`,
        textContent: signedDollars(item.difference) })));
  }
  fillRows(byId("whatif-difference-rows"), differences);
  byId("whatif-differences").hidden = differing === 0;
  byId("whatif-differences-none").hidden = differing > 0;

  const section = byId("whatif-result");
  section.hidden = false;
  section.focus({ preventScroll: true });
  section.scrollIntoView({ block: "start" });
}

byId("whatif-filters").addEventListener("submit", showFiltered);
byId("whatif-latest").addEventListener("click", (event) => showLatest(event.currentTarget));
byId("whatif-next").addEventListener("click", () => {
  if (state.nextAfterSeq !== null) {
    state.previousPages.push(state.afterSeq);
    loadEvents(state.nextAfterSeq, byId("whatif-next"));
  }
});
byId("whatif-previous").addEventListener("click", () => {
  if (state.previousPages.length > 0) {
    loadEvents(state.previousPages.pop(), byId("whatif-previous"));
  }
});
for (const radio of byId("whatif-command-form").querySelectorAll("input[name=kind]")) {
  radio.addEventListener("change", showKindFields);
}
byId("command-new-number").addEventListener("click", newAccountNumber);
byId("whatif-command-form").addEventListener("submit", addCommand);
byId("whatif-run-form").addEventListener("submit", run);
byId("whatif-reset").addEventListener("click", resetChanges);
showKindFields();
showChanges();

export const whatIfView = {
  show() {
    if (!state.loaded) {
      showLatest(null);
    }
  },
};
