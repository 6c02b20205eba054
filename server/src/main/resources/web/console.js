// The operator's console: asks for the operator key once per tab, then shows one view at a
// time, chosen by the URL's hash so that links, back and forward work.
import { clearErrors, setBusy, showError } from "/web/api.js";
import {
  adminApi, byId, forgetOperatorKey, hideProblem, isKeyProblem, onKeyProblem, operatorKey, showProblem,
  storeOperatorKey,
} from "/web/console-common.js";
import { explorerView } from "/web/console-explorer.js";
import { timeTravelView } from "/web/console-time-travel.js";
import { whatIfView } from "/web/console-what-if.js";
import { auditView, deadLettersView, healthView } from "/web/console-operations.js";
import { forgetView } from "/web/console-forget.js";

const VIEWS = {
  "explorer": explorerView,
  "time-travel": timeTravelView,
  "what-if": whatIfView,
  "audit": auditView,
  "dead-letters": deadLettersView,
  "forget": forgetView,
  "health": healthView,
};
const DEFAULT_VIEW = "explorer";
const TITLES = {
  "key": "Operator key",
  "explorer": "Events",
  "time-travel": "Time travel",
  "what-if": "What-if sandbox",
  "audit": "Audit head",
  "dead-letters": "Dead letters",
  "forget": "Forget an account",
  "health": "Health",
};

let currentView = null;
let firstRoute = true;

function viewName() {
  const name = location.hash.slice(1);
  return Object.hasOwn(VIEWS, name) ? name : DEFAULT_VIEW;
}

/** Shows the view the hash names (or the key view while no key is known). */
function route() {
  const name = operatorKey() ? viewName() : "key";
  if (currentView && currentView !== name) {
    VIEWS[currentView]?.hide?.();
  }
  for (const view of document.querySelectorAll(".view")) {
    view.hidden = view.id !== `view-${name}`;
  }
  byId("console-tabs").hidden = name === "key";
  byId("forget-key").hidden = name === "key";
  for (const link of byId("console-tabs").querySelectorAll("a")) {
    if (link.getAttribute("href") === `#${name}`) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  }
  document.title = `${TITLES[name]} · eventbank console`;
  const changed = currentView !== name;
  currentView = name;
  if (!firstRoute && changed) {
    // Moves keyboard and screen-reader users to the view they chose, as a page load would.
    byId(`${name}-heading`)?.focus();
  }
  firstRoute = false;
  if (name === "key") {
    byId("operator-key").focus();
  } else {
    VIEWS[name].show();
  }
}

/**
 * A wrong key asks again, with the API's message at the field; a server without a key says how
 * to set one (nothing typed here can help, so the message goes above the form).
 */
function askForKey(error) {
  forgetOperatorKey();
  route();
  if (error.code === "operator_key_not_configured") {
    const problem = byId("key-problem");
    problem.textContent = error.message;
    problem.hidden = false;
  } else {
    showError(byId("operator-key"), error);
  }
}

async function submitKey(event) {
  event.preventDefault();
  const form = byId("key-form");
  const field = byId("operator-key");
  const button = byId("key-submit");
  clearErrors(form);
  hideProblem(byId("key-problem"));
  const key = field.value.trim();
  if (key === "") {
    showError(field, new Error("Enter the operator key."));
    field.focus();
    return;
  }
  storeOperatorKey(key);
  setBusy(button, true);
  try {
    // The audit head is the cheapest operator route: it proves the key before any view loads.
    await adminApi("GET", "/api/admin/audit/head");
    field.value = "";
    firstRoute = false;
    route();
  } catch (error) {
    if (!isKeyProblem(error)) {
      forgetOperatorKey();
      showProblem(byId("key-problem"), error);
    }
  } finally {
    setBusy(button, false);
  }
}

function forgetKey() {
  VIEWS[currentView]?.hide?.();
  forgetOperatorKey();
  hideProblem(byId("key-problem"));
  route();
}

onKeyProblem(askForKey);
byId("key-form").addEventListener("submit", submitKey);
byId("forget-key").addEventListener("click", forgetKey);
window.addEventListener("hashchange", route);
route();
