// The account holder's app (GET /): open an account, confirm it, log in, see the balance and the
// statement, transfer and withdraw, download one's data and close the account. One page; each view is a <section> shown for its #hash.
// Everything goes through the public JSON API (/web/api.js).

import {
  api, ApiError, clearErrors, dollars, formatTime, markReady, newIdempotencyKey, parseCents, setBusy, showError,
} from "/web/api.js";

const STATEMENT_PAGE_LIMIT = 20;
/** The views that need a login: without a token they show the login view, then themselves. */
const HOLDER_VIEWS = new Set(["account", "transfer", "withdraw"]);
const SESSION_ENDED = "Your session has ended; log in again.";

const $ = (id) => document.getElementById(id);

/**
 * The login, kept in sessionStorage: it lasts as long as the browser tab, and a reload keeps
 * it, but another tab or a later visit logs in again.
 */
const session = {
  get token() { return sessionStorage.getItem("eventbank.token"); },
  get accountNumber() { return sessionStorage.getItem("eventbank.account"); },
  get expired() {
    const expiresAt = Date.parse(sessionStorage.getItem("eventbank.expires_at") ?? "");
    return Number.isFinite(expiresAt) && expiresAt <= Date.now();
  },
  start(token, accountNumber, expiresAt) {
    sessionStorage.setItem("eventbank.token", token);
    sessionStorage.setItem("eventbank.account", accountNumber);
    sessionStorage.setItem("eventbank.expires_at", expiresAt ?? "");
  },
  end() {
    for (const name of ["eventbank.token", "eventbank.account", "eventbank.expires_at"]) {
      sessionStorage.removeItem(name);
    }
  },
};

const state = {
  /** The seq of this tab's last change: reads wait for it (min_seq), so they show it. */
  lastSeq: 0,
  /** Where to go once logged in: the view the holder was on when the session ended. */
  returnTo: null,
  /** A notice for the next view shown ("Your session has ended; ..."). */
  pendingNotice: null,
  /** The account just opened, for the "check your mail" view. */
  opened: null,
  /** The statement's next page (before_seq), or null when the oldest line is shown. */
  nextBeforeSeq: null,
  firstRoute: true,
};

/** Thrown instead of a 401's ApiError once the login view is on its way: callers stop quietly. */
class SessionEnded extends Error {}

/**
 * The holder's own routes: with the token, and with min_seq on reads. A 401 (expired or
 * invalid token) ends the session and shows the login view, which returns here afterwards.
 */
async function holderApi(method, path, options = {}) {
  if (!session.token || session.expired) throw endSession();
  const query = method === "GET" && state.lastSeq ? { ...options.query, min_seq: state.lastSeq } : options.query;
  try {
    return await api(method, path, { ...options, query, token: session.token });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw endSession();
    throw error;
  }
}

function endSession() {
  // Several reads may be refused at once; the first one leads to the login view.
  if (session.token) {
    session.end();
    const { name } = parseHash();
    state.returnTo = HOLDER_VIEWS.has(name) ? location.hash : null;
    state.pendingNotice = SESSION_ENDED;
    go("#login");
  }
  return new SessionEnded();
}

// ---------------------------------------------------------------------------------- routing

const views = {
  open: { show: showOpen, title: "Open an account" },
  "check-mail": { show: showCheckMail, title: "Check your mail" },
  resend: { show: showResend, title: "Send the link again" },
  login: { show: showLogin, title: "Log in" },
  account: { show: showAccount, title: "Your account" },
  transfer: { show: () => showMoneyForm(transferForm), title: "Transfer money" },
  withdraw: { show: () => showMoneyForm(withdrawForm), title: "Withdraw money" },
};

/** "#login?account=1234" → { name: "login", params: account=1234 }. */
function parseHash() {
  const hash = location.hash.slice(1);
  const question = hash.indexOf("?");
  const name = question < 0 ? hash : hash.slice(0, question);
  return { name, params: new URLSearchParams(question < 0 ? "" : hash.slice(question + 1)) };
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  let { name, params } = parseHash();
  if (!(name in views)) name = session.token ? "account" : "login";
  if (HOLDER_VIEWS.has(name) && !session.token) {
    state.returnTo = location.hash;
    name = "login";
  }
  if (name === "check-mail" && !state.opened) name = "open";
  showView(name);
  try {
    await views[name].show(params);
  } catch (error) {
    if (error instanceof SessionEnded) return;
    throw error;
  }
  markReady();
}

