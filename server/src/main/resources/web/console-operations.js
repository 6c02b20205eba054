// The operator's other views: the audit head (GET /api/admin/audit/head), the dead letters (GET
// /api/admin/mail/dead, each with its retry), and health with a few key figures picked from
// GET /health and GET /metrics (Prometheus' text format).
import { api, ApiError, formatTime, setBusy } from "/web/api.js";
import { adminApi, byId, cell, element, fillRows, load } from "/web/console-common.js";

const DEAD_PAGE_SIZE = 50;

// The audit head.

function readAuditHead(button) {
  return load({
    button,
    problem: byId("audit-problem"),
    call: async () => (await adminApi("GET", "/api/admin/audit/head")).json,
    show: (json) => {
      byId("audit-seq").textContent = json.seq.toLocaleString("en-US");
      byId("audit-hash").textContent = json.hash;
      byId("audit-read-at").textContent = formatTime(new Date().toISOString());
      byId("audit-facts").hidden = false;
    },
  });
}

export const auditView = {
  show() {
    readAuditHead(null);
  },
};

// Dead letters.

const dead = { afterSeq: 0, nextAfterSeq: null, pages: [] };

function loadDeadLetters(afterSeq, button) {
  return load({
    button,
    problem: byId("dead-problem"),
    call: async () => (await adminApi("GET", "/api/admin/mail/dead",
      { query: { after_seq: afterSeq, limit: DEAD_PAGE_SIZE } })).json,
    show: (json) => {
      dead.afterSeq = afterSeq;
      dead.nextAfterSeq = json.next_after_seq;
      const rows = document.createDocumentFragment();
      for (const letter of json.dead_letters) {
        rows.append(deadLetterRow(letter));
      }
      fillRows(byId("dead-rows"), rows);
      byId("dead-table").hidden = json.dead_letters.length === 0;
      byId("dead-none").hidden = json.dead_letters.length > 0 || afterSeq > 0;
      byId("dead-next").disabled = dead.nextAfterSeq === null;
      byId("dead-previous").disabled = dead.pages.length === 0;
    },
  });
}

function deadLetterRow(letter) {
  const retry = element("button", {
    type: "button", className: "secondary small", textContent: "Retry sending",
    "aria-label": `Retry sending the mail of seq ${letter.seq} to ${letter.recipient}`,
  });
  const outcome = element("p", { className: "field-error", hidden: true, id: `dead-${letter.seq}-error`, role: "status" });
  retry.addEventListener("click", () => retryDeadLetter(letter, retry, outcome));
  return element("tr", { "data-seq": String(letter.seq) },
    cell(String(letter.seq), true),
    cell(element("span", {},
      element("strong", { textContent: letter.subject ?? letter.kind }), element("br"),
      element("span", { className: "muted", textContent: `${letter.kind} to ${letter.recipient}` }))),
    cell(letter.reason),
    cell(element("time", { dateTime: letter.set_aside_at, textContent: formatTime(letter.set_aside_at) })),
    cell(element("span", {}, retry, outcome)));
}

async function retryDeadLetter(letter, button, outcome) {
  setBusy(button, true);
  outcome.hidden = true;
  try {
    await adminApi("POST", `/api/admin/mail/dead/${letter.seq}/retry`);
    const notice = byId("dead-notice");
    notice.textContent = `The mail of seq ${letter.seq} to ${letter.recipient} was sent.`;
    notice.hidden = false;
    await loadDeadLetters(dead.afterSeq, null);
  } catch (error) {
    if (error instanceof ApiError && error.code.startsWith("operator_key")) {
      return;
    }
    outcome.textContent = error.message;
    outcome.hidden = false;
    setBusy(button, false);
  }
}

export const deadLettersView = {
  show() {
    dead.pages = [];
    byId("dead-notice").hidden = true;
    loadDeadLetters(0, null);
  },
};

byId("dead-refresh").addEventListener("click", (event) => {
  byId("dead-notice").hidden = true;
  loadDeadLetters(dead.afterSeq, event.currentTarget);
});
byId("dead-next").addEventListener("click", (event) => {
  dead.pages.push(dead.afterSeq);
  loadDeadLetters(dead.nextAfterSeq, event.currentTarget);
});
byId("dead-previous").addEventListener("click", (event) => {
  loadDeadLetters(dead.pages.pop() ?? 0, event.currentTarget);
});

// Health and key figures.

/** Prometheus' text format as samples: { name, labels: {...}, value }. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) {
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) {
      continue;
    }
    const labels = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function total(samples, name, where = () => true) {
  const matching = samples.filter((sample) => sample.name === name && where(sample.labels));
  return matching.length === 0 ? null : matching.reduce((sum, sample) => sum + sample.value, 0);
}

/** The smallest bucket bound holding the fraction `q` of a histogram's observations. */
function quantile(samples, name, q) {
  const count = total(samples, `${name}_count`);
  if (!count) {
    return null;
  }
  const buckets = samples.filter((sample) => sample.name === `${name}_bucket`)
    .map((sample) => ({ le: Number(sample.labels.le === "+Inf" ? Infinity : sample.labels.le), count: sample.value }))
    .sort((a, b) => a.le - b.le);
  return buckets.find((bucket) => bucket.count >= q * count)?.le ?? null;
}

