// Forgetting a closed account's holder (POST /api/admin/accounts/{number}/forget): asked for
// twice, the number typed and then the question with it, since it cannot be undone. A refusal
// shows the API's message (409 account_not_closed, account_not_forgettable).
import { clearErrors, setBusy, showError } from "/web/api.js";
import { accountNumberOf, adminApi, byId, hideProblem, showProblem } from "/web/console-common.js";

/** The number the question is about, once the form passed it on; null when none is asked. */
let asked = null;

function reset() {
  asked = null;
  byId("forget-confirm").hidden = true;
  byId("forget-submit").hidden = false;
}

function ask(event) {
  event.preventDefault();
  const form = byId("forget-form");
  const field = byId("forget-number");
  clearErrors(form);
  hideProblem(byId("forget-problem"));
  byId("forget-done").hidden = true;
  try {
    asked = accountNumberOf(field.value);
  } catch (error) {
    showError(field, error);
    field.focus();
    return;
  }
  byId("forget-question").textContent = `Forget the holder of account ${asked}? Its email address and password`
    + " hash are erased for good; its money movements stay in the log.";
  byId("forget-submit").hidden = true;
  byId("forget-confirm").hidden = false;
  byId("forget-cancel").focus();
}

async function forget() {
  const number = asked;
  const button = byId("forget-confirm-yes");
  setBusy(button, true);
  try {
    const { json } = await adminApi("POST", `/api/admin/accounts/${number}/forget`);
    const done = byId("forget-done");
    done.textContent = `The holder of account ${json.account_number} is forgotten (seq ${json.seq}).`;
    done.hidden = false;
    byId("forget-number").value = "";
  } catch (error) {
    showProblem(byId("forget-problem"), error);
  } finally {
    setBusy(button, false);
    reset();
    byId("forget-number").focus();
  }
}

byId("forget-form").addEventListener("submit", ask);
byId("forget-confirm-yes").addEventListener("click", forget);
byId("forget-cancel").addEventListener("click", () => {
  reset();
  byId("forget-submit").focus();
});

export const forgetView = {
  show() {},
  hide() {
    reset();
  },
};