function showView(name) {
  for (const section of document.querySelectorAll("section.view")) section.hidden = section.id !== `view-${name}`;
  const loggedIn = Boolean(session.token);
  $("nav-in").hidden = !loggedIn;
  $("nav-out").hidden = loggedIn;
  $("session").hidden = !loggedIn;
  $("session-number").textContent = loggedIn ? groupDigits(session.accountNumber) : "";
  for (const link of document.querySelectorAll("nav.tabs a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const notice = $("page-notice");
  notice.textContent = state.pendingNotice ?? "";
  notice.hidden = !state.pendingNotice;
  state.pendingNotice = null;
  document.title = `${views[name].title} · eventbank`;
  // A new view is announced by moving to its heading; the first one is simply the page.
  if (!state.firstRoute) $(`${name}-heading`).focus();
  state.firstRoute = false;
}

// ------------------------------------------------------------------------------ the helpers

/** "1234567812345678" → "1234 5678 1234 5678": easier to read and to copy by eye. */
function groupDigits(number) {
  return String(number ?? "").replace(/(\d{4})(?=\d)/g, "$1 ");
}

/** What the holder typed as an account number, without the spaces the page shows in them. */
function accountNumberOf(input) {
  return input.value.replace(/\s+/g, "");
}

/** The API's error codes that concern one field, by the field's name in the request body. */
const FIELD_OF_CODE = {
  account_not_found: "to_account_number",
  recipient_not_verified: "to_account_number",
  same_account: "to_account_number",
  insufficient_funds: "amount",
  email_taken: "email",
};

/**
 * Shows an error of the API next to the field it concerns (`fields`: body names → inputs), or
 * in the form's error box. invalid_field names its field: "The field 'amount' must ...", "The
 * password must be ...".
 */
function showApiError(form, error, fields) {
  let name = FIELD_OF_CODE[error.code];
  if (error.code === "invalid_field") {
    const message = error.message.toLowerCase();
    name = Object.keys(fields).find((field) => message.includes(`'${field}'`) || message.startsWith(`the ${field}`));
  }
  if (fields[name]) {
    showError(fields[name], error);
    fields[name].focus();
  } else {
    showFormError(form, error.message);
  }
}

function showFormError(form, message) {
  const box = $(`${form.id}-error`);
  box.textContent = message;
  box.hidden = false;
}

function hideFormMessages(form) {
  clearErrors(form);
  for (const box of form.querySelectorAll(".error-box, .success-box")) box.hidden = true;
}

/** Checks that the fields are filled in; shows "Enter ..." under each empty one. */
function requireFilled(entries) {
  let filled = true;
  for (const [input, message] of entries) {
    if (input.value.trim() === "") {
      showError(input, new Error(message));
      if (filled) input.focus();
      filled = false;
    }
  }
  return filled;
}

/** A form's submit: no page load, and the messages of the last one hidden. */
function onSubmit(form, handle) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    hideFormMessages(form);
    handle();
  });
}

/** Runs a form's request with its button busy, so a second click does nothing meanwhile. */
async function submitting(button, request) {
  setBusy(button, true);
  try {
    await request();
  } catch (error) {
    if (!(error instanceof SessionEnded)) throw error;
  } finally {
    setBusy(button, false);
  }
}

// ------------------------------------------------------------------------- open an account

const openForm = $("open-form");
/** One Idempotency-Key per filled-in form: a retry after a lost reply opens one account, not two. */
let openKey = newIdempotencyKey();

function showOpen() {
  hideFormMessages(openForm);
}

onSubmit(openForm, () => {
  const email = $("open-email");
  const password = $("open-password");
  if (!requireFilled([[email, "Enter your email address."], [password, "Choose a password."]])) return;
  submitting($("open-submit"), async () => {
    try {
      const { json } = await api("POST", "/api/account", {
        body: { email: email.value.trim(), password: password.value }, idempotencyKey: openKey,
      });
      state.opened = { number: json.account_number, email: email.value.trim() };
      openForm.reset();
      openKey = newIdempotencyKey();
      go("#check-mail");
    } catch (error) {
      showApiError(openForm, error, { email, password });
    }
  });
});