const whole = (value) => Math.round(value).toLocaleString("en-US");
const bytes = (value) => {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
};
const millis = (seconds) => (seconds === Infinity ? "more than the largest bucket" : `${(seconds * 1000).toFixed(2)} ms`);

/** The figures worth a glance, each [what, value]; those the server does not export are left out. */
function keyFigures(samples) {
  const figures = [];
  const add = (what, value, format) => {
    if (value !== null && !Number.isNaN(value)) {
      figures.push([what, format(value)]);
    }
  };
  add("Last durable seq", total(samples, "eventbank_committed_seq"), whole);
  add("Events committed since start", total(samples, "eventbank_events_total"), whole);
  add("Commit batches (one fsync each) since start", total(samples, "eventbank_commits_total"), whole);
  const batches = total(samples, "eventbank_batch_events_count");
  if (batches) {
    add("Mean events per batch", total(samples, "eventbank_batch_events_sum") / batches, (v) => v.toFixed(1));
    add("Largest batches (99th percentile, at most)", quantile(samples, "eventbank_batch_events", 0.99), whole);
  }
  const fsyncs = total(samples, "eventbank_fsync_seconds_count");
  if (fsyncs) {
    add("Mean fsync time", total(samples, "eventbank_fsync_seconds_sum") / fsyncs, millis);
    add("Slowest fsyncs (99th percentile, at most)", quantile(samples, "eventbank_fsync_seconds", 0.99), millis);
  }
  for (const outcome of ["committed", "replayed", "rejected", "unavailable"]) {
    add(`Commands ${outcome}`, total(samples, "eventbank_commands_total", (labels) => labels.outcome === outcome), whole);
  }
  add("Commands refused while busy", total(samples, "eventbank_busy_rejections_total"), whole);
  const lags = samples.filter((sample) => sample.name === "eventbank_read_model_lag_events");
  if (lags.length > 0) {
    add("Read models' largest lag (events)", Math.max(...lags.map((sample) => sample.value)), whole);
  }
  add("Journal on disk", total(samples, "eventbank_journal_bytes"), bytes);
  add("Free disk space", total(samples, "eventbank_disk_free_bytes"), bytes);
  return figures;
}

/** GET /health answers 503 with its JSON when the node failed: that is a status to show, not an error. */
async function readHealth() {
  try {
    const { json } = await api("GET", "/health");
    return json;
  } catch (error) {
    if (error instanceof ApiError && error.status === 503) {
      return { status: "failed", problems: [error.message] };
    }
    throw error;
  }
}

async function readMetrics() {
  let reply;
  try {
    reply = await fetch("/metrics", { cache: "no-store" });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check your connection and try again.");
  }
  if (!reply.ok) {
    throw new ApiError(reply.status, `http_${reply.status}`, `GET /metrics answered ${reply.status}.`);
  }
  return parseMetrics(await reply.text());
}

function refreshHealth(button) {
  return load({
    button,
    problem: byId("health-problem"),
    call: () => Promise.all([readHealth(), readMetrics()]),
    show: ([health, samples]) => {
      const badge = byId("health-badge");
      badge.textContent = health.status;
      badge.className = `badge status-${health.status}`;
      const facts = [];
      if (health.last_seq !== undefined) {
        facts.push(`last seq ${health.last_seq.toLocaleString("en-US")}`);
      }
      if (health.role) {
        facts.push(`role ${health.role}`);
      }
      if (health.epoch) {
        facts.push(`epoch ${health.epoch}`);
      }
      if (health.lag_events > 0) {
        facts.push(`${health.lag_events.toLocaleString("en-US")} events behind`);
      }
      if (health.leader_url && health.role !== "leader") {
        facts.push(`leader ${health.leader_url}`);
      }
      byId("health-summary").textContent = facts.join(" · ");
      const problems = health.problems ?? [];
      byId("health-problems").replaceChildren(...problems.map((text) => element("li", { textContent: text })));
      byId("health-problems").hidden = problems.length === 0;
      byId("health-status-card").hidden = false;
      byId("figure-rows").replaceChildren(...keyFigures(samples).map(([what, value]) =>
        element("tr", {}, element("th", { scope: "row", textContent: what }), cell(value, true))));
      byId("figures-table").hidden = false;
      byId("health-read-at").textContent = `Read at ${formatTime(new Date().toISOString())}.`;
    },
  });
}

byId("audit-refresh").addEventListener("click", (event) => readAuditHead(event.currentTarget));
byId("health-refresh").addEventListener("click", (event) => refreshHealth(event.currentTarget));

export const healthView = {
  show() {
    refreshHealth(null);
  },
};
