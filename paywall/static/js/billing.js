// Card forms and payment confirmation with Stripe.js (the release STRIPE_JS_URL names).
// Card details go from the browser to Stripe; only the confirmed SetupIntent (or, for a
// one-time payment, PaymentIntent) id is posted.
(function () {
  "use strict";

  var FALLBACK = "We couldn't check your card just now. Please try again.";

  // Clear the message box while a card is being checked.
  function clearError() {
    var box = document.getElementById("card-errors");
    if (box) { box.textContent = ""; }
  }

  // Say what went wrong (Stripe's message, or ours when it gave none) and move focus to
  // it, so the reader hears it and lands next to the card box.
  function showError(message) {
    var box = document.getElementById("card-errors");
    if (!box) { return; }
    box.textContent = message || FALLBACK;
    box.focus();
  }

  function setBusy(button, busy, label) {
    if (!button) { return; }
    if (busy) { button.dataset.label = button.textContent; button.textContent = label; }
    else if (button.dataset.label) { button.textContent = button.dataset.label; }
    button.disabled = busy;
  }

  function cardForm(form) {
    var stripe = Stripe(form.dataset.publishableKey);
    var card = stripe.elements().create("card");
    card.mount("#card-element");
    var button = document.getElementById("card-submit");
    var sent = false;
    var email = form.querySelector("input[type=email]");  // subscribing without an account
    form.addEventListener("submit", function (event) {
      if (sent) { return; }  // second pass: the confirmed form posts for real
      // "Apply" a promotion code: the server prices it; the card is not needed yet.
      if (event.submitter && event.submitter.name === "apply") { return; }
      event.preventDefault();
      // The card is confirmed once per form: check the email before, not after.
      if (email && (!email.value.trim() || !email.checkValidity())) {
        showError("Enter a valid email address first.");
        email.setAttribute("aria-invalid", "true");
        email.focus();
        return;
      }
      // A one-time payment (a gift) is confirmed here; otherwise the card is saved.
      var paying = form.dataset.intent === "payment";
      var data = {payment_method: {card: card}};
      setBusy(button, true, paying ? "Paying…" : "Checking your card…");
      clearError();
      (paying ? stripe.confirmCardPayment(form.dataset.clientSecret, data)
              : stripe.confirmCardSetup(form.dataset.clientSecret, data))
        .then(function (result) {
          if (result.error) {
            setBusy(button, false);
            showError(result.error.message);
            return;
          }
          if (paying) {
            document.getElementById("payment-intent-id").value = result.paymentIntent.id;
          } else {
            document.getElementById("setup-intent-id").value = result.setupIntent.id;
          }
          sent = true;
          setBusy(button, true, "Saving…");
          form.submit();
        });
    });
  }

  function confirmForm(form) {
    var stripe = Stripe(form.dataset.publishableKey);
    var button = document.getElementById("confirm-submit");
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) { return; }
      event.preventDefault();
      setBusy(button, true, "Confirming…");
      clearError();
      stripe.confirmCardPayment(form.dataset.clientSecret).then(function (result) {
        if (result.error) {
          setBusy(button, false);
          showError(result.error.message);
          return;
        }
        sent = true;
        form.submit();
      });
    });
  }

  var form = document.getElementById("card-form");
  if (form) { cardForm(form); }
  var confirm = document.getElementById("confirm-form");
  if (confirm) { confirmForm(confirm); }
})();