function showCheckMail() {
  const { number, email } = state.opened;
  $("check-mail-number").textContent = groupDigits(number);
  $("check-mail-email").textContent = email;
  $("check-mail-login").href = `#login?account=${number}`;
  const transport = document.querySelector('meta[name="eventbank-mail-transport"]')?.content;
  $("check-mail-outbox").hidden = transport !== "file";
}

// ------------------------------------------------------------------------- resend the link

const resendForm = $("resend-form");

function showResend() {
  hideFormMessages(resendForm);
}

onSubmit(resendForm, () => {
  const email = $("resend-email");
  if (!requireFilled([[email, "Enter your email address."]])) return;
  submitting($("resend-submit"), async () => {
    try {
      await api("POST", "/api/verify/resend", { body: { email: email.value.trim() } });
      // The API says the same whatever the account's state, and so does the page.
      const done = $("resend-done");
      done.textContent = "If an account with this address is waiting for its confirmation, we have "
        + "mailed its link again. Look in your mail, and in its spam folder.";
      done.hidden = false;
    } catch (error) {
      showApiError(resendForm, error, { email });
    }
  });
});

// ----------------------------------------------------------------------------------- log in

const loginForm = $("login-form");

function showLogin(params) {
  hideFormMessages(loginForm);
  const account = params.get("account");
  if (account) $("login-account").value = groupDigits(account);
}

onSubmit(loginForm, () => {
  const account = $("login-account");
  const password = $("login-password");
  if (!requireFilled([[account, "Enter your account number."], [password, "Enter your password."]])) return;
  submitting($("login-submit"), async () => {
    try {
      const number = accountNumberOf(account);
      const { json } = await api("POST", "/api/login", {
        body: { account_number: number, password: password.value },
      });
      session.start(json.token, number, json.expires_at);
      loginForm.reset();
      const returnTo = state.returnTo ?? "#account";
      state.returnTo = null;
      go(returnTo);
    } catch (error) {
      showApiError(loginForm, error, { account_number: account, password });
    }
  });
});

$("logout").addEventListener("click", () => {
  session.end();
  state.lastSeq = 0;
  state.returnTo = null;
  state.pendingNotice = "You have logged out.";
  go("#login");
});

// ----------------------------------------------------------------------------- the account

async function showAccount() {
  const error = $("account-error");
  error.hidden = true;
  $("statement-error").hidden = true;
  try {
    const [account, statement] = await Promise.all([
      holderApi("GET", "/api/account"),
      holderApi("GET", "/api/account/transactions", { query: { limit: STATEMENT_PAGE_LIMIT } }),
    ]);
    showProfile(account.json);
    $("statement-lines").replaceChildren();
    showStatementPage(statement.json);
  } catch (failure) {
    if (failure instanceof SessionEnded) throw failure;
    error.textContent = failure.message;
    error.hidden = false;
  }
}

function showProfile(account) {
  $("account-balance").textContent = dollars(account.balance);
  $("account-number").textContent = groupDigits(account.account_number);
  $("account-email").textContent = account.email ?? "";
  $("account-opened").textContent = formatTime(account.opened_at);
  $("account-unverified").hidden = account.verified || account.closed;
  $("account-resend-done").hidden = true;
  // A closed account moves no money: the page offers only what is left, reading and the export.
  $("account-closed").hidden = !account.closed;
  $("account-actions").hidden = account.closed;
  $("close-card").hidden = account.closed;
  hideCloseConfirmation();
  $("close-error").hidden = true;
}

function showStatementPage(page) {
  const body = $("statement-lines");
  for (const line of page.transactions) body.append(statementRow(line));
  const empty = body.children.length === 0;
  $("statement").hidden = empty;
  $("statement-empty").hidden = !empty;
  state.nextBeforeSeq = page.next_before_seq ?? null;
  $("statement-older").hidden = state.nextBeforeSeq === null;
}

function statementRow(line) {
  const incoming = line.type === "transfer_in";
  const what = line.type === "withdrawal" ? "Withdrawal"
    : line.type === "forfeit" ? "Opening bonus given up at closing"
      : `${incoming ? "From" : "To"} ${groupDigits(line.counterparty_account_number)}`;
  const amount = (incoming ? "+" : "") + dollars(incoming ? line.amount : -line.amount);
  const row = document.createElement("tr");
  row.dataset.seq = line.seq;
  row.append(
    cell("Time", formatTime(line.time)),
    cell("What", what),
    cell("Amount", amount, incoming ? "num positive" : "num negative"),
    cell("Balance after", dollars(line.balance_after), "num"),
  );
  return row;
}

function cell(label, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  td.dataset.label = label;
  if (className) td.className = className;
  return td;
}

$("statement-older").addEventListener("click", (event) => {
  const button = event.currentTarget;
  $("statement-error").hidden = true;
  submitting(button, async () => {
    try {
      const { json } = await holderApi("GET", "/api/account/transactions", {
        query: { limit: STATEMENT_PAGE_LIMIT, before_seq: state.nextBeforeSeq },
      });
      showStatementPage(json);
    } catch (error) {
      if (error instanceof SessionEnded) throw error;
      $("statement-error").textContent = error.message;
      $("statement-error").hidden = false;
    }
  });
});

$("account-resend").addEventListener("click", (event) => {
  const done = $("account-resend-done");
  submitting(event.currentTarget, async () => {
    try {
      await api("POST", "/api/verify/resend", { body: { account_number: session.accountNumber } });
      done.textContent = "We have mailed the link again (at most once a minute).";
    } catch (error) {
      done.textContent = error.message;
    }
    done.hidden = false;
  });
});

// ------------------------------------------------------------ download the data, close

/** The object URL of the last file downloaded, or null. */
let exportUrl = null;

/**
 * GET /api/account/export, saved as a .json file: the document as the API gives it, pretty
 * printed, named for the account and the day.
 */
$("export-download").addEventListener("click", (event) => {
  const done = $("export-done");
  const error = $("export-error");
  done.hidden = true;
  error.hidden = true;
  submitting(event.currentTarget, async () => {
    try {
      const { json } = await holderApi("GET", "/api/account/export");
      const name = `eventbank-${json.profile.account_number}-${json.exported_at.slice(0, 10)}.json`;
      const file = new Blob([JSON.stringify(json, null, 2) + "\n"], { type: "application/json" });
      // The previous file's address is let go only now: a browser may still read a blob after the click.
      if (exportUrl) URL.revokeObjectURL(exportUrl);
      exportUrl = URL.createObjectURL(file);
      const link = document.createElement("a");
      link.href = exportUrl;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      done.textContent = `Saved ${name}: your details, ${count(json.movements.length, "movement")} `
        + `and ${count(json.mails.length, "mail")}.`;
      done.hidden = false;
    } catch (failure) {
      if (failure instanceof SessionEnded) throw failure;
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
});

function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function hideCloseConfirmation() {
  $("close-confirm").hidden = true;
  $("close-start").hidden = false;
}

/** Closing is asked for twice: the button, then the question with the account's number. */
$("close-start").addEventListener("click", () => {
  $("close-error").hidden = true;
  $("close-question").textContent = `Close account ${groupDigits(session.accountNumber)} for good? `
    + "It will send and receive nothing from then on.";
  $("close-start").hidden = true;
  $("close-confirm").hidden = false;
  $("close-cancel").focus();
});

$("close-cancel").addEventListener("click", () => {
  hideCloseConfirmation();
  $("close-start").focus();
});

$("close-confirm-yes").addEventListener("click", (event) => {
  const error = $("close-error");
  submitting(event.currentTarget, async () => {
    try {
      const { json } = await holderApi("POST", "/api/account/close");
      state.lastSeq = Math.max(state.lastSeq, json.seq);
      await showAccount();
      $("account-closed").focus();
    } catch (failure) {
      if (failure instanceof SessionEnded) throw failure;
      // balance_not_zero above all: the API's message says what to do first.
      hideCloseConfirmation();
      error.textContent = failure.message;
      error.hidden = false;
      $("close-start").focus();
    }
  });
});

// ------------------------------------------------------------------ transfer and withdraw

/**
 * A form that moves money. Its Idempotency-Key is made when the form is shown empty and kept
 * for every submit of that filling: a double click, or a retry after the reply was lost, is one
 * request to the bank, which answers a repeat with the first reply and moves the money once.
 */
class MoneyForm {
  constructor(name, { path, fields, body, done }) {
    this.form = $(`${name}-form`);
    this.button = $(`${name}-submit`);
    this.view = $(`view-${name}`);
    this.path = path;
    this.fields = fields;
    this.body = body;
    this.done = done;
    this.key = newIdempotencyKey();
    /** Emptied by a success and not typed in since: a second click of a double click ends here. */
    this.spent = false;
    this.form.addEventListener("input", () => { this.spent = false; });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!this.spent) this.submit();
    });
  }

  /** A fresh form: empty, and with a new key for the next filling. */
  reset() {
    this.form.reset();
    clearErrors(this.form);
    this.key = newIdempotencyKey();
    this.spent = false;
  }

  submit() {
    hideFormMessages(this.form);
    const body = this.body(this.fields);
    if (!body) return;
    submitting(this.button, async () => {
      try {
        const { json } = await holderApi("POST", this.path, { body, idempotencyKey: this.key });
        state.lastSeq = Math.max(state.lastSeq, json.seq);
        this.reset();
        this.spent = true;
        this.showBalance(json.balance);
        this.showDone(json);
      } catch (error) {
        if (error instanceof SessionEnded) throw error;
        this.showFailure(error);
      }
    });
  }

  showDone(reply) {
    const box = $(`${this.form.id.replace("-form", "")}-done`);
    const link = document.createElement("a");
    link.href = "#account";
    link.textContent = "See it in your statement";
    box.replaceChildren(`${this.done(reply)} Your balance is now ${dollars(reply.balance)}. `, link, ".");
    box.hidden = false;
  }

  showFailure(error) {
    if (error.code === "idempotency_key_reused") {
      // The first sending of this filling went through with other values (its reply was lost).
      this.key = newIdempotencyKey();
      showFormError(this.form, "An earlier sending of this form went through with other values. Check "
        + "your statement before you send again.");
      return;
    }
    if (error.status === 0 || error.code === "commit_outcome_unknown") {
      // Unknown whether it happened: the same key makes sending again safe.
      showFormError(this.form, `${error.message} Sending again is safe: the money moves at most once.`);
      return;
    }
    showApiError(this.form, error, this.fields);
  }

  showBalance(balance) {
    for (const shown of this.view.querySelectorAll(".form-balance")) shown.textContent = dollars(balance);
  }
}

/** The amount field as cents, or null after showing why it is not an amount. */
function centsOf(input) {
  try {
    return parseCents(input.value);
  } catch (error) {
    showError(input, error);
    input.focus();
    return null;
  }
}

const transferForm = new MoneyForm("transfer", {
  path: "/api/money_transfer",
  fields: { to_account_number: $("transfer-to"), amount: $("transfer-amount") },
  body: ({ to_account_number: to, amount }) => {
    if (!requireFilled([[to, "Enter the number of the account to send the money to."]])) return null;
    const cents = centsOf(amount);
    return cents === null ? null : { to_account_number: accountNumberOf(to), amount: cents };
  },
  done: (reply) => `Sent ${dollars(reply.amount)} to account ${groupDigits(reply.to_account_number)}.`,
});

const withdrawForm = new MoneyForm("withdraw", {
  path: "/api/withdraw",
  fields: { amount: $("withdraw-amount") },
  body: ({ amount }) => {
    const cents = centsOf(amount);
    return cents === null ? null : { amount: cents };
  },
  done: (reply) => `Withdrew ${dollars(reply.amount)}.`,
});

async function showMoneyForm(moneyForm) {
  moneyForm.reset();
  hideFormMessages(moneyForm.form);
  try {
    const { json } = await holderApi("GET", "/api/account");
    moneyForm.showBalance(json.balance);
  } catch (error) {
    if (error instanceof SessionEnded) throw error;
    showFormError(moneyForm.form, error.message);
  }
}

window.addEventListener("hashchange", route);
route();
